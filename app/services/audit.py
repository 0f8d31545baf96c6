"""The audit trail: who changed what and when, written in the same transaction as the change.

Recording is automatic, like the change feed (``app.services.changes``): importing this module
registers an ``after_flush`` listener on the ``Session`` class that writes one ``AuditEvent`` per
row a flush created, updated or deleted, with the changed fields before and after (phones and
e-mail addresses masked, secrets never). The rows go out on the flush's own connection, so a
rolled-back transaction leaves no audit row, and a committed change always has its row.

Who: the request's caller (key id, role, acting-as district) is put on ``session.info`` by the
API's ``get_caller``, the console's ``signed_in`` and the personal-link pages (a contextvar would
not survive FastAPI's thread hops between dependency and handler); the CLI and the worker set
``current_actor``. A change with no actor known is recorded as ``system``.

Not recorded: bookkeeping tables (the feed, deliveries, idempotency records, the trail itself),
fields that change on every touch (``updated_at``, ``version``, heartbeats, progress, last use),
Bulk ``INSERT``/``UPDATE``/``DELETE`` statements bypass the flush: services issue them through
``audited_insert`` / ``audited_update`` / ``audited_delete``, which write one audit row per row
in the same transaction (for an insert the row as given, with the id it was stored under; for
an update the new values of the changed columns, read back with ``RETURNING``, the old ones are
not read; for a delete the row as it was). A bulk writer that stands in for a flush whose
stored rows it has read (the importer's member updates) uses ``audited_update_rows`` (before and
after, as a flush records them) and ``delete_orphans`` inside ``as_one_flush``, so its trail is
the one the flush would have written, in the same order. The application has
no update or delete path for audit rows; a flush that tries one is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, event, func, insert, select, tuple_, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.db import rowcount
from app.domain.enums import ActorKind, AuditAction, Role
from app.errors import Problem, invalid, msg
from app.models import AuditEvent, ChangeEvent, District, IdempotencyRecord, WebhookDelivery
from app.models.base import table_of, utcnow
from app.services.bulk_insert import insert_rows
from app.services.changes import _json_value
from app.services.identity import Caller
from app.services.pagination import Page, paginate


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    key_id: int | None = None
    role: str | None = None
    acting_as: str | None = None
    request_id: str | None = None

    @classmethod
    def for_caller(cls, caller: Caller, *, request_id: str | None = None) -> Actor:
        return cls(
            ActorKind.API_KEY,
            caller.name,
            key_id=caller.api_key_id or None,
            role="platform" if caller.acting_as else caller.role,
            acting_as=caller.acting_as,
            request_id=request_id,
        )

    @classmethod
    def for_console(cls, caller: Caller, *, request_id: str | None = None) -> Actor:
        """Office staff in the console act as the key they signed in with."""
        return cls(ActorKind.CONSOLE, caller.name, key_id=caller.api_key_id, role=caller.role, request_id=request_id)

    @classmethod
    def for_member_link(cls, *, member_id: int, link_id: int, request_id: str | None = None) -> Actor:
        """A member answering through a personal link: no key, the link is the credential."""
        return cls(ActorKind.MEMBER_LINK, f"member {member_id} link {link_id}", request_id=request_id)


SYSTEM = Actor(ActorKind.SYSTEM, "system")
current_actor: ContextVar[Actor | None] = ContextVar("matcher_audit_actor", default=None)
_INFO_KEY = "matcher_audit_actor"

SKIPPED_TABLES = {t.__tablename__ for t in (AuditEvent, ChangeEvent, WebhookDelivery, IdempotencyRecord)}
# Bookkeeping that changes on every touch, and the leases of the outbox and the run queue (a
# claim is recorded by the status change it leads to, not by its attempt counter).
VOLATILE_FIELDS = {
    "updated_at",
    "created_at",
    "version",
    "heartbeat_at",
    "progress",
    "last_used_at",
    "attempts",
    "next_attempt_at",
}
SECRET_FIELDS = {"key_hash", "secret", "token_hash"}
#: From this many audit rows a flush writes them with ``insert_rows`` (an ordinary request's
#: handful keep the plain INSERT).
_BULK_ROWS = 200
#: Column values that are JSON as they are (``_json_value`` leaves them alone).
_JSON_PLAIN = frozenset({str, int, bool, type(None), list, dict})
#: ``_events``' order of a flush's audit rows: created, then updated, then deleted objects.
_ACTION_RANK = {AuditAction.CREATED: 0, AuditAction.UPDATED: 1, AuditAction.DELETED: 2}
_BATCH_KEY = "matcher_audit_batch"
_KEY_CHUNK = 500  # primary keys per IN (...) of ``delete_orphans``


def set_actor(session: Session, *, actor: Actor) -> None:
    """Name who acts through this session (the API and personal links call it per request)."""
    session.info[_INFO_KEY] = actor


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """Everything flushed inside (any session, this thread) is recorded as done by ``actor``."""
    token = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(token)


def _masked(field: str) -> bool:
    """Whether ``mask`` may change a value of ``field`` (a phone, an e-mail address, a secret)."""
    return field in SECRET_FIELDS or "phone" in field or "email" in field


def mask(field: str, value: Any) -> Any:
    """Phones keep their first 3 and last 2 digits, e-mail its first letter and domain."""
    if value is None or not isinstance(value, str):
        return value
    if field in SECRET_FIELDS:
        return "***"
    if "phone" in field:
        return value[:3] + "*" * max(0, len(value) - 5) + value[-2:] if len(value) > 5 else "*" * len(value)
    if "email" in field and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value


def _fields(obj: Any, action: AuditAction) -> dict[str, list[Any]]:
    state = sa_inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in VOLATILE_FIELDS:
            continue
        if action == AuditAction.UPDATED:
            hist = state.attrs[key].history
            if not hist.added and not hist.deleted:
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before == after:
                continue
        else:
            value = state.dict.get(key)
            before, after = (None, value) if action == AuditAction.CREATED else (value, None)
        changes[key] = _change(key, before, after)
    return changes


def _change(key: str, before: Any, after: Any) -> list[Any]:
    """One column's [before, after] in an audit row: JSON values, secrets masked."""
    return [mask(key, _json_value(before)), mask(key, _json_value(after))]


