"""The import transaction shared by members and demands.

Flow, for one uploaded file:

1. read the table (415 for a format we do not read, 422 for too many rows);
2. map the headers (a missing required column rejects the file at the header row);
3. parse and check EVERY row against the district's reference data, loaded
   once (areas, groups, communities, the skill catalogue, members), collecting
   every bad cell instead of stopping at the first;
4. write the rows that parsed through the ordinary member/demand services, in
   file order, inside one transaction (the stored objects they update are
   loaded up front in a few queries); a service refusing a row adds to the
   report, it does not stop it. An importer may check rows in ``apply`` and
   store them together in ``finish`` instead of a flush per row (members: new
   ones in one bulk INSERT or COPY, changed ones in a few executemany statements);
5. any bad row: roll back and raise one 422 listing them all; ``dry_run``: roll
   back and return the report; otherwise commit.

So a file is imported entirely or not at all, and a dry run exercises exactly
the checks (including uniqueness against stored rows) that a real run would.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Msg, Problem, field_error, msg
from app.models.base import Base
from app.services.identity import Caller
from app.services.imports.columns import Column, HeaderMap, looks_like_header, map_headers
from app.services.imports.files import read_table
from app.services.imports.values import is_blank

#: How many bad rows' errors the 422 lists at most (the count is always exact).
MAX_REPORTED_ERRORS = 1000


@dataclass
class RowResult:
    row: int
    external_id: str | None
    action: str  # created | updated | unchanged
    id: int | None = None


@dataclass
class ImportReport:
    kind: str  # members | demands
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    items: list[RowResult] = field(default_factory=list)

    def count(self, result: RowResult) -> None:
        self.items.append(result)
        setattr(self, result.action, getattr(self, result.action) + 1)


class RowErrors:
    """Every bad cell of the file, as {row, field, column, message, code}."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.items: list[dict[str, Any]] = []
        self.rows: set[int] = set()
        self._fields: dict[int, set[str]] = {}

    def add(self, row: int, field_name: str, message: str | Msg, code: str = "invalid") -> None:
        """A ``Msg`` message (a service rule's sentence) is given in the caller's language."""
        column = {"column": self.labels[field_name]} if field_name in self.labels else {}
        entry = field_error(field_name, message, code, row=row, **column)
        self.items.append(entry)
        self.rows.add(row)
        self._fields.setdefault(row, set()).add(field_name)

    def add_problem(self, row: int, problem: Problem, rename: dict[str, str]) -> None:
        for err in problem.errors or [field_error("row", problem.text or problem.detail or problem.code, problem.code)]:
            name = str(err.get("field") or "row")
            text = getattr(err, "text", None)
            message = text if isinstance(text, Msg) else str(err.get("message"))
            self.add(row, rename.get(name, name), message, str(err.get("code") or problem.code))

    def add_validation(self, row: int, exc: ValidationError, rename: dict[str, str]) -> None:
        """Schema errors, except for fields whose cell was already reported (their value is missing)."""
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            name = rename.get(loc[0], loc[0]) if loc else "row"
            if name not in self._fields.get(row, ()):
                self.add(row, name, err.get("msg", "invalid"), err.get("type", "invalid"))

    def __bool__(self) -> bool:
        return bool(self.items)


class RowCells:
    """One row's cells by field name; absent columns read as blank."""

    def __init__(self, line: int, cells: list[Any], header: HeaderMap) -> None:
        self.line = line
        self._cells = cells
        self._header = header

    def present(self, name: str) -> bool:
        return name in self._header.fields

    def get(self, name: str) -> Any:
        index = self._header.fields.get(name)
        if index is None or index >= len(self._cells):
            return None
        value = self._cells[index]
        return None if is_blank(value) else value


P = TypeVar("P", bound=BaseModel)


@dataclass
class ParsedRow(Generic[P]):
    line: int
    external_id: str | None
    payload: P  # the Create schema, fully validated
    present: set[str]  # payload fields whose column is in the file (an update changes only these)


def finish_row(
    importer: Any,
    schema: type[P],
    data: dict[str, Any],
    cells: RowCells,
    errors: RowErrors,
    errors_before: int,
    external_id: str | None,
    field_of: dict[str, str],
    ignore: tuple[str, ...] = (),
) -> ParsedRow[P] | None:
    """Validate a row's values with the API's own Create schema and note which fields the file carries.

    Schema errors are reported too (not only the parser's), so one upload shows every bad cell of
    the row; a row with any error yields None.
    """
    try:
        payload = schema.model_validate(data)
    except ValidationError as exc:
        errors.add_validation(cells.line, exc, importer.rename)
        return None
    if len(errors.items) > errors_before:
        return None
    present = {field_of.get(c.field, c.field) for c in importer.columns if cells.present(c.field)}
    present.difference_update(ignore)
    return ParsedRow(cells.line, external_id, payload, present)


