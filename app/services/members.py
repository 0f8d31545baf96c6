"""Committee members (委员): the supply side of the matching.

Payloads speak in codes people know (area code, skill code/name/synonym); this
service resolves them to rows. Every reference is resolved and checked before
the tracked object is touched, so a refused create or update leaves nothing
half-changed even for callers (the bulk importer) that keep using the session.
Create and update flush but never commit: the router or the importer owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from app.errors import Problem, field_error, invalid, msg
from app.models import Member, MemberSkill
from app.models.base import table_of, utcnow
from app.services.areas import area_by_code
from app.services.audit import RowUpdate, as_one_flush, audited_insert, audited_update_rows, delete_orphans
from app.services.crud import apply_changes, check_if_match, get_scoped, in_scope, scoped_row
from app.services.groups import group_in_district
from app.services.identity import Caller
from app.services.member_documents import member_document, member_documents, visible_member_rows
from app.services.pagination import Page, SelectT, UnfilteredPages, paginate, paginate_rows
from app.services.read_options import MEMBER_READ
from app.services.skills import normalize_token, resolve_skills, skill_for_filter, token_index

if TYPE_CHECKING:
    from app.schemas.members import MemberCreate

# Fields stored as they come (after the schema has validated them).
_PLAIN = (
    "external_id",
    "name",
    "sector",
    "phone",
    "email",
    "preferred_channel",
    "weekly_cap",
    "accepts_cross_area",
    "max_distance_km",
    "active",
)
# Fields that may not be null on PATCH although their column is not the field itself.
_NOT_NULL = ("home_area", "skills", "weekly_slots", "blackout_dates")
_ID_CHUNK = 500  # external ids per IN (...) query


def _get(item: Any, key: str, default: Any = None) -> Any:
    return item.get(key, default) if isinstance(item, dict) else getattr(item, key, default)


def _check_external_id_free(session: Session, district_id: int, external_id: str, exclude_id: int | None) -> None:
    stmt = select(Member.id).where(Member.district_id == district_id, Member.external_id == external_id)
    if exclude_id is not None:
        stmt = stmt.where(Member.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Problem(
            409,
            "duplicate_external_id",
            msg("duplicate_member_external_id", external_id=external_id),
            errors=[field_error("external_id", msg("already_exists"), "duplicate")],
        )


def _resolve(
    session: Session, district_id: int, data: dict[str, Any], member_id: int | None, *, check_external_id: bool = True
) -> dict[str, Any]:
    """Turn payload fields into attribute values (ORM objects for references); raises on any error.

    ``check_external_id=False`` is for ``prepare_member``: ``insert_members`` checks a whole batch."""
    for field in _NOT_NULL:
        if field in data and data[field] is None:
            raise invalid(field, msg("not_null"))
    columns = Member.__table__.c
    for field in _PLAIN:
        if field in data and data[field] is None and not columns[field].nullable:
            raise invalid(field, msg("not_null"))
    values: dict[str, Any] = {k: data[k] for k in _PLAIN if k in data}
    if check_external_id and values.get("external_id") is not None:
        _check_external_id_free(session, district_id, values["external_id"], member_id)
    if "home_area" in data:
        values["home_area"] = area_by_code(session, district_id=district_id, code=data["home_area"], field="home_area")
    if "work_area" in data:
        code = data["work_area"]
        values["work_area"] = (
            area_by_code(session, district_id=district_id, code=code, field="work_area") if code else None
        )
    if "group_id" in data:
        gid = data["group_id"]
        values["group"] = (
            group_in_district(session, district_id=district_id, group_id=gid, field="group_id")
            if gid is not None
            else None
        )
    if "skills" in data:
        items = data["skills"]
        skills = resolve_skills(
            session, district_id=district_id, tokens=[_get(i, "code") for i in items], field="skills"
        )
        by_token = token_index(session, district_id=district_id)
        levels: dict[int, tuple[Any, int]] = {s.id: (s, 0) for s in skills}
        for item in items:
            skill = by_token[normalize_token(_get(item, "code"))]
            level = _get(item, "level", 2) or 2
            levels[skill.id] = (skill, max(levels[skill.id][1], level))  # named twice: keep the higher level
        values["skills"] = [levels[s.id] for s in skills]
    if "weekly_slots" in data:
        values["weekly_slots"] = [
            {"weekday": int(_get(s, "weekday")), "start": str(_get(s, "start")), "end": str(_get(s, "end"))}
            for s in data["weekly_slots"]
        ]
    if "blackout_dates" in data:
        values["blackout_dates"] = sorted({_get_iso(d) for d in data["blackout_dates"]})
    return values


def _get_iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _apply(member: Member, values: dict[str, Any]) -> None:
    skills = values.pop("skills", None)
    apply_changes(member, values, None)
    if skills is not None:
        current = {ms.skill_id: ms for ms in member.skills}
        wanted = {skill.id for skill, _ in skills}
        for ms in list(member.skills):
            if ms.skill_id not in wanted:
                member.skills.remove(ms)
        for skill, level in skills:
            if skill.id in current:
                current[skill.id].level = level
            else:
                member.skills.append(MemberSkill(skill=skill, skill_id=skill.id, level=level))
        member.skills.sort(key=lambda ms: ms.skill_id)


def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Problem(403, "forbidden_role", msg("members_admin_only"))


def create_member(session: Session, caller: Caller, *, payload: MemberCreate) -> Member:
    """Create a member of the caller's district from a validated ``MemberCreate``."""
    _require_admin(caller)
    data = payload.model_dump()
    values = _resolve(session, caller.district_id, data, None)
    member = Member(district_id=caller.district_id)
    _apply(member, values)
    session.add(member)
    session.flush()
    return member


