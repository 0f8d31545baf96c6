"""Read an uploaded spreadsheet into rows of raw cells.

Two formats: CSV in UTF-8 (with or without the BOM Excel writes for 'CSV UTF-8')
and XLSX (first/active worksheet, via openpyxl in read-only mode). The format is
decided by the bytes themselves first (an XLSX is a ZIP holding
``xl/workbook.xml``), then by the file name and content type, because browsers
and scripts label uploads inconsistently. Anything else is refused with 415 so
the caller knows to re-save the file, not to fix rows.

Line numbers are spreadsheet row numbers (the header is normally row 1), so a
bad-row report points at the row a clerk sees in Excel. Blank rows are skipped.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.errors import Problem

#: Rows beyond this (after the header) reject the file with 422; the body limit
#: (MATCHER_MAX_BODY_BYTES, 413) bounds the bytes, this bounds the work.
MAX_ROWS = 10_000
#: Columns beyond this are not read (guards against sheets whose declared
#: dimension spans thousands of empty columns).
MAX_COLUMNS = 100
#: How far down a header row is looked for (below title rows).
HEADER_SEARCH_ROWS = 5

_XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_CSV_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "text/comma-separated-values",
    "application/vnd.ms-excel",
}  # Windows browsers label .csv as vnd.ms-excel
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)


@dataclass(frozen=True)
class Row:
    line: int
    cells: list[Any]


@dataclass(frozen=True)
class Table:
    format: str  # csv | xlsx
    header_line: int
    headers: list[str]
    rows: list[Row]


def unsupported(detail: str) -> Problem:
    return Problem(
        415,
        "unsupported_media_type",
        detail,
        errors=[{"field": "file", "message": detail, "code": "unsupported_media_type"}],
    )


def detect_format(data: bytes, filename: str | None, content_type: str | None) -> str:
    """'csv' or 'xlsx', or raise 415."""
    name = (filename or "").lower()
    ctype = (content_type or "").split(";")[0].strip().lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                is_workbook = "xl/workbook.xml" in archive.namelist()
        except zipfile.BadZipFile:
            is_workbook = False
        if is_workbook:
            return "xlsx"
        raise unsupported("The file is a ZIP archive but not an XLSX workbook; upload .xlsx or UTF-8 .csv.")
    if data.startswith(_OLE_MAGIC):
        raise unsupported("Legacy .xls workbooks are not supported; save as .xlsx or CSV UTF-8.")
    if ext in {"xlsx", "xlsm"} or ctype in _XLSX_TYPES:
        raise unsupported("The file is labelled XLSX but is not a valid workbook.")
    looks_csv = ext in {"csv", "txt"} or ctype in _CSV_TYPES or (not ext and ctype in {"", "application/octet-stream"})
    if not looks_csv:
        raise unsupported(
            f"Unsupported file type ({filename or 'no name'}, {ctype or 'no content type'}); "
            "upload .xlsx or UTF-8 .csv."
        )
    if b"\x00" in data[:4096]:
        raise unsupported("The file is binary, not CSV text (UTF-16 text is not supported: use CSV UTF-8).")
    return "csv"


def _too_many_rows() -> Problem:
    return Problem(
        422,
        "too_many_rows",
        f"A file may hold at most {MAX_ROWS} data rows; split it.",
        errors=[{"row": 1, "field": "file", "message": f"more than {MAX_ROWS} data rows", "code": "too_many_rows"}],
    )


def _unreadable(detail: str) -> Problem:
    return Problem(
        422,
        "unreadable_file",
        detail,
        errors=[{"row": 1, "field": "file", "message": detail, "code": "unreadable_file"}],
    )


def _blank(cells: list[Any]) -> bool:
    return all(c is None or not str(c).strip() for c in cells)


#: Non-blank rows read at most: the data rows plus a header and a few title rows above it.
_MAX_READ = MAX_ROWS + HEADER_SEARCH_ROWS


def _read_csv(data: bytes) -> list[Row]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise unsupported("CSV files must be UTF-8 (Excel: 另存为 'CSV UTF-8'); this one is not.") from None
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        for number, cells in enumerate(reader, start=1):
            if _blank(cells):
                continue
            if len(rows) >= _MAX_READ:
                raise _too_many_rows()
            rows.append(Row(number, cells[:MAX_COLUMNS]))
    except csv.Error as exc:
        raise _unreadable(f"CSV is malformed near row {reader.line_num}: {exc}") from None
    return rows


def _read_xlsx(data: bytes) -> list[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _unreadable(f"The workbook cannot be read: {exc}") from None
    try:
        sheet = workbook.active or workbook.worksheets[0]
        rows: list[Row] = []
        for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if _blank(list(cells)):
                continue
            if len(rows) >= _MAX_READ:
                raise _too_many_rows()
            rows.append(Row(number, list(cells)))
    except Problem:
        raise
    except Exception as exc:  # a damaged sheet may only fail while its rows are read
        raise _unreadable(f"The workbook cannot be read: {exc}") from None
    finally:
        workbook.close()
    return rows


def read_table(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    is_header: Callable[[list[str]], bool] | None = None,
) -> Table:
    """Detect the format; return the header and the non-blank data rows below it.

    The header is the first non-blank row, unless ``is_header`` recognises one of the
    first few rows: offices often put a title row (朝阳区政协委员名册) above the header.
    """
    fmt = detect_format(data, filename, content_type)
    raw = _read_csv(data) if fmt == "csv" else _read_xlsx(data)
    if not raw:
        raise _unreadable("The file is empty; the first row must be the header row (column names).")
    texts = [["" if c is None else str(c).strip() for c in r.cells] for r in raw[:HEADER_SEARCH_ROWS]]
    at = next((i for i, cells in enumerate(texts) if is_header and is_header(cells)), 0)
    headers = texts[at]
    while headers and not headers[-1]:
        headers.pop()
    rows = raw[at + 1 :]
    if len(rows) > MAX_ROWS:
        raise _too_many_rows()
    return Table(fmt, raw[at].line, headers, rows)
