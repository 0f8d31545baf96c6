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
from datetime import datetime, timedelta

from app.solver.types import Problem, Solution

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


def check(problem: Problem, solution: Solution) -> list[str]:
    """All hard-rule violations of the plan, as readable strings; [] means feasible."""
    errors: list[str] = []
    members = {m.id: m for m in problem.members}
    demands = {d.id: d for d in problem.demands}
    seen = set()
    per_member: dict[int, list] = {}
    per_demand: dict[int, int] = {}

    for a in solution.assignments:
        key = (a.demand_id, a.member_id)
        tag = f"demand {a.demand_id} / member {a.member_id}"
        if key in seen:
            errors.append(f"{tag}: assigned twice")
            continue
        seen.add(key)
        d = demands.get(a.demand_id)
        m = members.get(a.member_id)
        if d is None or m is None:
            errors.append(f"{tag}: unknown demand or member")
            continue
        is_pinned = key in problem.pinned
        if a.pinned != is_pinned:
            errors.append(f"{tag}: pinned flag is {a.pinned} but the pair is {'' if is_pinned else 'not '}pinned")
        per_member.setdefault(m.id, []).append((d, is_pinned))
        per_demand[d.id] = per_demand.get(d.id, 0) + 1
        if is_pinned:
            continue
        # rule 1: active and available
        if not m.active:
            errors.append(f"{tag}: member is not active")
        for day in _dates(d.start, d.end):
            if day in m.blackout_dates:
                errors.append(f"{tag}: member has a blackout on {day}")
        if not _in_slot(m, d):
            errors.append(f"{tag}: demand time is outside the member's weekly slots")
        # rule 2: skills
        if d.required_skills:
            held = [s for s in d.required_skills if m.skills.get(s, 0) > 0]
            if not held:
                errors.append(f"{tag}: member holds none of the required skills")
        # rule 3: conflicts and declines
        if m.id in d.excluded_members:
            errors.append(f"{tag}: conflict of interest")
        if key in problem.forbidden:
            errors.append(f"{tag}: member declined this demand earlier")
        # rule 6: cross-area consent and distance
        if d.area != m.home_area:
            if not m.accepts_cross_area:
                errors.append(f"{tag}: member does not accept cross-area work")
            elif m.max_distance_km is not None:
                km = _km(problem.area_coords, m.home_area, d.area)
                if km > m.max_distance_km + _TOLERANCE_KM:
                    errors.append(f"{tag}: {km:.2f} km exceeds the member's limit {m.max_distance_km} km")

    # rule 5: pinned pairs kept; max_members
    for d_id, m_id in problem.pinned:
        if d_id in demands and m_id in members and (d_id, m_id) not in seen:
            errors.append(f"demand {d_id} / member {m_id}: accepted (pinned) pair was dropped")
    for d_id, n in per_demand.items():
        if n > demands[d_id].max_members:
            errors.append(f"demand {d_id}: {n} members exceed max_members {demands[d_id].max_members}")

    # rule 4: capacity and overlaps
    for m_id, items in per_member.items():
        m = members[m_id]
        proposed = [d for d, pinned in items if not pinned]
        if not proposed:
            continue
        pinned_iv = [(d.start, d.end) for d, pinned in items if pinned]
        busy_only = []
        for iv in m.busy:
            if iv in pinned_iv:
                pinned_iv.remove(iv)
            else:
                busy_only.append(iv)
        total = len(items) + len(busy_only)
        if total > m.cap:
            errors.append(f"member {m_id}: load {total} exceeds cap {m.cap}")
        for i, d in enumerate(proposed):
            for s, e in m.busy:
                if _overlap(d.start, d.end, s, e):
                    errors.append(f"member {m_id}: demand {d.id} overlaps an accepted assignment {s}..{e}")
            for other, other_pinned in items:
                if other.id == d.id:
                    continue
                if other_pinned or proposed.index(other) > i:
                    if _overlap(d.start, d.end, other.start, other.end):
                        errors.append(f"member {m_id}: demands {d.id} and {other.id} overlap")
    return errors
