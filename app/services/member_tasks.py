"""What a member sees and does through a personal link, on the same rules as the API.

Every answer goes through ``app.services.assignments`` (accept / decline / complete) with a
caller that stands for the member, so the state machine, the change feed, the duty record on
completion, the repair mark after a decline and the idempotent repeat are exactly the API's.
A link only ever reaches its own member's assignments: a task link its one assignment, a
member link the assignments whose ``member_id`` is the link's member (anything else is 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus, LinkKind, ResponseMethod, Role
from app.domain.times import stored_utc
from app.errors import Problem, invalid, msg, not_found
from app.i18n import t
from app.models import Assignment, Demand, Member, MemberLink
from app.models.base import utcnow
from app.services import assignments as assignment_service
from app.services.identity import Caller
from app.services.notifications.links import resolve
from app.services.notifications.messages import local_time

DECLINE_REASONS = ("schedule", "skill", "distance", "health", "interest")
OPEN_STATUSES = (AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED)
MAX_BLACKOUTS = 200


def member_caller(link: MemberLink) -> Caller:
    """The member, acting through their link. The role grants nothing here: the link itself scopes
    what may be answered (``assignment_of``), and the assignment service checks no roles."""
    return Caller(
        api_key_id=0, name=f"member {link.member_id} (link {link.id})", role=Role.READER, district_id=link.district_id
    )


def open_link(session: Session, *, token: str, kind: LinkKind) -> MemberLink:
    """The live link (``LinkProblem`` otherwise), its last use noted."""
    link = resolve(session, token=token, kind=kind)
    link.last_used_at = utcnow()
    return link


def assignment_of(session: Session, *, link: MemberLink, assignment_id: int | None = None) -> Assignment:
    """The assignment this link may act on (a task link: its own; a member link: any of theirs)."""
    wanted = link.assignment_id if link.kind == LinkKind.TASK else assignment_id
    a = session.get(Assignment, wanted) if wanted is not None else None
    if a is None or a.member_id != link.member_id or a.district_id != link.district_id:
        raise not_found("assignment", wanted or 0)
    if link.kind == LinkKind.TASK and assignment_id is not None and assignment_id != link.assignment_id:
        raise not_found("assignment", assignment_id)
    return a


@dataclass
class TaskView:
    assignment_id: int
    status: str
    status_label: str
    title: str
    description: str | None
    community: str
    area: str
    when: str
    liaison: str
    why: str
    can_answer: bool
    can_decline: bool
    can_complete: bool
    decline_reason: str | None


def task_view(assignment: Assignment, now: datetime | None = None) -> TaskView:
    demand: Demand = assignment.demand
    area = demand.area
    started = stored_utc(demand.starts_at) <= (now or utcnow())
    status = AssignmentStatus(assignment.status)
    liaison = " ".join(x for x in (area.liaison_name, area.liaison_phone) if x) or "—"
    return TaskView(
        assignment_id=assignment.id,
        status=status.value,
        status_label=t(f"enum.AssignmentStatus.{status.value}"),
        title=demand.title,
        description=demand.description,
        community=demand.community.name,
        area=area.name,
        when=f"{local_time(demand.starts_at)} – {local_time(demand.ends_at)[-5:]}",
        liaison=liaison,
        why=assignment.explanation_text or assignment_service.explanation_text(assignment.explanation) or "—",
        can_answer=status == AssignmentStatus.PUBLISHED and not started,
        can_decline=status in OPEN_STATUSES and not started,
        can_complete=status == AssignmentStatus.ACCEPTED and started,
        decline_reason=assignment.decline_reason,
    )


def open_tasks(session: Session, *, link: MemberLink) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .join(Demand, Demand.id == Assignment.demand_id)
            .where(Assignment.member_id == link.member_id, Assignment.status.in_(OPEN_STATUSES))
            .order_by(Demand.starts_at, Assignment.id)
        ).unique()
    )


def decline_reason_text(choice: str | None, typed: str | None) -> str:
    """A reason from the short list, or the member's own words (which win when given)."""
    typed = (typed or "").strip()
    if typed:
        return typed[:500]
    if choice in DECLINE_REASONS:
        return t(f"link.reason.{choice}")
    raise invalid("reason", t("link.decline.reason"), "missing")


def answer(
    session: Session, *, link: MemberLink, action: str, form: dict[str, Any], assignment_id: int | None = None
) -> str:
    """Apply one answer (flushes; the caller commits). Returns the state reached.

    A repeat of an answer already given (a double tap, a reload) reports that state and changes
    nothing, even if the second tap picked another reason.
    """
    a = assignment_of(session, link=link, assignment_id=assignment_id)
    caller = member_caller(link)
    target = {"accept": "accepted", "decline": "declined", "complete": "completed"}.get(action)
    if target is None:
        raise not_found("action", 0)
    if a.status == target:
        return target
    if action == "accept":
        assignment_service.accept(session, caller, assignment_id=a.id, if_match=None)
    elif action == "decline":
        reason = decline_reason_text(form.get("reason"), form.get("reason_text"))
        assignment_service.decline(session, caller, assignment_id=a.id, reason=reason, if_match=None)
    else:
        assignment_service.complete(session, caller, assignment_id=a.id, data=completion(form), if_match=None)
    return target


def completion(form: dict[str, Any]) -> dict[str, Any]:
    method = form.get("response_method")
    if method not in ResponseMethod.__members__.values():
        raise invalid("response_method", msg("one_of", values=", ".join(ResponseMethod)))
    raw = (form.get("satisfaction") or "").strip()
    satisfaction = None
    if raw:
        if raw not in ("1", "2", "3", "4", "5"):
            raise invalid("satisfaction", msg("satisfaction_range"))
        satisfaction = int(raw)
    outcome = (form.get("outcome") or "").strip()[:2000] or None
    return {"response_method": method, "outcome": outcome, "satisfaction": satisfaction}


def set_blackout(session: Session, *, link: MemberLink, add: str | None = None, remove: str | None = None) -> list[str]:
    """Add or remove one blackout date of the link's member (read by the next run)."""
    member = session.get(Member, link.member_id)
    if member is None:
        raise not_found("member", link.member_id)
    dates = sorted({str(d)[:10] for d in (member.blackout_dates or [])})
    for value, adding in ((add, True), (remove, False)):
        if not value:
            continue
        try:
            day = date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise invalid("date", t("link.blackout.bad_date")) from None
        if adding and day not in dates:
            if len(dates) >= MAX_BLACKOUTS:
                raise Problem(422, "too_many_dates", msg("too_many_dates", limit=MAX_BLACKOUTS))
            dates.append(day)
        elif not adding and day in dates:
            dates.remove(day)
    member.blackout_dates = sorted(dates)
    session.flush()
    return member.blackout_dates


def member_name(session: Session, *, link: MemberLink) -> str:
    member = session.get(Member, link.member_id)
    return member.name if member else ""


def blackouts(session: Session, *, link: MemberLink) -> list[str]:
    member = session.get(Member, link.member_id)
    today = date.today().isoformat()
    return [d for d in sorted(str(x)[:10] for x in (member.blackout_dates or [])) if d >= today] if member else []
