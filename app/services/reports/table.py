"""A flat table: the one shape CSV, XLSX and the CLI's text output are written from."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    """Rows of dicts with an ordered set of columns.

    ``columns`` pairs a machine key (the CSV header, stable for integrators) with a
    Chinese label (the XLSX header and the CLI, for office staff).
    """

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.columns]

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.columns]

    def values(self, row: dict[str, Any]) -> list[Any]:
        return [cell(row.get(k)) for k in self.keys]


def cell(value: Any) -> Any:
    """Lists become 'a;b', dicts 'k=v;k=v', floats are rounded; None stays empty."""
    if value is None:
        return None
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.keys)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in table.values(row)])
    return out.getvalue()


_FORMULA_START = ("=", "+", "-", "@")


def to_xlsx(*tables: Table) -> bytes:
    """One sheet per table, Chinese headers in row 1 and a bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        name = _sheet_name(table.title, used)
        ws = wb.create_sheet(name)
        ws.append([_xlsx_safe(label) for label in table.labels])
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in table.rows:
            ws.append([_xlsx_safe(v) for v in table.values(row)])
            for c in ws[ws.max_row]:
                if isinstance(c.value, str) and c.value[:1] in _FORMULA_START:
                    c.data_type = "s"  # data from the field is text, never a spreadsheet formula
        ws.freeze_panes = "A2"
        for i, label in enumerate(table.labels, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(label) * 2 + 2)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_safe(value: Any) -> Any:
    """XLSX cannot hold control characters (\\x00-\\x1f but tab/newline); stored text may
    (a name typed with one, or imported): show U+FFFD there rather than fail the whole export."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def _sheet_name(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in _xlsx_safe(title) if ch not in "[]:*?/\\\ufffd")[:28] or "sheet"
    name, n = base, 2
    while name in used:
        name, n = f"{base}{n}", n + 1
    used.add(name)
    return name


def to_text(table: Table) -> str:
    """An aligned plain-text table for the terminal (CJK characters count double)."""
    rows = [table.labels] + [[_clip("" if v is None else str(v)) for v in table.values(r)] for r in table.rows]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(table.columns))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(v + " " * (w - _width(v)) for v, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _clip(text: str, limit: int = 48) -> str:
    """Long cells (lists of names) are cut for the terminal; CSV/XLSX carry them whole."""
    if _width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
