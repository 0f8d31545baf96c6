"""Needs raised by residents (民需): the demand side of the matching.

Liaisons are bound to one area: they create, edit and cancel demands only for
communities of that area and never see other areas' demands. Anything outside
their area is reported as 404 (not visible), never 403, so a key cannot probe
other areas; that includes naming another area's community in a payload.

Times: naive datetimes are Beijing wall-clock time (Asia/Shanghai); everything is
stored in UTC (SQLite keeps no offset, so one fixed zone in storage keeps both
databases comparable) and shown in Asia/Shanghai.
Create and update flush but never commit: the router or the importer commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import DemandStatus, Role
from app.domain.times import from_storage, to_utc
from app.errors import Problem, field_error, invalid, msg
from app.models import Community, Demand, Member
from app.models.base import utcnow
from app.services.areas import area_by_code
from app.services.crud import apply_changes, check_if_match, get_scoped, in_scope
from app.services.demand_documents import demand_document, demand_documents, visible_demand_rows
from app.services.identity import Caller
from app.services.pagination import Page, SelectT, UnfilteredPages, paginate, paginate_rows
from app.services.read_options import DEMAND_READ
from app.services.skills import resolve_skills
from app.settings import get_settings

if TYPE_CHECKING:
    from app.schemas.demands import DemandCreate

STATUSES = tuple(DemandStatus)
_NOT_NULL = (
    "community_id",
    "title",
    "channel",
    "priority",
    "min_members",
    "max_members",
    "starts_at",
    "ends_at",
    "status",
    "required_skills",
    "excluded_member_ids",
)


def _require_writer(caller: Caller) -> None:
    if caller.role not in (Role.ADMIN, Role.LIAISON):
        raise Problem(403, "forbidden_role", msg("demands_role"))


def _community(session: Session, caller: Caller, community_id: int) -> Community:
    community = session.get(Community, community_id)
    if community is None or community.district_id != caller.district_id:
        raise invalid("community_id", msg("unknown_community_id", id=community_id), "unknown_community")
    if not caller.sees_area(community.area_id):
        raise Problem(
            404,
            "not_found",
            msg("community_not_in_area", id=community_id),
            errors=[field_error("community_id", msg("not_liaison_area"), "not_visible")],
        )
    return community


def _excluded_members(session: Session, district_id: int, ids: list[int]) -> list[Member]:
    wanted = list(dict.fromkeys(ids))
    found = (
        {
            m.id: m
            for m in session.scalars(select(Member).where(Member.district_id == district_id, Member.id.in_(wanted)))
        }
        if wanted
        else {}
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise Problem(
            422,
            "validation_error",
            msg("field_invalid", field="excluded_member_ids", message=msg("unknown_member_id", id=missing)),
            errors=[
                field_error("excluded_member_ids", msg("unknown_member_id", id=i), "unknown_member") for i in missing
            ],
        )
    return [found[i] for i in wanted]


def _check_external_id_free(session: Session, district_id: int, external_id: str, exclude_id: int | None) -> None:
    stmt = select(Demand.id).where(Demand.district_id == district_id, Demand.external_id == external_id)
    if exclude_id is not None:
        stmt = stmt.where(Demand.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Problem(
            409,
            "duplicate_external_id",
            msg("duplicate_demand_external_id", external_id=external_id),
            errors=[field_error("external_id", msg("already_exists"), "duplicate")],
        )


def _resolve(session: Session, caller: Caller, data: dict[str, Any], current: Demand | None) -> dict[str, Any]:
    """Validate a create payload or PATCH changes against the effective state; return attribute values.

    Nothing is set on ``current``: a refusal leaves the stored demand exactly as it was.
    """
    if current is None and data.get("max_members") is None:
        data = {**data, "max_members": data.get("min_members") or 1}  # default: exactly min_members seats
    for field in _NOT_NULL:
        if field in data and data[field] is None:
            raise invalid(field, msg("not_null"))
    values: dict[str, Any] = {
        k: data[k]
        for k in ("external_id", "title", "description", "channel", "priority", "min_members", "max_members", "status")
        if k in data
    }
    if values.get("external_id") is not None:
        exclude_id = current.id if current is not None else None
        _check_external_id_free(session, caller.district_id, values["external_id"], exclude_id)
    values.update(_place(session, caller, data, current))
    if "required_skills" in data:
        values["required_skills"] = resolve_skills(
            session, district_id=caller.district_id, tokens=data["required_skills"], field="required_skills"
        )
    if "excluded_member_ids" in data:
        values["excluded_members"] = _excluded_members(session, caller.district_id, data["excluded_member_ids"])
    for field in ("starts_at", "ends_at"):
        if field in data:
            values[field] = to_utc(data[field])
    _check_seats_and_window(values, current)
    return values


def _place(session: Session, caller: Caller, data: dict[str, Any], current: Demand | None) -> dict[str, Any]:
    """The demand's community and area; a given ``area`` must be the community's own."""
    values: dict[str, Any] = {}
    community = current.community if current is not None else None
    if "community_id" in data:
        community = _community(session, caller, data["community_id"])
        moved = current is None or community.id != current.community_id
        if moved and not community.active:
            raise invalid("community_id", msg("inactive_community", id=community.id), "inactive_community")
        values["community"] = community
        values["area"] = community.area
    if data.get("area") is not None:
        area = area_by_code(session, district_id=caller.district_id, code=data["area"], field="area")
        if community is None:
            raise invalid("community_id", msg("community_required"), "missing")
        if area.id != community.area_id:
            raise invalid(
                "community_id",
                msg("area_mismatch", community=community.name, area=community.area.code, given=area.code),
                "area_mismatch",
            )
    return values


def _check_seats_and_window(values: dict[str, Any], current: Demand | None) -> None:
    """Seats and time window as they will be after the change: max >= min, end after start."""
    lo = values.get("min_members", current.min_members if current else 1)
    hi = values.get("max_members", current.max_members if current else lo)
    if hi < lo:
        raise invalid("max_members", msg("max_below_min", min=lo), "less_than_min")
    _check_window(values, current)


def _check_window(values: dict[str, Any], current: Demand | None) -> None:
    """The effective window ends after it starts and lasts at most MATCHER_MAX_DEMAND_DAYS: a
    months-long "demand" would block its members in every overlap check of every week."""
    stored_start, stored_end = (current.starts_at, current.ends_at) if current else (None, None)
    start, end = values.get("starts_at", stored_start), values.get("ends_at", stored_end)
    if start is None or end is None:
        return
    start, end = from_storage(start), from_storage(end)
    if end <= start:
        raise invalid("ends_at", msg("ends_before_starts"), "window_order")
    longest = timedelta(days=get_settings().max_demand_days)
    if end - start > longest:
        raise invalid("ends_at", msg("demand_too_long", days=longest.days), "too_long")


def create_demand(session: Session, caller: Caller, *, payload: DemandCreate) -> Demand:
    """Create an open demand; ``created_by`` records the API key name."""
    _require_writer(caller)
    values = _resolve(session, caller, payload.model_dump(), None)
    demand = Demand(district_id=caller.district_id, status=DemandStatus.OPEN, created_by=caller.name)
    apply_changes(demand, values, None)
    session.add(demand)
    session.flush()
    return demand


def get_demand(session: Session, caller: Caller, *, demand_id: int) -> Demand:
    """The demand object, loaded as its representation needs it (``DEMAND_READ``: excluded
    members by id, not with their groups, areas and skills); anything else loads on touch."""
    return get_scoped(
        session, model=Demand, obj_id=demand_id, caller=caller, what="demand", area_attr="area_id", options=DEMAND_READ
    )


def read_demand(session: Session, caller: Caller, *, demand_id: int) -> dict[str, Any]:
    """``get_demand`` for a read-only response: the demand's document (``DemandOut`` fields)."""
    return demand_document(session, caller, demand_id=demand_id)


