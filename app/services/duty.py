"""Annual duty (履职) records and who has met this year's duty.

Each member owes at least one suggestion (建议), one information report
(社情民意信息) and one community activity (活动) a year. Activities mostly arrive
automatically when an assignment is completed (see ``app.services.assignments``);
the rest are recorded here by the office or by an area's liaison.

A record belongs to an area (the member's home area by default, or the demand's
area); a liaison key reads and writes only its own area's records. Deletion is a
hard delete (admin only): a duty record is a plain fact, and a wrong one should
not keep counting towards anybody's duty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import DutyKind, Role
from app.errors import Problem, field_error, invalid, msg
from app.models import Area, Assignment, Demand, DutyRecord, Member
from app.services.areas import area_by_code
from app.services.crud import apply_changes, check_if_match, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate

KINDS = tuple(DutyKind)


def _in_district(session: Session, caller: Caller, model: type, obj_id: int, fld: str, what: str) -> Any:
    obj = session.get(model, obj_id)
    if obj is None or obj.district_id != caller.district_id:
        raise invalid(fld, msg("unknown_object", what=msg(f"what.{what}"), id=obj_id), "unknown")
    return obj


def _check_area_write(caller: Caller, area_id: int | None) -> None:
    if caller.role == Role.LIAISON and area_id != caller.area_id:
        raise Problem(
            403,
            "forbidden_area",
            msg("liaison_own_area_duty"),
            errors=[field_error("area_id", msg("not_liaison_area"), "forbidden")],
        )


def create_record(session: Session, caller: Caller, *, data: dict[str, Any]) -> DutyRecord:
    member = _in_district(session, caller, Member, data["member_id"], "member_id", "member")
    demand = None
    if data.get("demand_id") is not None:
        demand = _in_district(session, caller, Demand, data["demand_id"], "demand_id", "demand")
    if data.get("assignment_id") is not None:
        assignment = _in_district(session, caller, Assignment, data["assignment_id"], "assignment_id", "assignment")
        if assignment.member_id != member.id:
            raise invalid("assignment_id", msg("assignment_of_other_member"))
        if session.scalar(select(DutyRecord.id).where(DutyRecord.assignment_id == assignment.id)):
            raise Problem(
                409,
                "duplicate_assignment_record",
                msg("duplicate_assignment_record"),
                errors=[field_error("assignment_id", msg("already_recorded"), "duplicate")],
            )
        if demand is None:
            demand = session.get(Demand, assignment.demand_id)
    if data.get("area_id") is not None:
        area_id = _in_district(session, caller, Area, data["area_id"], "area_id", "area").id
    else:
        area_id = demand.area_id if demand is not None else member.home_area_id
    _check_area_write(caller, area_id)
    record = DutyRecord(
        district_id=caller.district_id,
        member_id=member.id,
        kind=data["kind"],
        date=data["date"],
        title=data["title"],
        area_id=area_id,
        demand_id=demand.id if demand is not None else None,
        assignment_id=data.get("assignment_id"),
    )
    session.add(record)
    session.flush()
    return record


def get_record(session: Session, caller: Caller, *, record_id: int) -> DutyRecord:
    return get_scoped(
        session, model=DutyRecord, obj_id=record_id, caller=caller, what="duty record", area_attr="area_id"
    )


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def list_records(
    session: Session,
    caller: Caller,
    *,
    member_id: int | None = None,
    kind: str | None = None,
    year: int | None = None,
    area: str | None = None,
    group_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[DutyRecord]:
    stmt = select(DutyRecord).where(DutyRecord.district_id == caller.district_id)
    if caller.role == Role.LIAISON:
        stmt = stmt.where(DutyRecord.area_id == caller.area_id)
    if area is not None:
        stmt = stmt.where(
            DutyRecord.area_id == area_by_code(session, district_id=caller.district_id, code=area, field="area").id
        )
    if member_id is not None:
        stmt = stmt.where(DutyRecord.member_id == member_id)
    if kind is not None:
        stmt = stmt.where(DutyRecord.kind == kind)
    if year is not None:
        start, end = _year_bounds(year)
        stmt = stmt.where(DutyRecord.date >= start, DutyRecord.date < end)
    if group_id is not None:
        stmt = stmt.where(DutyRecord.member_id.in_(select(Member.id).where(Member.group_id == group_id)))
    return paginate(session, stmt=stmt, id_column=DutyRecord.id, cursor=cursor, limit=limit)


def update_record(
    session: Session, caller: Caller, *, record_id: int, changes: dict[str, Any], if_match: str | None
) -> DutyRecord:
    record = get_record(session, caller, record_id=record_id)
    if "area_id" in changes and changes["area_id"] is None:
        raise invalid("area_id", msg("not_null"))  # every record belongs to an area
    if changes.get("area_id") is not None:
        _in_district(session, caller, Area, changes["area_id"], "area_id", "area")
        _check_area_write(caller, changes["area_id"])
    apply_changes(record, changes, if_match)
    session.flush()
    return record


def delete_record(session: Session, caller: Caller, *, record_id: int, if_match: str | None) -> None:
    record = get_record(session, caller, record_id=record_id)
    check_if_match(if_match, record.version)
    session.delete(record)
    session.flush()


@dataclass
class MemberDuty:
    """One member's annual duty: counts per kind and what is still missing."""

    member_id: int
    name: str
    group_id: int | None
    home_area_id: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    met: bool = False
    missing: list[str] = field(default_factory=lambda: list(KINDS))


def duty_status(
    session: Session,
    *,
    district_id: int,
    year: int,
    area_id: int | None = None,
    group_id: int | None = None,
    include_inactive: bool = False,
) -> list[MemberDuty]:
    """Per member (ordered by id): records of ``year`` per kind; ``met`` = at least one of each kind.

    ``area_id`` / ``group_id`` select members by home area / working group; their
    records count wherever they were made (the duty is the member's, not the area's).
    """
    members = select(Member.id, Member.name, Member.group_id, Member.home_area_id).where(
        Member.district_id == district_id
    )
    if not include_inactive:
        members = members.where(Member.active.is_(True))
    if area_id is not None:
        members = members.where(Member.home_area_id == area_id)
    if group_id is not None:
        members = members.where(Member.group_id == group_id)
    out = {
        m.id: MemberDuty(m.id, m.name, m.group_id, m.home_area_id) for m in session.execute(members.order_by(Member.id))
    }
    if not out:
        return []
    start, end = _year_bounds(year)
    rows = session.execute(
        select(DutyRecord.member_id, DutyRecord.kind, func.count())
        .where(
            DutyRecord.district_id == district_id,
            DutyRecord.date >= start,
            DutyRecord.date < end,
            DutyRecord.member_id.in_(list(out)),
        )
        .group_by(DutyRecord.member_id, DutyRecord.kind)
    )
    for member_id, kind, n in rows:
        if kind in KINDS:
            out[member_id].counts[kind] = int(n)
    for duty in out.values():
        duty.missing = [k for k in KINDS if duty.counts[k] < 1]
        duty.met = not duty.missing
    return list(out.values())


def summary_for(
    session: Session, caller: Caller, *, year: int, area: str | None = None, group_id: int | None = None
) -> list[MemberDuty]:
    """``duty_status`` as a caller may see it: a liaison only gets its own area's members."""
    if caller.role == Role.LIAISON:
        area_id: int | None = caller.area_id
    else:
        area_id = (
            area_by_code(session, district_id=caller.district_id, code=area, field="area").id
            if area is not None
            else None
        )
    return duty_status(session, district_id=caller.district_id, year=year, area_id=area_id, group_id=group_id)
