"""Keyset (cursor) pagination in a stable id order.

A cursor is opaque to callers (base64 of the last id seen), so rows inserted
while an integrator pages never shift or repeat what it reads.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, String, any_, bindparam, type_coerce
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import UserDefinedType

from app.errors import invalid, msg
from app.models.base import EnumText, UTCDateTime

T = TypeVar("T")
#: Any select a filter narrows and hands back as it came (entities or document rows).
#: A select of any number of columns (the document rows of the read paths).
RowSelect = Select[*tuple[Any, ...]]
SelectT = TypeVar("SelectT", bound=RowSelect)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
        if not isinstance(value, int) or value < 0:
            raise ValueError
        return value
    except Exception:  # noqa: BLE001 - any malformed cursor is the caller's error
        raise invalid("cursor", msg("malformed_cursor")) from None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _keyset(stmt: RowSelect, id_column: Any, cursor: str | None, limit: int) -> RowSelect:
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(id_column > after)
    return stmt.order_by(id_column).limit(limit + 1)


def _page(rows: Sequence[Any], limit: int) -> Page[Any]:
    more = len(rows) > limit
    items = list(rows[:limit])
    return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more and items else None)


def paginate(session: Session, *, stmt: Select[Any], id_column: Any, cursor: str | None, limit: int) -> Page[Any]:
    """A page of ORM objects (``stmt`` selects one entity)."""
    return _page(list(session.scalars(_keyset(stmt, id_column, cursor, limit)).unique()), limit)


def read_rows(session: Session, stmt: RowSelect, params: dict[str, Any] | None = None) -> Result[*tuple[Any, ...]]:
    """The rows of a column select, executed on the session's connection (SQLAlchemy Core), for
    the read paths that never need ORM objects: the same rows and values as ``Session.execute``
    gives, without the ORM's execution layer, which processes every row again (about a quarter of
    a list request's CPU for a page of 100). Pending changes are flushed first, as the ORM would
    before a query, so a read inside a write still sees them.

    Take many rows with ``.all()``, not by iterating: that fetches them from psycopg in one
    ``fetchall`` instead of one ``fetchone`` per row (a page of 100 demands: 0.56 vs 0.63 ms)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection().execute(stmt, params)


def paginate_rows(session: Session, *, stmt: RowSelect, id_column: Any, cursor: str | None, limit: int) -> Page[Any]:
    """A page of plain rows (``stmt`` selects columns, one of them named ``id``): the fast path
    of read-only lists, which never need ORM objects."""
    return _page(read_rows(session, _keyset(stmt, id_column, cursor, limit)).all(), limit)


#: The last id of the previous page, in the pre-built statements of ``UnfilteredPages``.
_AFTER = "after"


class UnfilteredPages:
    """The keyset statements of a list without filters, built once per caller, page size and
    first-page-or-not, with the cursor's id as a bind parameter.

    Why: integrators poll the unfiltered lists. Building such a statement and generating its
    SQLAlchemy cache key took about 80 us per request (of a demands list's ~4.4 ms of CPU); a
    statement built once keeps its cache key. Filtered lists are built per request as before (a
    filter's values, e.g. times, vary without bound, and an area code is read from the database).
    ``unfiltered(session, caller)`` must not read the database. Bounded: past ``limit`` entries
    it starts again."""

    def __init__(self, unfiltered: Callable[[Session, Any], RowSelect], id_column: Any, *, limit: int = 512) -> None:
        self._unfiltered = unfiltered
        self._id_column = id_column
        self._limit = limit
        self._statements: dict[tuple[Any, bool, int], RowSelect] = {}

    def page(self, session: Session, caller: Any, *, cursor: str | None, limit: int) -> Page[Any]:
        """The page ``paginate_rows`` gives for the unfiltered statement: the same rows."""
        after = decode_cursor(cursor)
        key = (caller, after is not None, limit)
        stmt = self._statements.get(key)
        if stmt is None:
            stmt = self._unfiltered(session, caller)
            if after is not None:
                stmt = stmt.where(self._id_column > bindparam(_AFTER))
            stmt = stmt.order_by(self._id_column).limit(limit + 1)
            if len(self._statements) >= self._limit:
                self._statements.clear()
            self._statements[key] = stmt
        return _page(read_rows(session, stmt, None if after is None else {_AFTER: after}).all(), limit)


IdsMatch = Callable[[ColumnElement[int]], ColumnElement[bool]]


@dataclass(frozen=True)
class ForPageIds:
    """A statement over the rows that belong to one page's ids (bind parameter ``ids``, a list),
    in the form each database runs best; ``for_page_ids`` builds both once.

    Why: an expanding ``IN (...)`` is a new statement text per page size, with one parameter per
    id. PostgreSQL then plans it anew on every execution (a prepared statement with 100
    parameters never gets a generic plan) and psycopg re-parses the long text each time: about
    1.5 ms per such query for a page of 100. ``= ANY(:ids)`` with one array parameter is one
    short text that PostgreSQL plans once. SQLite has no arrays and plans the IN list cheaply.
    """

    expanding: RowSelect
    array: RowSelect

    def statement(self, session: Session) -> RowSelect:
        return self.array if session.get_bind().dialect.name == "postgresql" else self.expanding


def for_page_ids(build: Callable[[IdsMatch], RowSelect]) -> ForPageIds:
    """``build(match)`` returns the statement with ``match(column)`` as its "column is one of
    the page's ids" condition."""
    return ForPageIds(
        expanding=build(lambda column: column.in_(bindparam("ids", expanding=True))),
        array=build(lambda column: column == any_(bindparam("ids", type_=ARRAY(Integer)))),
    )


def _utc_from_text(value: str | None) -> datetime | None:
    """Stored UTC text (naive, as ``UTCDateTime`` writes it) to an aware datetime. The offset is
    appended to the text rather than set with ``replace(tzinfo=...)``: 0.24 vs 1.3 us a value, a
    few hundred values a page. Text that carries its own offset is read as it says."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class _StoredUTC(UserDefinedType[datetime]):
    """Reads a ``UTCDateTime`` column to the same aware UTC value in one step: SQLite's stored
    text parsed by ``datetime.fromisoformat``; PostgreSQL's driver value as it comes (psycopg
    already returns aware datetimes). ``UTCDateTime`` goes through three Python layers per value
    (the decorator, SQLAlchemy's text parser, the UTC tag), a few hundred values per page."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:  # never rendered: only used with type_coerce
        return "TIMESTAMP WITH TIME ZONE"

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:  # noqa: ARG002 - SQLAlchemy passes both
        return _utc_from_text if dialect.name == "sqlite" else None


_STORED_UTC = _StoredUTC()


def as_stored(column: InstrumentedAttribute[Any]) -> Any:
    """``column`` for a document row, read in the fewest steps to what the response shows: an
    enum column as its stored string (not the member), a timestamp as aware UTC (``_StoredUTC``).

    Why the string: a read-only document never needs the member, and the response serializes a
    plain ``str`` on pydantic-core's fast path (a member, a ``str`` subclass, costs about 2 us
    more per value, several per row).
    """
    if isinstance(column.type, EnumText):
        return type_coerce(column, String).label(column.key)
    if isinstance(column.type, UTCDateTime):
        return type_coerce(column, _STORED_UTC).label(column.key)
    return column


def row_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Document rows as dicts by column name: ``dict(zip(...))`` with the names read once is
    about four times faster than ``Row._asdict`` per row (0.15 vs 0.6 ms for a page of 100)."""
    if not rows:
        return []
    names = rows[0]._fields
    return [dict(zip(names, row, strict=True)) for row in rows]
