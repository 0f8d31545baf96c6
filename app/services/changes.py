"""The integrator change feed: every create/update/delete of demands, assignments,
optimization runs and duty records, in commit order, behind a cursor.

Recording is automatic. Importing this module registers listeners on the
``Session`` *class*, so every session in the process records changes and no
service can forget to:

* ``after_flush`` notes which tracked rows a flush created, updated or deleted
  (and whether an optimization run became ``published``);
* ``do_orm_execute`` notes rows hit by bulk ``UPDATE``/``DELETE`` statements
  (they bypass the flush), by selecting them with the statement's own WHERE first;
* ``before_commit`` (outermost transaction only) flushes, re-reads the final
  state of every noted row and inserts one ``ChangeEvent`` per row, in the same
  transaction as the change itself. Several updates of one row in one
  transaction become one event with the final state; a row created and deleted
  again inside the transaction never existed for readers and yields nothing.

Why the cursor never skips (PostgreSQL)
---------------------------------------
The cursor is ``change_events.id``, taken from a sequence at INSERT time. With
concurrent writers that alone is not safe: T1 draws id 10, T2 draws 11 and
commits first; a reader sees 11, moves its cursor past 10 and never sees 10
when T1 commits. We therefore take ``pg_advisory_xact_lock(CHANGE_FEED_LOCK)``
immediately before inserting the events. The lock is released only when the
transaction ends, *after* its commit became visible, so a transaction draws ids
only after every earlier event-writing transaction is visible (or rolled back):
ids become visible strictly in order and every reader sees a gap-free prefix.

We chose this over the alternatives because it is simple and exact: a counter row
updated under lock has the same serialisation with more moving parts, and
filtering by ``pg_snapshot_xmin`` makes every reader wait for the oldest open
transaction in the whole database (including ones that never touch the feed).
The cost is that event-writing commits are serialised, but only for the last
moment of each transaction: the lock is taken in ``before_commit``, after all
of the transaction's own work, and the holder waits on nothing else before
committing, so it cannot take part in a deadlock. SQLite serialises writers
anyway (one write transaction at a time), so no lock is needed there.

Not seen by the feed: Core statements run on a bare ``Connection`` (outside a
``Session``), and a commit of the outer transaction while a SAVEPOINT is still
open. Services use the ORM session, so neither happens in this code base.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Delete, String, Table, Text, Update, cast, event, func, insert, select, type_coerce
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.domain.enums import ChangeKind, EntityType, Role, RunStatus
from app.errors import invalid, msg
from app.models import Assignment, ChangeEvent, Demand, DutyRecord, OptimizationRun
from app.models.base import Base, table_of
from app.services.identity import Caller

#: Key of the transaction-scoped advisory lock that orders change-writing commits ("matcher" feed).
CHANGE_FEED_LOCK = 0x6D61_7463_6865_72  # ascii "matcher"

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100

#: Tracked models and their entity type names in the feed. Within one flush, rows are
#: recorded in this order (parents first: the run and demand before their assignments),
#: then by id, so the order of a transaction's events is deterministic.
TRACKED: dict[type[Base], EntityType] = {
    Demand: EntityType.DEMAND,
    OptimizationRun: EntityType.OPTIMIZATION_RUN,
    Assignment: EntityType.ASSIGNMENT,
    DutyRecord: EntityType.DUTY_RECORD,
}
#: Bookkeeping kind of a row created and deleted in one transaction (never shown in the feed).
_CREATED_DELETED = "created_deleted"
_RANK = {model: rank for rank, model in enumerate(TRACKED)}
_TABLES: dict[str, tuple[type[Base], Table]] = {table_of(m).name: (m, table_of(m)) for m in TRACKED}
_INFO_KEY = "matcher_change_feed"
_CHUNK = 500


@dataclass
class _Noted:
    """What one transaction did to one row, folded over its flushes."""

    kind: str  # created | updated | deleted
    published: bool = False
    last_state: dict[str, Any] | None = None  # for deletes: the row as last seen


@dataclass
class _Pending:
    rows: dict[tuple[type, int], _Noted] = field(default_factory=dict)  # insertion order = first touch

    def note(
        self, model: type, ident: int, kind: str, *, published: bool = False, state: dict[str, Any] | None = None
    ) -> None:
        key = (model, ident)
        prior = self.rows.get(key)
        if prior is None:
            self.rows[key] = _Noted(kind, published, state)
            return
        if kind == ChangeKind.DELETED:
            prior.kind = ChangeKind.DELETED if prior.kind != ChangeKind.CREATED else _CREATED_DELETED
            prior.last_state = state or prior.last_state
        elif prior.kind in (
            ChangeKind.DELETED,
            _CREATED_DELETED,
        ):  # re-inserted with the same id: rare, treat as update
            prior.kind = ChangeKind.UPDATED
        prior.published = prior.published or published


def _pending(session: Session) -> _Pending:
    pending = session.info.get(_INFO_KEY)
    if pending is None:
        pending = session.info[_INFO_KEY] = _Pending()
    return pending


# --------------------------------------------------------------------------- snapshots


def _json_value(value: Any) -> Any:
    """Column values as JSON: aware UTC ISO datetimes on both databases."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _row_state(table: Table, row: Any) -> dict[str, Any]:
    mapping = row._mapping
    return {c.name: _json_value(mapping[c]) for c in table.columns}


