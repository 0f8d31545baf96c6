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
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Problem, field_error, invalid, msg
from app.models import Member, MemberSkill
from app.models.base import utcnow
from app.services.areas import area_by_code
from app.services.audit import audited_insert
from app.services.crud import apply_changes, check_if_match, get_scoped, in_scope
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
    columns = {k: values[k] for k in _PLAIN}
    columns.update(
        district_id=caller.district_id,
        home_area_id=values["home_area"].id,
        work_area_id=values["work_area"].id if values["work_area"] is not None else None,
        group_id=values["group"].id if values["group"] is not None else None,
        weekly_slots=values["weekly_slots"],
        blackout_dates=values["blackout_dates"],
    )
    return NewMember(columns, sorted((skill.id, level) for skill, level in values["skills"]))


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

    ``flush=False`` leaves the change in the session for one flush of many (the bulk importer);
    a refused change still raises here, before anything is touched."""
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