def _arrangement(demand: Demand) -> tuple:
    """What the assigned members must hear about when it changes: status, time, place."""
    return (demand.status, from_storage(demand.starts_at), from_storage(demand.ends_at), demand.community_id)


def update_demand(session: Session, caller: Caller, *, demand_id: int, changes: dict, if_match: str | None) -> Demand:
    """PATCH semantics; list fields (required_skills, excluded_member_ids) replace the old lists."""
    _require_writer(caller)
    demand = get_demand(session, caller, demand_id=demand_id)
    check_if_match(if_match, demand.version)
    values = _resolve(session, caller, dict(changes), demand)
    before = _arrangement(demand)
    if values:
        apply_changes(demand, values, None)
        demand.updated_at = utcnow()  # list-only changes must still bump the version (ETag)
    session.flush()
    if before != _arrangement(demand):
        from app.services.notifications.outbox import demand_changed

        demand_changed(session, demand=demand, cancelled=demand.status == "cancelled" and before[0] != "cancelled")
    return demand


def cancel_demand(session: Session, caller: Caller, *, demand_id: int, if_match: str | None) -> Demand:
    return update_demand(
        session, caller, demand_id=demand_id, changes={"status": DemandStatus.CANCELLED}, if_match=if_match
    )


@dataclass(frozen=True)
class DemandFilter:
    """The list filters of ``GET /v1/demands`` (each None = not filtered)."""

    area: str | None = None
    community_id: int | None = None
    status: str | None = None
    priority: int | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None