class Importer(Protocol[P]):
    kind: str
    columns: tuple[Column, ...]
    rename: dict[str, str]  # schema/service field -> import field, for error reports

    def load(self, session: Session, caller: Caller) -> None: ...
    def prefetch(self, session: Session, rows: list[ParsedRow[P]]) -> None: ...
    def parse(self, cells: RowCells, errors: RowErrors) -> ParsedRow[P] | None: ...
    def apply(self, session: Session, caller: Caller, row: ParsedRow[P]) -> RowResult: ...
    def finish(self, session: Session, caller: Caller, errors: RowErrors) -> None: ...


def run_import(
    session: Session,
    caller: Caller,
    *,
    importer: Importer[Any],
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a whole file in one transaction; see the module docstring."""
    with cycle_collector_paused():
        return _run_import(
            session, caller, importer=importer, data=data, filename=filename, content_type=content_type, dry_run=dry_run
        )


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is imported, back on afterwards.

    An import builds hundreds of thousands of small containers (cells, payloads, rows, audit
    documents) that reference counting frees on its own; each one counts towards the
    collector's next pass, and every full pass walks the whole process heap. On a 10,000-row
    file that was a fifth of the import's time. Process-wide, so other threads' cyclic garbage
    waits for the seconds an import takes; only the import that paused the collector resumes it.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _run_import(
    session: Session,
    caller: Caller,
    *,
    importer: Importer[Any],
    data: bytes,
    filename: str | None,
    content_type: str | None,
    dry_run: bool,
) -> ImportReport:
    table = read_table(data, filename, content_type, looks_like_header(importer.columns))
    header = map_headers(table.headers, importer.columns, table.header_line)
    errors = RowErrors(header.labels)
    for err in header.errors:
        errors.add(err["row"], err["field"], err["message"], err["code"])
    if errors:
        _reject(session, errors, len(table.rows))
    report = ImportReport(kind=importer.kind, dry_run=dry_run, rows=len(table.rows), ignored_columns=header.ignored)
    importer.load(session, caller)
    parsed = [importer.parse(RowCells(r.line, r.cells, header), errors) for r in table.rows]
    good = [row for row in parsed if row is not None and row.line not in errors.rows]
    importer.prefetch(session, good)
    for row in good:
        try:
            report.count(importer.apply(session, caller, row))
        except Problem as exc:
            errors.add_problem(row.line, exc, importer.rename)
        except (IntegrityError, StaleDataError) as exc:
            # The session cannot go on after a failed flush: report this row and stop writing.
            session.rollback()
            errors.add(
                row.line,
                "row",
                "conflicts with stored data (changed concurrently, or a duplicate): " + type(exc).__name__,
                "conflict",
            )
            break
        except SQLAlchemyError:
            session.rollback()
            raise
    if not errors:  # rows the importer writes together (a rejected file skips the writing)
        importer.finish(session, caller, errors)
    if errors:
        _reject(session, errors, len(table.rows))
    if dry_run:
        session.rollback()
        for item in report.items:
            if item.action == "created":
                item.id = None  # flushed ids were rolled back with everything else
    else:
        session.flush()  # the caller's unit of work commits (API request or CLI session_scope)
    return report


def _reject(session: Session, errors: RowErrors, rows: int) -> None:
    session.rollback()
    items = sorted(errors.items, key=lambda e: e["row"])
    bad = sorted(errors.rows)
    detail = msg("import_rejected", bad=len(bad), rows=rows)
    raise Problem(
        422, "import_rejected", detail, errors=items[:MAX_REPORTED_ERRORS], bad_rows=bad, error_count=len(items)
    )


def load_by_ids(session: Session, *, model: type[Base], ids: list[int], chunk: int = 500) -> list[Any]:
    """Load rows (and their eager relationships) into the session in a few IN queries, so that
    the per-row ``session.get`` of the services is answered from the identity map. The caller
    keeps the returned list alive: the identity map only holds weak references."""
    (key,) = sa_inspect(model).primary_key
    loaded: list[Any] = []
    for start in range(0, len(ids), chunk):
        loaded += session.scalars(select(model).where(key.in_(ids[start : start + chunk]))).unique().all()
    return loaded