@dataclass(frozen=True)
class NewMember:
    """A new member checked by ``prepare_member`` and not yet stored: its ``members`` columns and
    its skills as (skill id, level)."""

    columns: dict[str, Any]
    skills: list[tuple[int, int]]


def prepare_member(session: Session, caller: Caller, *, payload: MemberCreate) -> NewMember:
    """Every check ``create_member`` makes (the external id's uniqueness is left to
    ``insert_members``, which checks a batch at once), without writing anything."""
    _require_admin(caller)
    values = _resolve(session, caller.district_id, payload.model_dump(), None, check_external_id=False)
    columns = _as_columns(values)
    columns["district_id"] = caller.district_id
    return NewMember(columns, sorted((skill.id, level) for skill, level in values["skills"]))


def _as_columns(values: dict[str, Any]) -> dict[str, Any]:
    """``_resolve``'s values (but skills) as ``members`` columns: references as their ids."""
    columns = {k: values[k] for k in _PLAIN if k in values}
    for ref in ("home_area", "work_area", "group"):
        if ref in values:
            columns[f"{ref}_id"] = values[ref].id if values[ref] is not None else None
    for k in ("weekly_slots", "blackout_dates"):
        if k in values:
            columns[k] = values[k]
    return columns


def insert_members(session: Session, caller: Caller, *, members: Sequence[NewMember]) -> list[int]:
    """Store many prepared members at once (``audited_insert``), audited like ``create_member``'s
    flush (the bulk importer's path: a flush per member was most of a 10,000-row import).
    Returns their ids in order. A taken external id is a 409, as in ``create_member``."""
    _require_admin(caller)
    external_ids = [m.columns["external_id"] for m in members if m.columns.get("external_id") is not None]
    for start in range(0, len(external_ids), _ID_CHUNK):
        chunk = external_ids[start : start + _ID_CHUNK]
        taken = session.scalar(
            select(Member.external_id)
            .where(Member.district_id == caller.district_id, Member.external_id.in_(chunk))
            .limit(1)
        )
        if taken is not None:
            _check_external_id_free(session, caller.district_id, taken, None)  # raises the 409
    ids: list[int] = audited_insert(session, Member, [m.columns for m in members])
    audited_insert(
        session,
        MemberSkill,
        [
            {"member_id": member_id, "skill_id": skill_id, "level": level}
            for member_id, m in zip(ids, members, strict=True)
            for skill_id, level in m.skills
        ],
    )
    return ids


def get_member(session: Session, caller: Caller, *, member_id: int) -> Member:
    return get_scoped(session, model=Member, obj_id=member_id, caller=caller, what="member")


