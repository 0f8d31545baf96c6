"""What publishing a run would change, shown before the office publishes it.

Compared per (demand, member) pair over the demands the run planned, against the current plan:

* new: proposed, and not in the current plan;
* kept: proposed, and already published in the current plan (the member keeps going);
* dropped: published in the current plan, not proposed again (publishing supersedes it);
* untouched: accepted or completed; publishing never touches those.

This mirrors ``app.services.runs.publish`` (the pairs a repair run kept are never dropped).
A liaison sees its own area's rows only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus
from app.models import Assignment
from app.services.identity import Caller
from app.services.runs.service import get_run

_CURRENT = (AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED)
_FIXED = (AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED)


@dataclass
class DiffRow:
    assignment_id: int
    demand_id: int
    demand_title: str
    member_id: int
    member_name: str
    area_name: str
    status: str


@dataclass
class PlanDiff:
    run_id: int
    new: list[DiffRow] = field(default_factory=list)
    kept: list[DiffRow] = field(default_factory=list)
    dropped: list[DiffRow] = field(default_factory=list)
    untouched: list[DiffRow] = field(default_factory=list)


def _row(a: Assignment) -> DiffRow:
    return DiffRow(a.id, a.demand_id, a.demand.title, a.member_id, a.member.name, a.demand.area.name, a.status)


def plan_diff(session: Session, caller: Caller, *, run_id: int) -> PlanDiff:
    run = get_run(session, caller, run_id=run_id)
    plan = (run.stats or {}).get("plan") or {}
    demand_ids = [int(d) for d in plan.get("demand_ids", [])]
    kept_pairs = {(int(d), int(m)) for d, m in plan.get("kept_pairs", [])}
    proposals_q = select(Assignment).where(Assignment.run_id == run.id, Assignment.status == AssignmentStatus.PROPOSED)
    current_q = select(Assignment).where(
        Assignment.demand_id.in_(demand_ids or [-1]),
        Assignment.status.in_(_CURRENT),
        Assignment.run_id.is_distinct_from(run.id),
    )
    if caller.role == "liaison":
        proposals_q = proposals_q.where(Assignment.area_id == caller.area_id)
        current_q = current_q.where(Assignment.area_id == caller.area_id)
    proposals = list(session.scalars(proposals_q.order_by(Assignment.id)).unique())
    current = list(session.scalars(current_q.order_by(Assignment.id)).unique())
    proposed_pairs = {(a.demand_id, a.member_id) for a in proposals}
    published_pairs = {(a.demand_id, a.member_id) for a in current if a.status == AssignmentStatus.PUBLISHED}
    fixed_pairs = {(a.demand_id, a.member_id) for a in current if a.status in _FIXED}
    diff = PlanDiff(run_id=run.id)
    for a in proposals:
        pair = (a.demand_id, a.member_id)
        if pair in fixed_pairs:
            continue  # shown once, as untouched
        (diff.kept if pair in published_pairs else diff.new).append(_row(a))
    for a in current:
        pair = (a.demand_id, a.member_id)
        if a.status in _FIXED:
            diff.untouched.append(_row(a))
        elif pair not in proposed_pairs and pair not in kept_pairs:
            diff.dropped.append(_row(a))
    return diff