def _object_state(obj: Any) -> dict[str, Any]:
    """The columns an ORM object has loaded (used for deleted rows)."""
    table = table_of(type(obj))
    loaded = obj.__dict__
    return {
        c.key: _json_value(loaded[c.key])
        for c in sa_inspect(type(obj)).column_attrs
        if c.key in loaded and c.columns[0].table is table
    }


# --------------------------------------------------------------------------- recording hooks


def _tracked(obj: Any) -> type | None:
    for model in TRACKED:
        if isinstance(obj, model):
            return model
    return None


def _became_published(obj: Any) -> bool:
    if not isinstance(obj, OptimizationRun):
        return False
    history = sa_inspect(obj).attrs.status.history
    return RunStatus.PUBLISHED in (history.added or ())


def _in_order(objects: Any) -> list[tuple[type, Any]]:
    tracked = [(model, obj) for obj in objects if (model := _tracked(obj)) is not None]
    return sorted(tracked, key=lambda pair: (_RANK[pair[0]], pair[1].id))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context: Any) -> None:
    # The new/dirty/deleted collections still show the pre-flush picture here.
    for model, obj in _in_order(session.new):
        _pending(session).note(model, obj.id, ChangeKind.CREATED)
    for model, obj in _in_order(session.dirty):
        if session.is_modified(obj, include_collections=True):
            _pending(session).note(model, obj.id, ChangeKind.UPDATED, published=_became_published(obj))
    for model, obj in _in_order(session.deleted):
        _pending(session).note(model, obj.id, ChangeKind.DELETED, state=_object_state(obj))


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE skip the flush: find their rows with the statement's own WHERE first."""
    stmt = state.statement
    if not isinstance(stmt, (Update, Delete)):
        return
    name = getattr(stmt.table, "name", None)
    hit = _TABLES.get(name) if isinstance(name, str) else None
    if hit is None:
        return
    model, table = hit
    session = state.session
    kind = ChangeKind.DELETED if isinstance(stmt, Delete) else ChangeKind.UPDATED
    params = state.parameters
    if isinstance(params, list) and params and all("id" in p for p in params):  # ORM bulk UPDATE by primary key
        rows = _select_rows(session, table, [p["id"] for p in params])
        sets_published = any(p.get("status") == RunStatus.PUBLISHED for p in params)
    else:
        query = select(table) if stmt.whereclause is None else select(table).where(stmt.whereclause)
        rows = list(session.execute(query, params if isinstance(params, dict) else {}))
        sets_published = isinstance(stmt, Update) and _sets_status_published(stmt)
    for r in rows:
        if kind == ChangeKind.DELETED:
            _pending(session).note(model, r.id, kind, state=_row_state(table, r))
        else:
            published = model is OptimizationRun and sets_published and r.status != RunStatus.PUBLISHED
            _pending(session).note(model, r.id, kind, published=published)


def _sets_status_published(stmt: Update) -> bool:
    for col, value in stmt._values.items() if stmt._values else ():  # private: Update has no public accessor
        name = getattr(col, "key", col)
        if name == "status" and getattr(value, "value", value) == RunStatus.PUBLISHED:
            return True
    return False


