"""Read an uploaded spreadsheet into rows of raw cells.

Two formats: CSV and XLSX (first/active worksheet, via openpyxl in read-only mode).
CSV is decoded as UTF-8 (with or without the BOM Excel writes for 'CSV UTF-8'),
else as GB18030 (a superset of the GBK that Excel on Chinese Windows writes for
plain 'CSV'); text that is neither is refused with 415 ``unsupported_encoding``.

An XLSX is a ZIP: before openpyxl inflates anything, the declared inflated size
of its parts and the number of sheet rows are bounded (``MATCHER_IMPORT_MAX_*``),
so a small "zip bomb" is refused in milliseconds instead of being parsed. The
declared sizes can be trusted as bounds: ``zipfile`` never inflates a member past
its declared size (a lying archive fails its CRC check and is unreadable). The format is
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
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.errors import Msg, Problem, field_error, msg

#: Rows beyond this (after the header) reject the file with 422; the body limit
#: (MATCHER_MAX_BODY_BYTES, 413) bounds the bytes, this bounds the work.
#: The default of ``MATCHER_IMPORT_MAX_ROWS``.
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


def unsupported(detail: Msg) -> Problem:
    return Problem(
        415, "unsupported_media_type", detail, errors=[field_error("file", detail, "unsupported_media_type")]
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
        raise unsupported(msg("import_zip_not_xlsx"))
    if data.startswith(_OLE_MAGIC):
        raise unsupported(msg("import_legacy_xls"))
    if ext in {"xlsx", "xlsm"} or ctype in _XLSX_TYPES:
        raise unsupported(msg("import_bad_xlsx"))
    looks_csv = ext in {"csv", "txt"} or ctype in _CSV_TYPES or (not ext and ctype in {"", "application/octet-stream"})
    if not looks_csv:
        raise unsupported(msg("import_unknown_type", filename=filename or "-", content_type=ctype or "-"))
    if b"\x00" in data[:4096]:
        raise unsupported(msg("import_binary"))
    return "csv"


@dataclass(frozen=True)
class Limits:
    """How much one uploaded file may make the server do (from ``MATCHER_IMPORT_*``)."""

    max_rows: int = MAX_ROWS
    max_sheet_rows: int = 50_000
    max_inflated_bytes: int = 50 * 1024 * 1024

    @classmethod
    def from_settings(cls) -> Limits:
        from app.settings import get_settings

        settings = get_settings()
        return cls(settings.import_max_rows, settings.import_max_sheet_rows, settings.import_max_inflated_bytes)


def _too_many_rows(limit: int, counted: str = "data_rows") -> Problem:
    """``counted`` is ``data_rows`` or ``sheet_rows`` (blank rows of a worksheet count too)."""
    return Problem(
        422,
        "too_many_rows",
        msg(f"too_many_{counted}", limit=limit),
        errors=[field_error("file", msg(f"more_{counted}", limit=limit), "too_many_rows", row=1)],
    )


def _unreadable(detail: Msg) -> Problem:
    return Problem(422, "unreadable_file", detail, errors=[field_error("file", detail, "unreadable_file", row=1)])


def _blank(cells: list[Any]) -> bool:
    return all(c is None or not str(c).strip() for c in cells)


def decode_csv(data: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030 (which reads every GBK/GB2312 file), else 415.

    UTF-8 is tried first because a GB18030 decoder accepts many UTF-8 byte sequences
    (as the wrong characters), while GBK text is almost never valid UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        detail = msg("unsupported_encoding", offset=exc.start)
        raise Problem(
            415, "unsupported_encoding", detail, errors=[field_error("file", detail, "unsupported_encoding")]
        ) from None


def _read_csv(data: bytes, limits: Limits) -> list[Row]:
    content = decode_csv(data)
    max_read = limits.max_rows + HEADER_SEARCH_ROWS
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        for number, cells in enumerate(reader, start=1):
            if _blank(cells):
                continue
            if len(rows) >= max_read:
                raise _too_many_rows(limits.max_rows)
            rows.append(Row(number, cells[:MAX_COLUMNS]))
    except csv.Error as exc:
        raise _unreadable(msg("csv_malformed", line=reader.line_num, error=exc)) from None
    return rows


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,10}:)?row[\s/>]")


def check_workbook_bounds(data: bytes, limits: Limits) -> None:
    """Refuse an XLSX whose parts inflate past the limit (413) or whose sheets hold too many
    rows (422), reading only the ZIP directory and streaming the sheet XML once through a
    counter, so a zip bomb costs milliseconds and openpyxl never sees it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            inflated = sum(info.file_size for info in infos)
            if inflated > limits.max_inflated_bytes:
                detail = msg("workbook_too_large", inflated=inflated, limit=limits.max_inflated_bytes)
                raise Problem(
                    413, "workbook_too_large", detail, errors=[field_error("file", detail, "workbook_too_large")]
                )
            sheets = [i for i in infos if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
            for info in sheets:
                if _count_rows(archive, info) > limits.max_sheet_rows:
                    raise _too_many_rows(limits.max_sheet_rows, "sheet_rows")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise _unreadable(msg("workbook_unreadable", error=exc)) from None


def _count_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo, chunk: int = 1 << 20) -> int:
    """Row elements in one worksheet part, counted on the raw XML in 1 MiB chunks.

    A match ending inside the carried-over tail was counted with the previous chunk.
    """
    count = 0
    tail = b""
    with archive.open(info) as part:
        while block := part.read(chunk):
            window = tail + block
            count += sum(1 for m in _ROW_TAG.finditer(window) if m.end() > len(tail))
            tail = window[-32:]
    return count


def _read_xlsx(data: bytes, limits: Limits) -> list[Row]:
    from openpyxl import load_workbook

    check_workbook_bounds(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _unreadable(msg("workbook_unreadable", error=exc)) from None
    max_read = limits.max_rows + HEADER_SEARCH_ROWS
    try:
        sheet = workbook.active or workbook.worksheets[0]
        rows: list[Row] = []
        for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if number > limits.max_sheet_rows:  # openpyxl pads rows a sheet skips; count those too
                raise _too_many_rows(limits.max_sheet_rows, "sheet_rows")
            if _blank(list(cells)):
                continue
            if len(rows) >= max_read:
                raise _too_many_rows(limits.max_rows)
            rows.append(Row(number, list(cells)))
    except Problem:
        raise
    except Exception as exc:  # a damaged sheet may only fail while its rows are read
        raise _unreadable(msg("workbook_unreadable", error=exc)) from None
    finally:
        workbook.close()
    return rows


def read_table(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    is_header: Callable[[list[str]], bool] | None = None,
    limits: Limits | None = None,
) -> Table:
    """Detect the format; return the header and the non-blank data rows below it.

    The header is the first non-blank row, unless ``is_header`` recognises one of the
    first few rows: offices often put a title row (朝阳区政协委员名册) above the header.
    """
    limits = limits or Limits.from_settings()
    fmt = detect_format(data, filename, content_type)
    raw = _read_csv(data, limits) if fmt == "csv" else _read_xlsx(data, limits)
    if not raw:
        raise _unreadable(msg("import_empty"))
    texts = [["" if c is None else str(c).strip() for c in r.cells] for r in raw[:HEADER_SEARCH_ROWS]]
    at = next((i for i, cells in enumerate(texts) if is_header and is_header(cells)), 0)
    headers = texts[at]
    while headers and not headers[-1]:
        headers.pop()
    rows = raw[at + 1 :]
    if len(rows) > limits.max_rows:
        raise _too_many_rows(limits.max_rows)
    return Table(fmt, raw[at].line, headers, rows)
