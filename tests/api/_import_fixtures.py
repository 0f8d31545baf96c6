"""Spreadsheet builders for the import tests: files are generated, not committed."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(rows: list[list[Any]], bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "委员名册"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def upload(
    client,
    kind: str,
    data: bytes,
    headers: dict,
    *,
    name: str = "file.csv",
    ctype: str = "text/csv",
    dry_run: bool | None = None,
):
    url = f"/v1/{kind}:import" + ("" if dry_run is None else f"?dry_run={'true' if dry_run else 'false'}")
    return client.post(url, files={"file": (name, data, ctype)}, headers=headers)


def bad_cells(response) -> set[tuple[int, str]]:
    return {(e["row"], e["field"]) for e in response.json()["errors"]}
