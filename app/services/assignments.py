"""Assignments: what integrators pull, and what members do with them.

State machine (one table, so every rule lives here and nowhere else)::

    published -> accepted | declined
    accepted  -> completed | declined

Everything else is a 409 ``invalid_transition`` naming ``from`` and ``to``.
Repeating the state an assignment is already in is idempotent when the request
is the same one (accept twice, decline twice with the same reason, complete
twice with the same body) and a 409 when it says something different. Such a
repeat is answered before the If-Match check, so a client retrying with the ETag
it read before its first (lost-response) attempt gets 200, not 412.

A decline also marks the demand's week for an automatic repair run (``app.services.repair``),
whichever face it came through (API, console, a member's personal link).

A decline stays in the table as the record the optimizer reads as "never pair
these two again"; it also puts the demand back to ``open`` when it no longer has
``min_members`` live assignments, so the next (repair) run looks at it.
Completion writes the member's ``activity`` DutyRecord exactly once (unique
``assignment_id``), which is what the annual-duty fairness term reads.

Services flush but do not commit: the router commits once, so an action and its
side effects (demand status, duty record) land in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import (
    LIVE_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    DemandStatus,
    DutyKind,
    ResponseMethod,
)
from app.domain.times import today_local
from app.errors import Problem, invalid, msg
from app.models import Assignment, Demand, DutyRecord
from app.models.base import utcnow
from app.services.areas import area_by_code
from app.services.assignment_documents import (
    assignment_document,
    assignment_documents,
    document_of,
    visible_assignment_rows,
)
from app.services.crud import check_if_match, get_scoped, in_scope
from app.services.identity import Caller
from app.services.pagination import Page, SelectT, UnfilteredPages, paginate, paginate_rows
from app.services.read_options import ASSIGNMENT_READ

# Assignments that still count towards a demand's members (the current plan).
LIVE_STATUSES = LIVE_ASSIGNMENT_STATUSES
# Still waiting for the member: the demand is not done while one of these remains.
_PENDING_STATUSES = (AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED)
TRANSITIONS: dict[AssignmentStatus, tuple[AssignmentStatus, ...]] = {
    AssignmentStatus.ACCEPTED: (AssignmentStatus.PUBLISHED,),
    AssignmentStatus.DECLINED: (AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED),
    AssignmentStatus.COMPLETED: (AssignmentStatus.ACCEPTED,),
}
# Demand statuses this module never overrides (an operator's decision wins).
_DEMAND_FINAL = (DemandStatus.CANCELLED,)


@dataclass
class AssignmentView:
    """An assignment plus what its API representation needs from other rows."""

    assignment: Assignment
    duty_record: DutyRecord | None
    show_phone: bool


def _utc(value: datetime) -> datetime:
    """Compare in UTC: SQLite stores the (UTC) timestamps without their offset."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # naive input is taken as UTC
    return value.astimezone(UTC)


def _views(session: Session, caller: Caller, rows: list[Assignment]) -> list[AssignmentView]:
    ids = [a.id for a in rows if a.status == AssignmentStatus.COMPLETED]
    records: dict[int | None, DutyRecord] = {}
    if ids:
        for rec in session.scalars(select(DutyRecord).where(DutyRecord.assignment_id.in_(ids))):
            records[rec.assignment_id] = rec
    return [AssignmentView(a, records.get(a.id), caller.can_read_phones) for a in rows]


def view(session: Session, caller: Caller, *, assignment: Assignment) -> AssignmentView:
    return _views(session, caller, [assignment])[0]


def document(session: Session, caller: Caller, *, assignment: Assignment) -> dict[str, Any]:
    """The API document of an assignment the caller holds (after a write)."""
    v = view(session, caller, assignment=assignment)
    return document_of(v.assignment, v.duty_record, show_phone=v.show_phone)


#: What ``/v1/assignments`` lists when asked for neither a run nor a status: the plan members and
#: communities live by. Proposals of runs not (yet) published are not a plan; ask for them with
#: ``run_id=`` or ``status=proposed``.
CURRENT_PLAN = (
    AssignmentStatus.PUBLISHED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.COMPLETED,
    AssignmentStatus.DECLINED,
)


@dataclass(frozen=True)
class AssignmentFilter:
    """The list filters of ``GET /v1/assignments`` (each None = not filtered). ``updated_since``
    is inclusive (>=). Without ``run_id`` and ``statuses`` only the current plan
    (``CURRENT_PLAN``) is listed."""

    run_id: int | None = None
    area: str | None = None
    member_id: int | None = None
    demand_id: int | None = None
    statuses: Sequence[str] | None = None
    updated_since: datetime | None = None