def _district_of(obj: Any) -> int | None:
    if isinstance(obj, District):
        return obj.id
    return getattr(obj, "district_id", None)


def _events(session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for action, objects in (
        (AuditAction.CREATED, session.new),
        (AuditAction.UPDATED, session.dirty),
        (AuditAction.DELETED, session.deleted),
    ):
        for obj in sorted(objects, key=lambda o: (type(o).__name__, getattr(o, "id", 0) or 0)):
            table = getattr(type(obj), "__tablename__", None)
            if table is None or table in SKIPPED_TABLES:
                continue
            if action == AuditAction.UPDATED and not session.is_modified(obj, include_collections=False):
                continue
            changes = _fields(obj, action)
            if action == AuditAction.UPDATED and not changes:
                continue
            rows.append(
                _row(
                    actor,
                    district_id=_district_of(obj),
                    action=action,
                    entity=table,
                    entity_id=getattr(obj, "id", None),
                    changes=changes,
                )
            )
    return rows


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent):
            raise invalid("audit", msg("audit_append_only"), status=409)


def _actor_of(session: Session) -> Actor:
    return session.info.get(_INFO_KEY) or current_actor.get() or SYSTEM


@event.listens_for(Session, "after_flush")
def _record(session: Session, _flush_context: Any) -> None:
    rows = _events(session, _actor_of(session))
    if len(rows) >= _BULK_ROWS:  # a flush of many objects (an import's updates): one COPY/executemany
        insert_rows(session, table_of(AuditEvent), rows)
    elif rows:
        session.connection().execute(insert(AuditEvent), rows)