def _select_rows(session: Session, table: Table, ids: list[int]) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(ids), _CHUNK):
        rows += list(session.execute(select(table).where(table.c.id.in_(ids[i : i + _CHUNK]))))
    return rows


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT commit: the outer commit writes the events
        return
    session.flush()  # commit flushes only after this hook; we need the final state in the database
    pending: _Pending = session.info.pop(_INFO_KEY, None) or _Pending()
    if not pending.rows:
        return
    by_model: dict[type, list[int]] = {}
    for model, ident in pending.rows:
        by_model.setdefault(model, []).append(ident)
    current: dict[tuple[type, int], Any] = {}
    for model, ids in by_model.items():
        for row in _select_rows(session, table_of(model), ids):
            current[(model, row.id)] = row
    events: list[dict[str, Any]] = []
    kind: str  # a ChangeKind, or the bookkeeping kind of what the transaction did to the row
    for (model, ident), noted in pending.rows.items():
        row = current.get((model, ident))
        if row is None:
            if noted.kind in (ChangeKind.CREATED, _CREATED_DELETED) or noted.last_state is None:
                continue  # never visible outside this transaction (or rolled back in a savepoint)
            state, kind = noted.last_state, ChangeKind.DELETED
        else:
            state = _row_state(table_of(model), row)
            kind = ChangeKind.UPDATED if noted.kind in (ChangeKind.DELETED, _CREATED_DELETED) else noted.kind
            if kind == ChangeKind.UPDATED and noted.published and state.get("status") == RunStatus.PUBLISHED:
                kind = ChangeKind.PUBLISHED
        events.append(
            {
                "district_id": state["district_id"],
                "entity_type": TRACKED[model],
                "entity_id": ident,
                "change_kind": kind,
                "area_id": state.get("area_id"),
                "state": state,
            }
        )
    if not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Held until COMMIT/ROLLBACK: orders the ids below by commit (see the module docstring).
        session.execute(select(func.pg_advisory_xact_lock(CHANGE_FEED_LOCK)))
    session.execute(insert(table_of(ChangeEvent)), events)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outer transaction is gone: forget what it did
        session.info.pop(_INFO_KEY, None)


# --------------------------------------------------------------------------- the feed


@dataclass
class FeedPage:
    """Feed rows (attribute access like a ChangeEvent: id, entity_type, ..., state, created_at).

    Plain rows, not ORM objects: a page of 1000 events would otherwise build and track 1000
    identity-mapped instances nobody changes, a large share of the feed's time.
    """

    items: Sequence[Any]
    next_cursor: str


_FEED_COLUMNS = (
    ChangeEvent.id,
    ChangeEvent.district_id,
    ChangeEvent.entity_type,
    ChangeEvent.entity_id,
    ChangeEvent.change_kind,
    ChangeEvent.area_id,
    ChangeEvent.state,
    ChangeEvent.created_at,
)


def parse_cursor(after: str | None) -> int:
    """The cursor is the decimal id of the last event seen ("0" = from the start)."""
    if after is None or after == "":
        return 0
    # isascii: str.isdigit() also accepts digits such as "²" that int() refuses; the bound keeps
    # the value inside PostgreSQL's bigint (and SQLite's integer), which a 19-digit number may exceed.
    if not (after.isascii() and after.isdigit()) or len(after) > 19 or int(after) > 2**63 - 1:
        raise invalid("after", msg("feed_cursor"))
    return int(after)


#: The columns of a ``raw_state`` page, in the order its rows unpack (``change_page_json``).
RAW_FEED_FIELDS = ("id", "entity_type", "entity_id", "change_kind", "area_id", "state", "created_at")


def _raw_feed_columns() -> tuple[Any, ...]:
    """Core columns (no ORM row loading), kinds as the stored strings (no enum round trip),
    ``state`` as its stored JSON text: what the API writes out, read as cheaply as it can be."""
    table = table_of(ChangeEvent)
    c = table.c
    return (
        c.id,
        type_coerce(c.entity_type, String).label("entity_type"),
        c.entity_id,
        type_coerce(c.change_kind, String).label("change_kind"),
        c.area_id,
        cast(c.state, Text).label("state"),
        c.created_at,
    )


def read_changes(
    session: Session, caller: Caller, *, after: str | None, limit: int = DEFAULT_LIMIT, raw_state: bool = False
) -> FeedPage:
    """Events after the cursor in commit order; liaisons see only their area's events.

    With ``raw_state`` the rows hold the values as stored (``RAW_FEED_FIELDS``): ``state`` is
    the stored JSON text, not decoded, and the kinds are plain strings; the API writes them into
    the response as they are, instead of decoding and re-encoding every document.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", msg("between", low=1, high=MAX_LIMIT))
    position = parse_cursor(after)
    c = table_of(ChangeEvent).c
    stmt = select(*(_raw_feed_columns() if raw_state else _FEED_COLUMNS)).where(
        c.district_id == caller.district_id, c.id > position
    )
    if caller.role == Role.LIAISON:
        stmt = stmt.where(c.area_id == caller.area_id)
    items = session.execute(stmt.order_by(c.id).limit(limit)).all()
    return FeedPage(items=items, next_cursor=str(items[-1].id) if items else str(position))


def latest_change_id(session: Session, *, district_id: int) -> int:
    return (
        session.scalar(select(func.coalesce(func.max(ChangeEvent.id), 0)).where(ChangeEvent.district_id == district_id))
        or 0
    )