def _filtered(session: Session, caller: Caller, stmt: SelectT, where: AssignmentFilter) -> SelectT:
    """``stmt`` (over assignments) narrowed by ``where``; unknown area or status is a 422."""
    if where.area is not None:
        area_id = area_by_code(session, district_id=caller.district_id, code=where.area, field="area").id
        stmt = stmt.where(Assignment.area_id == area_id)
    if where.run_id is not None:
        stmt = stmt.where(Assignment.run_id == where.run_id)
    if where.member_id is not None:
        stmt = stmt.where(Assignment.member_id == where.member_id)
    if where.demand_id is not None:
        stmt = stmt.where(Assignment.demand_id == where.demand_id)
    statuses = where.statuses
    if not statuses and where.run_id is None:
        statuses = list(CURRENT_PLAN)
    if statuses:
        unknown = sorted(set(statuses) - {s.value for s in AssignmentStatus})
        if unknown:
            raise invalid("status", msg("unknown_status", status=unknown[0], values=", ".join(AssignmentStatus)))
        stmt = stmt.where(Assignment.status.in_(statuses))
    if where.updated_since is not None:
        stmt = stmt.where(Assignment.updated_at >= _utc(where.updated_since))
    return stmt


def list_assignments(
    session: Session, caller: Caller, *, where: AssignmentFilter, cursor: str | None = None, limit: int = 50
) -> Page[AssignmentView]:
    """A filtered, id-ordered keyset page of assignment objects (the spreadsheet export reads
    them; JSON lists use ``list_assignment_documents``). A liaison only ever sees its own area;
    asking for another area is simply empty."""
    stmt = select(Assignment).options(*ASSIGNMENT_READ)
    stmt = _filtered(
        session, caller, in_scope(stmt, caller, district=Assignment.district_id, area=Assignment.area_id), where
    )
    page = paginate(session, stmt=stmt, id_column=Assignment.id, cursor=cursor, limit=limit)
    return Page(items=_views(session, caller, page.items), next_cursor=page.next_cursor)


def list_assignment_documents(
    session: Session, caller: Caller, *, where: AssignmentFilter, cursor: str | None = None, limit: int = 50
) -> Page[dict[str, Any]]:
    """The same page as ``list_assignments``, as documents read from rows (assignment_documents)."""
    if where == _NO_FILTER:
        page = _UNFILTERED.page(session, caller, cursor=cursor, limit=limit)
    else:
        stmt = _filtered(session, caller, visible_assignment_rows(caller), where)
        page = paginate_rows(session, stmt=stmt, id_column=Assignment.id, cursor=cursor, limit=limit)
    return Page(items=assignment_documents(caller, rows=page.items), next_cursor=page.next_cursor)


_NO_FILTER = AssignmentFilter()
#: The current plan of the caller's scope (no filter reads the database).
_UNFILTERED = UnfilteredPages(
    lambda session, caller: _filtered(session, caller, visible_assignment_rows(caller), _NO_FILTER), Assignment.id
)


def get_assignment(session: Session, caller: Caller, *, assignment_id: int) -> Assignment:
    return get_scoped(
        session, model=Assignment, obj_id=assignment_id, caller=caller, what="assignment", area_attr="area_id"
    )


def read_assignment(session: Session, caller: Caller, *, assignment_id: int) -> dict[str, Any]:
    """``get_assignment`` for a read-only response: its document, read as one row."""
    return assignment_document(session, caller, assignment_id=assignment_id)


def _transition_problem(current: AssignmentStatus, target: AssignmentStatus) -> Problem:
    allowed = TRANSITIONS[target]
    return Problem(
        409,
        "invalid_transition",
        msg("invalid_transition", current=current.value, target=target.value, allowed=" / ".join(allowed)),
        members={"from": current.value, "to": target.value},
    )


def _check_transition(assignment: Assignment, target: AssignmentStatus, if_match: str | None) -> None:
    if assignment.status not in TRANSITIONS[target]:
        raise _transition_problem(assignment.status, target)
    check_if_match(if_match, assignment.version)


def accept(session: Session, caller: Caller, *, assignment_id: int, if_match: str | None) -> Assignment:
    assignment = get_assignment(session, caller, assignment_id=assignment_id)
    if assignment.status == AssignmentStatus.ACCEPTED:
        return assignment  # a retried accept changes nothing
    _check_transition(assignment, AssignmentStatus.ACCEPTED, if_match)
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = utcnow()
    session.flush()
    return assignment


def _live_count(session: Session, demand_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.demand_id == demand_id, Assignment.status.in_(LIVE_STATUSES))
        )
        or 0
    )