def _row(
    actor: Actor,
    *,
    district_id: int | None,
    action: AuditAction,
    entity: str,
    entity_id: int | None,
    changes: dict[str, list[Any]],
) -> dict[str, Any]:
    return {
        "district_id": district_id,
        "actor_kind": actor.kind,
        "actor_key_id": actor.key_id,
        "actor_role": actor.role,
        "actor_label": actor.label[:200],
        "acting_as": actor.acting_as,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "changes": changes,
        "request_id": actor.request_id,
        "created_at": utcnow(),
    }


def _record_statement(session: Session, model: Any, action: AuditAction, rows: list[Any]) -> None:
    """Audit rows for the rows a bulk statement returned (``id``, ``district_id``, then columns),
    or mappings in that shape. A created row is recorded as a flush records it: every column,
    its ``id`` among them."""
    table = model.__table__
    if table.name in SKIPPED_TABLES or not rows:
        return
    actor = _actor_of(session)
    events = []
    first = rows[0] if isinstance(rows[0], dict) else rows[0]._mapping
    shown = [k for k in first if k not in VOLATILE_FIELDS and (k != "id" or action == AuditAction.CREATED)]
    if action == AuditAction.UPDATED:
        shown = [k for k in shown if k != "district_id"]
    masked = {k for k in shown if _masked(k)}
    for row in rows:
        values = row if isinstance(row, dict) else row._mapping
        entity_id = values.get("id")
        district_id = entity_id if table.name == "districts" else values.get("district_id")
        changes: dict[str, list[Any]] = {}
        for k in shown:
            v = values[k]
            if type(v) not in _JSON_PLAIN:
                v = _json_value(v)
            if k in masked:
                v = mask(k, v)
            changes[k] = [v, None] if action == AuditAction.DELETED else [None, v]
        if changes:
            events.append(
                _row(
                    actor,
                    district_id=district_id,
                    action=action,
                    entity=table.name,
                    entity_id=entity_id,
                    changes=changes,
                )
            )
    _write(session, model, events)


def _write(session: Session, model: Any, events: list[dict[str, Any]]) -> None:
    """Insert a bulk helper's audit rows now, or inside ``as_one_flush`` hand them to its batch."""
    batch = session.info.get(_BATCH_KEY)
    if batch is None:
        insert_rows(session, table_of(AuditEvent), events)
        return
    name = model.__name__
    batch.extend(((_ACTION_RANK[e["action"]], name, e["entity_id"] or 0), e) for e in events)


@contextlib.contextmanager
def as_one_flush(session: Session) -> Iterator[None]:
    """The bulk helpers' audit rows inside are written once at the end, ordered as one flush of
    the same changes orders them (``_events``: created, updated, deleted; then by model name and
    id, ties in statement order), not statement by statement.

    For a bulk writer standing in for a flush: its statements can keep the flush's order (the
    parent rows' UPDATE first, which takes their locks before any child row is written) while
    its trail reads, row for row and in the same order, as the flush's would. Nothing is
    written if the block raises (the caller rolls back). Inside another, the outer one writes."""
    if _BATCH_KEY in session.info:
        yield
        return
    batch: list[tuple[tuple[int, str, int], dict[str, Any]]] = []
    session.info[_BATCH_KEY] = batch
    try:
        yield
    finally:
        session.info.pop(_BATCH_KEY, None)
    batch.sort(key=itemgetter(0))  # stable: equal keys keep the order they were recorded in
    insert_rows(session, table_of(AuditEvent), [event for _, event in batch])


