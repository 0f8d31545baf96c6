"""Plan figures for operators and benchmarks, and the objective of any plan.

`objective_value` evaluates a plan with the same weights as the model, from scratch, so the
baselines and the optimiser are scored on one scale and the solver's own objective can be
cross-checked in tests.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np

from app.solver.eligibility import haversine_matrix, pair_value, skill_score
from app.solver.types import Assignment, PlanMetrics, Problem


def _pairs(assignments: Iterable) -> list[tuple[int, int]]:
    out = []
    for a in assignments:
        if isinstance(a, Assignment):
            out.append((a.demand_id, a.member_id))
        else:
            out.append((int(a[0]), int(a[1])))
    return out


def _km(problem: Problem, a: str, b: str) -> float:
    if a == b:
        return 0.0
    (la1, lo1), (la2, lo2) = problem.area_coords[a], problem.area_coords[b]
    return float(haversine_matrix(np.array([la1, la2]), np.array([lo1, lo2]))[0, 1])


def base_loads(problem: Problem) -> dict[int, int]:
    """Accepted work per member: busy intervals plus pinned pairs, an identical one counted once."""
    dem = {d.id: d for d in problem.demands}
    pinned_of: dict[int, list[tuple]] = defaultdict(list)
    for d_id, m_id in problem.pinned:
        if d_id in dem:
            pinned_of[m_id].append((dem[d_id].start, dem[d_id].end))
    out: dict[int, int] = {}
    for m in problem.members:
        ivs = list(pinned_of.get(m.id, []))
        n = len(ivs)
        for iv in m.busy:
            if iv in ivs:
                ivs.remove(iv)
            else:
                n += 1
        out[m.id] = n
    return out


def objective_value(problem: Problem, assignments: Iterable) -> tuple[float, float]:
    """(coverage, rest) of a plan; the weighted objective is weights.coverage * coverage + rest.

    coverage: sum of priorities of demands reaching min_members (pinned pairs included).
    rest: pair terms of the proposed (non-pinned) pairs, the load-tier terms of new assignments
    (convex balance cost, annual-duty bonus) and the peak-load cost.
    """
    w = problem.weights
    pairs = _pairs(assignments)
    dem = {d.id: d for d in problem.demands}
    mem = {m.id: m for m in problem.members}
    count = Counter(d for d, _ in pairs)
    coverage = float(sum(d.priority for d in problem.demands if count[d.id] >= d.min_members))
    base = base_loads(problem)
    new_load: Counter = Counter()
    rest = 0.0
    for d_id, m_id in pairs:
        if (d_id, m_id) in problem.pinned:
            continue
        d, m = dem[d_id], mem[m_id]
        _, score = skill_score(m, d)
        home = d.area == m.home_area
        paired = (not home) and d.area in m.paired_areas
        rest += sum(
            pair_value(
                w,
                score,
                home,
                paired,
                _km(problem, m.home_area, d.area),
                (d_id, m_id) in problem.previous,
                d.community in m.served_communities,
            ).values()
        )
        new_load[m_id] += 1
    for m_id, k in new_load.items():
        b = base[m_id]
        rest -= w.balance_convex * sum(b + j for j in range(k))
        if b == 0 and mem[m_id].activities_this_year == 0:
            rest += w.duty
    peak = max([base[m.id] + new_load[m.id] for m in problem.members] + [0])
    rest -= w.balance_peak * peak
    return coverage, rest


def plan_metrics(problem: Problem, assignments: Iterable) -> PlanMetrics:
    pairs = _pairs(assignments)
    dem = {d.id: d for d in problem.demands}
    mem = {m.id: m for m in problem.members}
    count = Counter(d for d, _ in pairs)
    total_prio = sum(d.priority for d in problem.demands)
    covered = [d for d in problem.demands if count[d.id] >= d.min_members]
    scores, kms, cross = [], [], 0
    for d_id, m_id in pairs:
        d, m = dem[d_id], mem[m_id]
        scores.append(skill_score(m, d)[1])
        if d.area != m.home_area:
            cross += 1
        kms.append(_km(problem, m.home_area, d.area))
    base = base_loads(problem)
    got = Counter(m for _, m in pairs)
    plan_pinned = Counter(m for d, m in problem.pinned if d in dem)
    # load = accepted work (busy/pinned) + new proposals of this plan
    loads = [base[m.id] + got[m.id] - plan_pinned[m.id] for m in problem.members if m.active]
    zero = [m for m in problem.members if m.active and m.activities_this_year == 0]
    n = len(pairs)
    return PlanMetrics(
        demands_total=len(problem.demands),
        demands_covered=len(covered),
        weighted_coverage=(sum(d.priority for d in covered) / total_prio) if total_prio else 1.0,
        assignments=n,
        mean_skill_score=float(np.mean(scores)) if scores else 0.0,
        cross_area_share=cross / n if n else 0.0,
        mean_distance_km=float(np.mean(kms)) if kms else 0.0,
        load_peak=max(loads, default=0),
        load_std=float(np.std(loads)) if loads else 0.0,
        zero_activity_members=len(zero),
        zero_activity_members_served=sum(1 for m in zero if got[m.id] > 0),
    )


def relative_gap(objective: float, bound: float) -> float:
    """|bound - objective| / max(1, |objective|), the convention CP-SAT uses for its gap limit."""
    if math.isnan(objective) or math.isnan(bound):
        return float("nan")
    return abs(bound - objective) / max(1.0, abs(objective))