def update_member(
    session: Session, caller: Caller, *, member_id: int, changes: dict, if_match: str | None, flush: bool = True
) -> Member:
    """PATCH semantics: only the given fields change; a ``skills`` list replaces the old one.

    ``flush=False`` leaves the change in the session for one flush of many (the importer no
    longer does that: ``prepare_member_update`` + ``update_members`` write what such a flush
    would); a refused change still raises here, before anything is touched."""
    _require_admin(caller)
    member = get_member(session, caller, member_id=member_id)
    check_if_match(if_match, member.version)
    values = _resolve(session, caller.district_id, dict(changes), member.id)
    if values:
        _apply(member, values)
        member.updated_at = utcnow()  # skills-only changes must still bump the version (ETag)
    if flush:
        session.flush()
    return member


@dataclass(frozen=True)
class StoredMember:
    """A member as stored, read as plain rows by ``stored_member_rows``: every ``members``
    column by name, and its skills (skill id -> level)."""

    columns: dict[str, Any]
    skills: dict[int, int]

    @property
    def district_id(self) -> int:
        return int(self.columns["district_id"])


def stored_member_rows(session: Session, ids: Sequence[int]) -> dict[int, StoredMember]:
    """The members ``ids`` as stored (gone ones left out), in two IN queries per 500: what a bulk
    update compares against and audits as "before". ``update_member`` builds an ORM object per
    member instead, with its collection and its events; for a 10,000-member re-import that was
    most of the time."""
    m, ms = table_of(Member), table_of(MemberSkill)
    found: dict[int, StoredMember] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = list(ids[start : start + _ID_CHUNK])
        for row in session.execute(select(m).where(m.c.id.in_(chunk))):
            found[row.id] = StoredMember(dict(row._mapping), {})
        for member_id, skill_id, level in session.execute(
            select(ms.c.member_id, ms.c.skill_id, ms.c.level).where(ms.c.member_id.in_(chunk))
        ):
            found[member_id].skills[skill_id] = level
    return found


@dataclass(frozen=True)
class MemberUpdate:
    """A change to a stored member checked by ``prepare_member_update`` and not yet written:
    what ``update_member``'s flush would write for it."""

    member_id: int
    district_id: int
    version: int  # as read: the write checks it, as the flush's optimistic lock does
    updated_at: datetime
    columns: dict[str, tuple[Any, Any]]  # members column -> (stored, new), only those that differ
    added: list[tuple[int, int]]  # new skills (skill id, level), in the order _apply appends them
    leveled: list[tuple[int, int, int]]  # kept skills whose level changes: (skill id, stored, new)
    dropped: list[int]  # skill ids the member no longer has


def prepare_member_update(
    session: Session, caller: Caller, *, member_id: int, stored: StoredMember | None, changes: dict[str, Any]
) -> MemberUpdate:
    """Every check ``update_member`` makes (with ``if_match=None``), against the stored row read by
    ``stored_member_rows`` (``None``: gone, a 404 as there), and what its flush would write:
    the columns whose value differs (the flush compares each the same way) and the skill links
    ``_apply`` would add, re-level and drop. Writes nothing; ``update_members`` does."""
    _require_admin(caller)
    found = scoped_row(stored, caller=caller, what="member", obj_id=member_id)
    values = _resolve(session, caller.district_id, dict(changes), member_id)
    skills = values.pop("skills", None)
    columns = {k: (found.columns[k], v) for k, v in _as_columns(values).items() if v != found.columns[k]}
    added: list[tuple[int, int]] = []
    leveled: list[tuple[int, int, int]] = []
    dropped: list[int] = []
    if skills is not None:
        wanted = {skill.id: level for skill, level in skills}
        added = [(sid, level) for sid, level in wanted.items() if sid not in found.skills]
        leveled = [(sid, found.skills[sid], lvl) for sid, lvl in wanted.items() if found.skills.get(sid, lvl) != lvl]
        dropped = [sid for sid in found.skills if sid not in wanted]
    version = int(found.columns["version"])
    return MemberUpdate(member_id, found.district_id, version, utcnow(), columns, added, leveled, dropped)