def audited_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """``INSERT`` many rows at once outside the unit of work (``insert_rows``), audited like a
    flush: one ``created`` row each, showing every column but the bookkeeping ones.

    For bulk writers (the importer's thousands of new members): a flush per object costs a
    unit-of-work pass, an INSERT and an audit INSERT each. Every row gives every column the
    audit shows (what a flush would show of an object with all its fields set); a table with
    an ``id`` column draws it from the database. Returns the ids in the order of ``rows``
    (``None`` for a table without ``id``).
    """
    if not rows:
        return []
    table = model.__table__
    shown = [c.name for c in table.c if c.name not in VOLATILE_FIELDS and c.name != "id"]
    missing = {name for name in shown if name not in rows[0]}
    if missing:
        raise ValueError(f"audited_insert into {table.name}: every row must give {sorted(missing)}")
    ids: list[Any]
    if "id" not in table.c:
        insert_rows(session, table, rows)
        ids = [None] * len(rows)
    elif session.get_bind().dialect.name == "postgresql":
        # Ids drawn from the table's sequence in one query, then one COPY (``insert_rows``):
        # psycopg parsing the huge multi-row INSERT ... RETURNING statements was most of the time.
        ids = sorted(
            session.scalars(
                select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                    func.generate_series(1, len(rows))
                )
            )
        )
        rows = [{**row, "id": ident} for row, ident in zip(rows, ids, strict=True)]
        insert_rows(session, table, rows)
    else:
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(session.execute(stmt, rows).scalars())
        rows = [{**row, "id": ident} for row, ident in zip(rows, ids, strict=True)]
    if "id" in table.c:
        shown.insert(0, "id")
    _record_statement(session, model, AuditAction.CREATED, [{k: row[k] for k in shown} for row in rows])
    return ids


def audited_update(session: Session, model: Any, *where: ColumnElement[bool], values: dict[str, Any]) -> list[int]:
    """``UPDATE model SET values WHERE where`` outside the unit of work, audited like a flush.

    Returns the ids of the rows it changed (use ``len()`` where a rowcount decided). A statement
    that only touches bookkeeping columns (``VOLATILE_FIELDS``) records nothing, like a flush.
    """
    table = model.__table__
    back = [table.c.id, *([table.c.district_id] if "district_id" in table.c else []), *(table.c[k] for k in values)]
    stmt = update(model).where(*where).values(**values).returning(*back)
    rows = list(session.execute(stmt, execution_options={"synchronize_session": False}))
    _record_statement(session, model, AuditAction.UPDATED, rows)
    return [row[0] for row in rows]


def audited_delete(session: Session, model: Any, *where: ColumnElement[bool]) -> list[int]:
    """``DELETE FROM model WHERE where`` outside the unit of work, each deleted row audited as it was."""
    table = model.__table__
    stmt = delete(model).where(*where).returning(*table.c)
    rows = list(session.execute(stmt, execution_options={"synchronize_session": False}))
    _record_statement(session, model, AuditAction.DELETED, rows)
    return [row.id for row in rows]


@dataclass(frozen=True)
class RowUpdate:
    """One row's UPDATE by primary key, as a flush of its changed object writes it: the columns
    that differ as (stored, new), bookkeeping columns set alongside (``updated_at``: written, not
    audited) and, for a versioned row, the version read, which the UPDATE checks and bumps by one."""

    key: tuple[Any, ...]  # the primary key's values, in the table's key order
    changes: dict[str, tuple[Any, Any]]
    district_id: int | None = None
    version: int | None = None
    touched: dict[str, Any] = field(default_factory=dict)


def audited_update_rows(session: Session, model: Any, updates: Sequence[RowUpdate]) -> int:
    """UPDATE many rows by primary key (one executemany per set of columns written), audited as
    a flush audits the same changes: one ``updated`` row each with every changed column's
    [before, after], masked, in the model's attribute order; none for a row whose changes are all
    bookkeeping. ``audited_update`` cannot say "before" (it does not read it); a writer that has
    read the stored rows can.

    Returns how many rows matched; fewer than given means a versioned row changed (or went)
    since its version was read, where the flush raises ``StaleDataError``."""
    table = model.__table__
    key_columns = list(table.primary_key.columns)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        params = {f"key_{c.name}": value for c, value in zip(key_columns, row.key, strict=True)}
        params.update({name: new for name, (_, new) in row.changes.items()}, **row.touched)
        if row.version is not None:
            params.update(key_version=row.version, version=row.version + 1)
        groups.setdefault(tuple(sorted(params)), []).append(params)
    matched = 0
    for names, rows in groups.items():
        where = [c == bindparam(f"key_{c.name}") for c in key_columns]
        if "key_version" in names:
            where.append(table.c.version == bindparam("key_version"))
        matched += rowcount(session.execute(update(table).where(*where), rows))
    _record_updates(session, model, updates)
    return matched