def decline(session: Session, caller: Caller, *, assignment_id: int, reason: str, if_match: str | None) -> Assignment:
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", msg("decline_needs_reason"), "missing")
    assignment = get_assignment(session, caller, assignment_id=assignment_id)
    if assignment.status == AssignmentStatus.DECLINED:
        if assignment.decline_reason == reason:
            return assignment
        raise Problem(
            409,
            "already_declined",
            msg("already_declined"),
            members={"from": "declined", "to": "declined"},
        )
    _check_transition(assignment, AssignmentStatus.DECLINED, if_match)
    assignment.status = AssignmentStatus.DECLINED
    assignment.decline_reason = reason
    assignment.declined_at = utcnow()
    session.flush()
    demand = session.get(Demand, assignment.demand_id)
    if (
        demand is not None
        and demand.status not in _DEMAND_FINAL
        and _live_count(session, demand.id) < demand.min_members
    ):
        demand.status = DemandStatus.OPEN  # back into the pool for a repair run
        session.flush()
    if demand is not None and demand.status not in _DEMAND_FINAL:
        from app.services.repair import mark_for_repair

        mark_for_repair(
            session, district_id=assignment.district_id, starts_at=demand.starts_at, reason=f"declined a{assignment.id}"
        )
    return assignment


def _same_completion(record: DutyRecord | None, assignment: Assignment, data: dict[str, Any]) -> bool:
    if (assignment.response_method, assignment.outcome, assignment.satisfaction) != (
        data["response_method"],
        data.get("outcome"),
        data.get("satisfaction"),
    ):
        return False
    # completed_on defaults to "today": a retry that leaves it out matches any date.
    wanted = data.get("completed_on")
    return wanted is None or record is None or record.date == wanted


def complete(
    session: Session, caller: Caller, *, assignment_id: int, data: dict[str, Any], if_match: str | None
) -> Assignment:
    """Record how the member answered the need; writes the activity record once."""
    assignment = get_assignment(session, caller, assignment_id=assignment_id)
    if data.get("response_method") not in {m.value for m in ResponseMethod}:
        raise invalid("response_method", msg("one_of", values=", ".join(ResponseMethod)))
    record = session.scalar(select(DutyRecord).where(DutyRecord.assignment_id == assignment.id))
    if assignment.status == AssignmentStatus.COMPLETED:
        if _same_completion(record, assignment, data):
            return assignment
        raise Problem(
            409,
            "already_completed",
            msg("already_completed"),
            members={"from": "completed", "to": "completed"},
        )
    _check_transition(assignment, AssignmentStatus.COMPLETED, if_match)
    today = today_local()
    completed_on: date = data.get("completed_on") or today
    if completed_on > today:
        raise invalid("completed_on", msg("completed_in_future", day=completed_on, today=today), "future_date")
    assignment.status = AssignmentStatus.COMPLETED
    assignment.response_method = ResponseMethod(data["response_method"])
    assignment.outcome = data.get("outcome")
    assignment.satisfaction = data.get("satisfaction")
    assignment.completed_at = utcnow()
    demand = session.get(Demand, assignment.demand_id)
    if record is None:
        session.add(
            DutyRecord(
                district_id=assignment.district_id,
                member_id=assignment.member_id,
                kind=DutyKind.ACTIVITY,
                date=completed_on,
                title=(demand.title if demand else f"需求 {assignment.demand_id}")[:200],
                area_id=demand.area_id if demand else assignment.area_id,
                demand_id=assignment.demand_id,
                assignment_id=assignment.id,
            )
        )
    session.flush()
    if demand is not None and demand.status not in _DEMAND_FINAL:
        open_left = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.demand_id == demand.id, Assignment.status.in_(_PENDING_STATUSES))
        )
        if not open_left:
            demand.status = DemandStatus.CLOSED
            session.flush()
    return assignment


def explanation_text(explanation: dict[str, Any] | None) -> str | None:
    """Plain Chinese from the numbers, for rows written without a stored text."""
    if not explanation:
        return None
    parts: list[str] = []
    overlap = explanation.get("skill_overlap") or []
    if overlap:
        parts.append("持有 " + "、".join(str(s) for s in overlap))
    if explanation.get("home_area"):
        parts.append("本片")
    elif explanation.get("paired_area"):
        km = explanation.get("distance_km")
        parts.append("结对片区" + (f" {km:.1f} km" if isinstance(km, (int, float)) and km else ""))
    elif isinstance(explanation.get("distance_km"), (int, float)):
        parts.append(f"跨片 {explanation['distance_km']:.1f} km")
    load = explanation.get("load_after", explanation.get("load"))
    if isinstance(load, int):
        parts.append(f"本周第 {load} 项")
    if explanation.get("first_activity_this_year"):
        parts.append("本年度首次活动")
    return "; ".join(parts) or None