def update_members(session: Session, caller: Caller, *, updates: Sequence[MemberUpdate]) -> None:
    """Write many prepared updates at once, as one flush of ``update_member``'s changes writes them
    (the importer's path: an ORM object, collection events and unit-of-work pass per member were
    most of a 10,000-row re-import where every row changes).

    The same statements' effects in the flush's order: each member's changed columns with
    ``updated_at`` and version + 1, checked against the version read (a member changed or gone
    since raises ``StaleDataError``, as the flush does); then its new skill links, new levels and
    dropped links; and the audit rows that flush writes, in its order (``as_one_flush``; a
    dropped link, an orphan there, has none). Members are not in the change feed, so neither path
    writes events. Member objects already in the session are expired, to reload what was stored."""
    _require_admin(caller)
    if not updates:
        return
    with as_one_flush(session):
        rows = [
            RowUpdate(
                (u.member_id,),
                u.columns,
                district_id=u.district_id,
                version=u.version,
                touched={"updated_at": u.updated_at},
            )
            for u in updates
        ]
        matched = audited_update_rows(session, Member, rows)
        if matched != len(rows):
            raise StaleDataError(f"UPDATE members matched {matched} of {len(rows)} rows (changed since read)")
        links = [{"member_id": u.member_id, "skill_id": s, "level": lvl} for u in updates for s, lvl in u.added]
        audited_insert(session, MemberSkill, links)
        levels = [RowUpdate((u.member_id, s), {"level": (old, new)}) for u in updates for s, old, new in u.leveled]
        audited_update_rows(session, MemberSkill, levels)
        delete_orphans(session, MemberSkill, [(u.member_id, s) for u in updates for s in u.dropped])
    for u in updates:
        loaded = session.identity_map.get(identity_key(Member, u.member_id))
        if loaded is not None:
            session.expire(loaded)


@dataclass(frozen=True)
class MemberFilter:
    """The list filters of ``GET /v1/members`` (each None = not filtered)."""

    area: str | None = None
    group_id: int | None = None
    skill: str | None = None
    active: bool | None = None


def _filtered(session: Session, caller: Caller, stmt: SelectT, where: MemberFilter) -> SelectT:
    """``stmt`` (over members) narrowed by ``where``; an unknown area or skill is a 422."""
    if where.area is not None:
        area_id = area_by_code(session, district_id=caller.district_id, code=where.area, field="area").id
        stmt = stmt.where(Member.home_area_id == area_id)
    if where.group_id is not None:
        stmt = stmt.where(Member.group_id == where.group_id)
    if where.skill is not None:
        found = skill_for_filter(session, district_id=caller.district_id, token=where.skill)
        stmt = stmt.where(Member.id.in_(select(MemberSkill.member_id).where(MemberSkill.skill_id == found.id)))
    if where.active is not None:
        stmt = stmt.where(Member.active.is_(where.active))
    return stmt


def list_members(
    session: Session, caller: Caller, *, where: MemberFilter, cursor: str | None, limit: int
) -> Page[Member]:
    """A page of member objects (the spreadsheet export reads them); JSON lists use
    ``list_member_documents``."""
    stmt = in_scope(select(Member).options(*MEMBER_READ), caller, district=Member.district_id)
    stmt = _filtered(session, caller, stmt, where)
    return paginate(session, stmt=stmt, id_column=Member.id, cursor=cursor, limit=limit)


def list_member_documents(
    session: Session, caller: Caller, *, where: MemberFilter, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """A page of member documents (``MemberOut`` fields), read as rows (see member_documents)."""
    if where == _NO_FILTER:
        page = _UNFILTERED.page(session, caller, cursor=cursor, limit=limit)
    else:
        stmt = _filtered(session, caller, visible_member_rows(caller), where)
        page = paginate_rows(session, stmt=stmt, id_column=Member.id, cursor=cursor, limit=limit)
    return Page(items=member_documents(session, caller, rows=page.items), next_cursor=page.next_cursor)


_NO_FILTER = MemberFilter()
_UNFILTERED = UnfilteredPages(lambda _session, caller: visible_member_rows(caller), Member.id)


def read_member(session: Session, caller: Caller, *, member_id: int) -> dict[str, Any]:
    """``get_member`` for a read-only response: the member's document."""
    return member_document(session, caller, member_id=member_id)


def deactivate_member(session: Session, caller: Caller, *, member_id: int, if_match: str | None) -> Member:
    return update_member(session, caller, member_id=member_id, changes={"active": False}, if_match=if_match)