def _record_updates(session: Session, model: Any, updates: Sequence[RowUpdate]) -> None:
    """``_fields`` for rows whose before and after the caller knows: the same audit rows."""
    table = model.__table__
    if table.name in SKIPPED_TABLES:
        return
    actor = _actor_of(session)
    order = [a.key for a in sa_inspect(model).column_attrs if a.key not in VOLATILE_FIELDS]
    has_id = "id" in table.c
    events = []
    for row in updates:
        changes = {
            key: _change(key, before, after)
            for key in order
            if key in row.changes and (before := row.changes[key][0]) != (after := row.changes[key][1])
        }
        if changes:
            entity_id = row.key[0] if has_id else None
            events.append(
                _row(
                    actor,
                    district_id=row.district_id,
                    action=AuditAction.UPDATED,
                    entity=table.name,
                    entity_id=entity_id,
                    changes=changes,
                )
            )
    _write(session, model, events)


def delete_orphans(session: Session, model: Any, keys: Sequence[tuple[Any, ...]]) -> int:
    """DELETE rows by primary key that a flush would delete as orphans (children taken out of a
    ``delete-orphan`` collection), recorded as that flush records them: not at all.

    ``_events`` reads ``session.deleted``, which an orphan never joins (the flush finds it while
    it runs), so a skill dropped from a member leaves no audit row on the ORM path
    (``update_member``) either; a bulk writer standing in for that path matches it. Auditing
    orphans is one change to make for both paths, not for one. Returns how many rows went."""
    key = tuple_(*model.__table__.primary_key.columns)
    deleted = 0
    for start in range(0, len(keys), _KEY_CHUNK):
        stmt = delete(model.__table__).where(key.in_(list(keys[start : start + _KEY_CHUNK])))
        deleted += rowcount(session.execute(stmt))
    return deleted


def record_act_as(session: Session, caller: Caller, *, path: str, request_id: str | None) -> None:
    """A platform key acting as a district is itself a recorded event (even for a read)."""
    session.execute(
        insert(AuditEvent),
        [
            {
                "district_id": caller.district_id,
                "actor_kind": ActorKind.API_KEY,
                "actor_key_id": caller.api_key_id,
                "actor_role": Role.PLATFORM,
                "actor_label": caller.name[:200],
                "acting_as": caller.acting_as,
                "action": AuditAction.ACTED_AS,
                "entity": "district",
                "entity_id": caller.district_id,
                "changes": {"path": [None, path[:500]]},
                "request_id": request_id,
                "created_at": utcnow(),
            }
        ],
    )


# --------------------------------------------------------------------------- reading


def list_audit(
    session: Session,
    caller: Caller,
    *,
    entity: str | None = None,
    actor_key_id: int | None = None,
    actor_kind: ActorKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[AuditEvent]:
    """Admins read their district's trail; platform keys (not acting) read every district's."""
    if caller.role not in (Role.ADMIN, Role.PLATFORM):
        raise Problem(403, "forbidden_role", msg("audit_role"))
    stmt = select(AuditEvent)
    if caller.role != Role.PLATFORM:
        stmt = stmt.where(AuditEvent.district_id == caller.district_id)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if actor_key_id is not None:
        stmt = stmt.where(AuditEvent.actor_key_id == actor_key_id)
    if actor_kind is not None:
        stmt = stmt.where(AuditEvent.actor_kind == actor_kind)
    if since is not None:
        stmt = stmt.where(AuditEvent.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.created_at < until)
    return paginate(session, stmt=stmt, id_column=AuditEvent.id, cursor=cursor, limit=limit)
