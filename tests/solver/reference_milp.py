"""An independent exact reference: the matching problem as a MILP for HiGHS, written straight
from the problem statement (docs/domain rules and the Problem dataclasses), without the
project's eligibility, model, flow or metrics code.

Lexicographic like the solver: first the most priority-weighted coverage, then, with that
coverage held, the most "rest" (pair terms, convex load cost, annual-duty bonus, peak load).
Used by the property tests on small random instances and by `python -m bench --reference`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import highspy

from app.solver.types import Problem, SolverDemand, SolverMember

OPEN_SCORE = 0.5  # an open demand's skill score (neutral)


@dataclass(frozen=True)
class ReferenceResult:
    coverage: float
    rest: float
    pairs: frozenset[tuple[int, int]]  # proposed (demand id, member id), pinned ones left out
    proven: bool  # both stages solved to optimality


def _km(problem: Problem, a: str, b: str) -> float:
    if a == b:
        return 0.0
    (la1, lo1), (la2, lo2) = problem.area_coords[a], problem.area_coords[b]
    p1, p2 = math.radians(la1), math.radians(la2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def _touched_dates(d: SolverDemand):
    day, last = d.start.date(), d.end.date()
    if last > day and d.end == datetime.combine(last, datetime.min.time()):
        last -= timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _allowed(problem: Problem, m: SolverMember, d: SolverDemand) -> bool:
    """Every hard rule that concerns one pair (rules 1, 2, 3, 6 and accepted work)."""
    if not m.active or (d.id, m.id) in problem.forbidden or m.id in d.excluded_members:
        return False
    if any(day in m.blackout_dates for day in _touched_dates(d)):
        return False
    if m.weekly_slots and not (
        d.start.date() == d.end.date()
        and any(
            s.weekday == d.start.weekday() and s.start <= d.start.time() and d.end.time() <= s.end
            for s in m.weekly_slots
        )
    ):
        return False
    if d.required_skills and not any(m.skills.get(s, 0) > 0 for s in d.required_skills):
        return False
    if d.area != m.home_area:
        if not m.accepts_cross_area:
            return False
        if m.max_distance_km is not None and _km(problem, m.home_area, d.area) > m.max_distance_km + 1e-6:
            return False
    return not any(_overlap((d.start, d.end), iv) for iv in _accepted_intervals(problem, m))


def _accepted_intervals(problem: Problem, m: SolverMember) -> list[tuple[datetime, datetime]]:
    demands = {d.id: d for d in problem.demands}
    pinned = [(demands[d].start, demands[d].end) for d, mid in problem.pinned if mid == m.id and d in demands]
    return list(m.busy) + pinned


def _accepted_load(problem: Problem, m: SolverMember) -> int:
    """Busy intervals plus pinned demands, one identical to the other counted once."""
    demands = {d.id: d for d in problem.demands}
    pinned = [(demands[d].start, demands[d].end) for d, mid in problem.pinned if mid == m.id and d in demands]
    n = len(pinned)
    for iv in m.busy:
        if iv in pinned:
            pinned.remove(iv)
        else:
            n += 1
    return n


def pair_value(problem: Problem, m: SolverMember, d: SolverDemand) -> float:
    """Quality, home / paired-area bonus, distance cost, stability and continuity of one pair."""
    w = problem.weights
    if d.required_skills:
        strengths = [float(m.skills.get(s, 0.0)) for s in sorted(d.required_skills)]
        score = 0.5 * max(strengths) + 0.5 * sum(strengths) / len(strengths)
    else:
        score = OPEN_SCORE
    value = w.quality * score
    if d.area == m.home_area:
        value += w.home
    else:
        value += w.paired if d.area in m.paired_areas else 0.0
        value -= w.distance * _km(problem, m.home_area, d.area)
    value += w.stability if (d.id, m.id) in problem.previous else 0.0
    value += w.continuity if d.community in m.served_communities else 0.0
    return value


class _Model:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.x: dict[tuple[int, int], highspy.highs_var] = {}
        self.coverage = 0.0
        self.rest = 0.0

    def build(self) -> None:
        p, h, w = self.problem, self.h, self.problem.weights
        members = {m.id: m for m in p.members}
        for d in p.demands:
            for m in p.members:
                if (d.id, m.id) not in p.pinned and _allowed(p, m, d):
                    self.x[(d.id, m.id)] = h.addBinary()
        cov_terms, rest_terms = [], []
        for d in p.demands:
            pinned = sum(1 for dd, mid in p.pinned if dd == d.id and mid in members)
            new = [v for (dd, _), v in self.x.items() if dd == d.id]
            y = h.addBinary()
            h.addConstr(sum(new) + pinned >= d.min_members * y)
            h.addConstr(sum(new) <= max(d.max_members - pinned, 0) * y)  # nobody on an uncovered demand
            cov_terms.append(d.priority * y)
            rest_terms += [pair_value(p, members[mid], d) * v for (dd, mid), v in self.x.items() if dd == d.id]
        peak = h.addVariable(lb=0, ub=10**6)
        for m in p.members:
            rest_terms += self._member_rows(m, peak)
        rest_terms.append(-w.balance_peak * peak)
        self.cov_expr, self.rest_expr = sum(cov_terms), sum(rest_terms)

    def _member_rows(self, m: SolverMember, peak) -> list:
        """Cap, no two overlapping proposals, load tiers (convex cost, duty bonus), peak load."""
        p, h, w = self.problem, self.h, self.problem.weights
        demands = {d.id: d for d in p.demands}
        mine = [(demands[d], v) for (d, mid), v in self.x.items() if mid == m.id]
        base = _accepted_load(p, m)
        room = max(m.cap - base, 0)
        load: Any = sum(v for _, v in mine)  # a HiGHS linear expression
        if not mine:
            h.addConstr(peak >= base)
            return []
        h.addConstr(peak >= base + load)
        h.addConstr(load <= room)
        for i, (a, va) in enumerate(mine):
            for b, vb in mine[i + 1 :]:
                if _overlap((a.start, a.end), (b.start, b.end)):
                    h.addConstr(va + vb <= 1)
        tiers = [h.addBinary() for _ in range(min(room, len(mine)))]
        if not tiers:
            return []
        h.addConstr(sum(tiers) == load)
        for t1, t2 in zip(tiers, tiers[1:], strict=False):
            h.addConstr(t1 >= t2)
        terms = [-w.balance_convex * (base + j) * t for j, t in enumerate(tiers)]
        if base == 0 and m.activities_this_year == 0:
            terms.append(w.duty * tiers[0])
        return terms


def solve_reference(problem: Problem, time_limit_s: float = 60.0) -> ReferenceResult:
    """The lexicographic optimum: coverage, then rest with coverage held (HiGHS MILP)."""
    m = _Model(problem)
    m.h.setOptionValue("time_limit", float(time_limit_s))
    m.build()
    m.h.maximize(m.cov_expr)
    proven = m.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    coverage = round(m.h.getInfo().objective_function_value)
    m.h.addConstr(m.cov_expr >= coverage - 0.5)
    m.h.maximize(m.rest_expr)
    proven = proven and m.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    pairs = frozenset(k for k, v in m.x.items() if m.h.val(v) > 0.5)
    return ReferenceResult(float(coverage), float(m.h.getInfo().objective_function_value), pairs, proven)
