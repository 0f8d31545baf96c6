"""Property tests on random small instances: every plan passes the independent checker, the
coverage optimum matches brute force on tiny instances, and the optimiser never covers less
than the baselines."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.solver import Problem, SolverDemand, SolverMember, TimeSlot, Weights, check, fixed_pairing, greedy, solve
from app.solver.types import Solution

from .conftest import COORDS, at, with_extra

SKILLS = ("law", "tax", "art")
AREAS = tuple(COORDS)
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@st.composite
def members_st(draw, n):
    out = []
    for i in range(1, n + 1):
        skills = draw(
            st.dictionaries(st.sampled_from(SKILLS), st.sampled_from([0.3, 0.6, 1.0]), min_size=1, max_size=3)
        )
        slots = ()
        if draw(st.integers(0, 4)) == 0:
            slots = (TimeSlot(draw(st.integers(0, 1)), time(9), time(12)),)
        busy = ()
        if draw(st.integers(0, 4)) == 0:
            s = at(draw(st.integers(0, 1)), draw(st.integers(9, 12)))
            busy = ((s, s + timedelta(hours=1)),)
        out.append(
            SolverMember(
                id=i,
                home_area=draw(st.sampled_from(AREAS)),
                paired_areas=frozenset(draw(st.lists(st.sampled_from(AREAS), max_size=1))),
                skills=skills,
                cap=draw(st.integers(1, 3)),
                busy=busy,
                activities_this_year=draw(st.integers(0, 2)),
                blackout_dates=frozenset({at(0, 0).date()}) if draw(st.integers(0, 5)) == 0 else frozenset(),
                weekly_slots=slots,
                accepts_cross_area=draw(st.integers(0, 4)) > 0,
                max_distance_km=draw(st.sampled_from([None, None, None, 3.0, 20.0])),
                active=draw(st.integers(0, 9)) > 0,
                served_communities=frozenset(draw(st.lists(st.integers(1, 2), max_size=1))),
            )
        )
    return out


@st.composite
def demands_st(draw, n, n_members):
    out = []
    for j in range(1, n + 1):
        mn = draw(st.integers(1, 2))
        start = at(draw(st.integers(0, 1)), draw(st.integers(9, 11)))
        out.append(
            SolverDemand(
                id=100 + j,
                area=draw(st.sampled_from(AREAS)),
                community=draw(st.integers(1, 3)),
                priority=draw(st.integers(1, 5)),
                required_skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=1))),
                min_members=mn,
                max_members=mn + draw(st.integers(0, 1)),
                start=start,
                end=start + timedelta(hours=draw(st.integers(1, 3))),
                excluded_members=frozenset(draw(st.lists(st.integers(1, n_members), max_size=1)))
                if draw(st.integers(0, 3)) == 0
                else frozenset(),
            )
        )
    return out


@st.composite
def problems(draw, max_members=6, max_demands=6):
    nm = draw(st.integers(1, max_members))
    nd = draw(st.integers(1, max_demands))
    method = draw(st.sampled_from(["auto", "auto", "cp-sat"]))
    members = draw(members_st(nm))
    demands = draw(demands_st(nd, max(nm, 1)))
    forbidden = frozenset(
        draw(
            st.lists(st.tuples(st.sampled_from([d.id for d in demands] or [0]), st.integers(1, max(nm, 1))), max_size=2)
        )
    )
    previous = frozenset(
        draw(
            st.lists(st.tuples(st.sampled_from([d.id for d in demands] or [0]), st.integers(1, max(nm, 1))), max_size=2)
        )
    )
    weights = Weights(lexicographic=draw(st.booleans()))
    return Problem(
        members=tuple(members),
        demands=tuple(demands),
        area_coords=dict(COORDS),
        forbidden=forbidden,
        previous=previous,
        time_limit_s=5.0,
        weights=weights,
        method=method,
    )


@SETTINGS
@given(problems())
def test_every_plan_passes_the_checker(prob):
    sol = solve(prob)
    assert check(prob, sol) == []
    assert sol.stats.status in ("OPTIMAL", "FEASIBLE")
    for fn in (greedy, fixed_pairing):
        assert check(prob, fn(prob)) == []


def _brute_force_coverage(prob: Problem) -> int:
    """Best priority-weighted coverage by enumeration; pair eligibility comes from the checker
    (one assignment at a time), capacity and overlaps are checked here."""
    empty = solve(Problem(members=(), demands=(), area_coords={}))
    eligible = {}
    for d in prob.demands:
        for m in prob.members:
            eligible[(d.id, m.id)] = (
                check(prob, with_extra(Solution((), (), empty.stats, empty.metrics), d.id, m.id)) == []
            )
    options = []
    for d in prob.demands:
        ok = [m.id for m in prob.members if eligible[(d.id, m.id)]]
        opts = [()] + list(itertools.combinations(ok, d.min_members))
        options.append(opts)
    members = {m.id: m for m in prob.members}
    best = 0
    for combo in itertools.product(*options):
        load: dict[int, list] = {}
        for d, team in zip(prob.demands, combo, strict=True):
            for mid in team:
                load.setdefault(mid, []).append(d)
        feasible = True
        for mid, ds in load.items():
            if len(ds) + len(members[mid].busy) > members[mid].cap:
                feasible = False
                break
            for a, b in itertools.combinations(ds, 2):
                if a.start < b.end and b.start < a.end:
                    feasible = False
                    break
            if not feasible:
                break
        if feasible:
            best = max(best, sum(d.priority for d, team in zip(prob.demands, combo, strict=True) if team))
    return best


@SETTINGS
@given(problems(max_members=5, max_demands=4))
def test_coverage_matches_brute_force(prob):
    prob = replace(prob, weights=Weights())  # lexicographic: coverage is optimised first
    sol = solve(prob)
    assert sol.stats.status == "OPTIMAL"
    covered = sum(
        d.priority for d in prob.demands if sum(1 for a in sol.assignments if a.demand_id == d.id) >= d.min_members
    )
    assert covered == _brute_force_coverage(prob)
    assert sol.stats.coverage_value == covered


@SETTINGS
@given(problems())
def test_optimizer_covers_at_least_as_much_as_baselines(prob):
    prob = replace(prob, weights=Weights())
    best = solve(prob).metrics.weighted_coverage
    assert best >= greedy(prob).metrics.weighted_coverage - 1e-12
    assert best >= fixed_pairing(prob).metrics.weighted_coverage - 1e-12
