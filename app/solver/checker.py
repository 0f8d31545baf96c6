"""Independent verification of every hard rule on a finished plan.

This module shares no code with the candidate generator or the model (only the plain types):
if either of them gets a rule wrong, the two implementations disagree and solve() fails loudly
instead of sending a member somewhere they may not go. Plain loops, no numpy.

Conventions it checks (the same ones the service layer relies on):
- intervals are half-open: a demand ending at 10:00 does not overlap one starting at 10:00;
- a demand touches every calendar date from its start to its end, except the end date when it
  ends exactly at midnight;
- a weekly slot covers a demand when the demand starts and ends on the same date, on the slot's
  weekday, within [slot.start, slot.end];
- a busy interval equal to a pinned demand's [start, end] is the same accepted assignment and
  is counted once against the cap;
- pinned pairs bypass the eligibility rules; overlap and cap rules are reported only where a
  proposed (non-pinned) assignment is involved, since pinned input is taken as consistent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.solver.types import Problem, Solution, SolverDemand, SolverMember

_TOLERANCE_KM = 1e-6


def _km(coords, a: str, b: str) -> float:
    if a == b:
        return 0.0
    lat1, lon1 = coords[a]
    lat2, lon2 = coords[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _dates(start: datetime, end: datetime):
    day = start.date()
    last = end.date()
    if last > day and end.hour == 0 and end.minute == 0 and end.second == 0 and end.microsecond == 0:
        last = last - timedelta(days=1)
    while day <= last:
        yield day
        day = day + timedelta(days=1)


def _in_slot(member, demand) -> bool:
    if not member.weekly_slots:
        return True
    if demand.start.date() != demand.end.date():
        return False
    for slot in member.weekly_slots:
        if (
            slot.weekday == demand.start.weekday()
            and slot.start <= demand.start.time()
            and demand.end.time() <= slot.end
        ):
            return True
    return False


def _overlap(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


@dataclass(frozen=True)
class Proposal:
    """One proposed (non-pinned) pair of the plan, with its demand and member."""

    demand: SolverDemand
    member: SolverMember

    @property
    def tag(self) -> str:
        return f"demand {self.demand.id} / member {self.member.id}"


PairRule = Callable[[Problem, Proposal], list[str]]
PlanRule = Callable[[Problem, Solution], list[str]]


# ----------------------------------------------------------------------------- rules on one pair
def member_is_active_and_available(_problem: Problem, a: Proposal) -> list[str]:
    """Hard rule 1: active; no blackout on a date the demand touches; inside a weekly slot."""
    m, d = a.member, a.demand
    errors = [] if m.active else [f"{a.tag}: member is not active"]
    errors += [f"{a.tag}: member has a blackout on {day}" for day in _dates(d.start, d.end) if day in m.blackout_dates]
    if not _in_slot(m, d):
        errors.append(f"{a.tag}: demand time is outside the member's weekly slots")
    return errors


def holds_a_required_skill(_problem: Problem, a: Proposal) -> list[str]:
    """Hard rule 2: at least one of the required skills (a demand without any is open to all)."""
    skills = a.demand.required_skills
    if not skills or any(a.member.skills.get(s, 0) > 0 for s in skills):
        return []
    return [f"{a.tag}: member holds none of the required skills"]


def has_no_conflict_of_interest(_problem: Problem, a: Proposal) -> list[str]:
    """Hard rule 3a: the member is not excluded from the demand."""
    return [f"{a.tag}: conflict of interest"] if a.member.id in a.demand.excluded_members else []


def was_not_declined_before(problem: Problem, a: Proposal) -> list[str]:
    """Hard rule 3b: a member who declined a demand is never proposed for it again."""
    return [f"{a.tag}: member declined this demand earlier"] if (a.demand.id, a.member.id) in problem.forbidden else []


def cross_area_is_allowed(problem: Problem, a: Proposal) -> list[str]:
    """Hard rule 6: outside the home area only with consent and within the distance limit."""
    m, d = a.member, a.demand
    if d.area == m.home_area:
        return []
    if not m.accepts_cross_area:
        return [f"{a.tag}: member does not accept cross-area work"]
    if m.max_distance_km is not None:
        km = _km(problem.area_coords, m.home_area, d.area)
        if km > m.max_distance_km + _TOLERANCE_KM:
            return [f"{a.tag}: {km:.2f} km exceeds the member's limit {m.max_distance_km} km"]
    return []


PAIR_RULES: tuple[PairRule, ...] = (
    member_is_active_and_available,
    holds_a_required_skill,
    has_no_conflict_of_interest,
    was_not_declined_before,
    cross_area_is_allowed,
)


# ----------------------------------------------------------------------------- rules on the plan
def each_pair_is_known_once_and_labelled(problem: Problem, solution: Solution) -> list[str]:
    """Every assignment names a known demand and member, once, with the right pinned flag."""
    members = {m.id for m in problem.members}
    demands = {d.id for d in problem.demands}
    errors, seen = [], set()
    for a in solution.assignments:
        key = (a.demand_id, a.member_id)
        tag = f"demand {a.demand_id} / member {a.member_id}"
        if key in seen:
            errors.append(f"{tag}: assigned twice")
        elif a.demand_id not in demands or a.member_id not in members:
            errors.append(f"{tag}: unknown demand or member")
        elif a.pinned != (key in problem.pinned):
            state = "" if a.pinned is False else "not "
            errors.append(f"{tag}: pinned flag is {a.pinned} but the pair is {state}pinned")
        seen.add(key)
    return errors


def accepted_pairs_are_kept(problem: Problem, solution: Solution) -> list[str]:
    """Hard rule 5b: every accepted (pinned) pair of a known demand and member is in the plan."""
    members = {m.id for m in problem.members}
    demands = {d.id for d in problem.demands}
    planned = {(a.demand_id, a.member_id) for a in solution.assignments}
    return [
        f"demand {d} / member {m}: accepted (pinned) pair was dropped"
        for d, m in sorted(problem.pinned)
        if d in demands and m in members and (d, m) not in planned
    ]


def stays_within_max_members(problem: Problem, solution: Solution) -> list[str]:
    """Hard rule 5a: a demand gets at most max_members."""
    count: dict[int, int] = {}
    for d_id, _ in _unique_known(problem, solution):
        count[d_id] = count.get(d_id, 0) + 1
    demands = {d.id: d for d in problem.demands}
    return [
        f"demand {d_id}: {n} members exceed max_members {demands[d_id].max_members}"
        for d_id, n in count.items()
        if n > demands[d_id].max_members
    ]


def stays_within_cap(problem: Problem, solution: Solution) -> list[str]:
    """Hard rule 4a: a member's assignments in the window, accepted work included, stay within
    the cap (checked where a proposal is involved: pinned input is taken as consistent)."""
    errors = []
    for m, items in _by_member(problem, solution):
        if not any(not pinned for _, pinned in items):
            continue
        total = len(items) + len(_busy_not_pinned(m, items))
        if total > m.cap:
            errors.append(f"member {m.id}: load {total} exceeds cap {m.cap}")
    return errors


def never_in_two_places(problem: Problem, solution: Solution) -> list[str]:
    """Hard rule 4b: no proposal overlaps accepted work or another assignment of the member."""
    errors = []
    for m, items in _by_member(problem, solution):
        proposed = [d for d, pinned in items if not pinned]
        for i, d in enumerate(proposed):
            errors += [
                f"member {m.id}: demand {d.id} overlaps an accepted assignment {s}..{e}"
                for s, e in m.busy
                if _overlap(d.start, d.end, s, e)
            ]
            later = [o for o, pinned in items if pinned] + proposed[i + 1 :]
            errors += [
                f"member {m.id}: demands {d.id} and {o.id} overlap"
                for o in later
                if o.id != d.id and _overlap(d.start, d.end, o.start, o.end)
            ]
    return errors


PLAN_RULES: tuple[PlanRule, ...] = (
    each_pair_is_known_once_and_labelled,
    accepted_pairs_are_kept,
    stays_within_max_members,
    stays_within_cap,
    never_in_two_places,
)


def _unique_known(problem: Problem, solution: Solution) -> Iterator[tuple[int, int]]:
    members = {m.id for m in problem.members}
    demands = {d.id for d in problem.demands}
    seen = set()
    for a in solution.assignments:
        key = (a.demand_id, a.member_id)
        if key not in seen and a.demand_id in demands and a.member_id in members:
            seen.add(key)
            yield key


def _by_member(problem: Problem, solution: Solution) -> list[tuple[SolverMember, list[tuple[SolverDemand, bool]]]]:
    members = {m.id: m for m in problem.members}
    demands = {d.id: d for d in problem.demands}
    items: dict[int, list[tuple[SolverDemand, bool]]] = {}
    for d_id, m_id in _unique_known(problem, solution):
        items.setdefault(m_id, []).append((demands[d_id], (d_id, m_id) in problem.pinned))
    return [(members[m_id], its) for m_id, its in items.items()]


def _busy_not_pinned(m: SolverMember, items: list[tuple[SolverDemand, bool]]) -> list[tuple[datetime, datetime]]:
    """Busy intervals that are not the same accepted assignment as a pinned pair."""
    pinned_iv = [(d.start, d.end) for d, pinned in items if pinned]
    out = []
    for iv in m.busy:
        if iv in pinned_iv:
            pinned_iv.remove(iv)
        else:
            out.append(iv)
    return out


def proposals(problem: Problem, solution: Solution) -> list[Proposal]:
    """The plan's known, unique, non-pinned pairs (the ones the pair rules judge)."""
    members = {m.id: m for m in problem.members}
    demands = {d.id: d for d in problem.demands}
    return [
        Proposal(demands[d], members[m]) for d, m in _unique_known(problem, solution) if (d, m) not in problem.pinned
    ]


def check(problem: Problem, solution: Solution) -> list[str]:
    """All hard-rule violations of the plan, as readable strings; [] means feasible."""
    errors: list[str] = []
    for rule in PLAN_RULES[:1]:
        errors += rule(problem, solution)
    for a in proposals(problem, solution):
        for pair_rule in PAIR_RULES:
            errors += pair_rule(problem, a)
    for rule in PLAN_RULES[1:]:
        errors += rule(problem, solution)
    return errors