def filtered_demands(session: Session, caller: Caller, stmt: SelectT, where: DemandFilter) -> SelectT:
    """``stmt`` (over demands) narrowed by ``where``; an unknown area code is a 422 on ``area``.
    The API's lists and the console's demand table (``demand_search``) filter through it."""
    if where.area is not None:
        area_id = area_by_code(session, district_id=caller.district_id, code=where.area, field="area").id
        stmt = stmt.where(Demand.area_id == area_id)
    if where.community_id is not None:
        stmt = stmt.where(Demand.community_id == where.community_id)
    if where.status is not None:
        stmt = stmt.where(Demand.status == where.status)
    if where.priority is not None:
        stmt = stmt.where(Demand.priority == where.priority)
    if where.starts_after is not None:
        stmt = stmt.where(Demand.starts_at >= to_utc(where.starts_after))
    if where.starts_before is not None:
        stmt = stmt.where(Demand.starts_at < to_utc(where.starts_before))
    return stmt


def list_demands(
    session: Session, caller: Caller, *, where: DemandFilter, cursor: str | None, limit: int
) -> Page[Demand]:
    """A page of demand objects (the spreadsheet export reads them); JSON lists use
    ``list_demand_documents``."""
    stmt = in_scope(select(Demand).options(*DEMAND_READ), caller, district=Demand.district_id, area=Demand.area_id)
    stmt = filtered_demands(session, caller, stmt, where)
    return paginate(session, stmt=stmt, id_column=Demand.id, cursor=cursor, limit=limit)


def list_demand_documents(
    session: Session, caller: Caller, *, where: DemandFilter, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """A page of demand documents (``DemandOut`` fields), read as rows (see demand_documents)."""
    if where == _NO_FILTER:
        page = _UNFILTERED.page(session, caller, cursor=cursor, limit=limit)
    else:
        stmt = filtered_demands(session, caller, visible_demand_rows(caller), where)
        page = paginate_rows(session, stmt=stmt, id_column=Demand.id, cursor=cursor, limit=limit)
    return Page(items=demand_documents(session, rows=page.items), next_cursor=page.next_cursor)


_NO_FILTER = DemandFilter()
_UNFILTERED = UnfilteredPages(lambda _session, caller: visible_demand_rows(caller), Demand.id)
