"""Cancellation, progress reports, and the two baselines."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from app.solver import check, fixed_pairing, greedy, solve
from bench.generate import generate

from .conftest import demand, member, pairs, problem


def _hard_instance():
    # scarce skills make CP-SAT work for several seconds on this one
    return replace(generate(410, 300, seed=1, mismatch=0.6), time_limit_s=20.0)


def test_cancel_before_start_stops_candidate_generation():
    prob = _hard_instance()
    ev = threading.Event()
    ev.set()
    sol = solve(prob, cancel=ev)
    assert sol.stats.status == "CANCELLED"
    assert check(prob, sol) == []
    # cancel works inside candidate generation too: no demand was reached, nothing proposed,
    # and the bounds stay valid (every priority point counts as reachable)
    assert "candidate generation stopped" in sol.stats.method and sol.stats.candidates_complete is False
    assert sol.assignments == ()
    assert sol.stats.coverage_bound >= sum(d.priority for d in prob.demands if d.min_members <= len(prob.members))


def test_cancel_during_search_keeps_the_best_plan():
    prob = _hard_instance()
    ev = threading.Event()
    seen = []

    def progress(objective, bound):
        seen.append((objective, bound))
        ev.set()  # the first report comes after the flow phase, before LP / CP-SAT

    sol = solve(prob, on_progress=progress, cancel=ev)
    assert sol.stats.status == "CANCELLED"
    assert check(prob, sol) == []
    assert seen and all(o <= b + 1e-6 for o, b in seen)
    assert sol.stats.objective >= seen[0][0] - 1e-6
    assert sol.stats.candidates_complete  # cancelled after generation: every demand was considered


def test_cancel_inside_cp_sat():
    # plain CP-SAT on the hard instance runs for the whole time limit unless stopped
    prob = replace(_hard_instance(), method="cp-sat")
    ev = threading.Event()
    timer = threading.Timer(1.0, ev.set)
    timer.start()
    try:
        sol = solve(prob, cancel=ev)
    finally:
        timer.cancel()
    assert sol.stats.status == "CANCELLED"
    assert check(prob, sol) == []


def test_progress_is_reported():
    seen = []
    solve(
        problem([member(1), member(2)], [demand(10), demand(11, day=1)]), on_progress=lambda o, b: seen.append((o, b))
    )
    assert seen


def test_a_failing_progress_hook_is_logged_and_the_solve_goes_on(caplog):
    calls = []

    def broken(objective: float, bound: float) -> None:
        calls.append(objective)
        raise RuntimeError("display gone")

    prob = problem([member(1), member(2)], [demand(10), demand(11, day=1)])
    with caplog.at_level(logging.DEBUG, logger="app.solver"):
        sol = solve(prob, on_progress=broken)
    assert calls and check(prob, sol) == []
    assert len(sol.assignments) == 2
    failures = [r for r in caplog.records if "progress callback failed" in r.getMessage()]
    assert failures and all(r.exc_info and r.exc_info[0] is RuntimeError for r in failures)


def test_baselines_respect_every_rule_and_fixed_pairing_stays_home():
    prob = generate(150, 120, seed=5)
    members = {m.id: m for m in prob.members}
    demands = {d.id: d for d in prob.demands}
    for fn in (fixed_pairing, greedy):
        sol = fn(prob)
        assert check(prob, sol) == []
        assert sol.stats.status == "FEASIBLE"
    for a in fixed_pairing(prob).assignments:
        m, d = members[a.member_id], demands[a.demand_id]
        assert d.area == m.home_area or d.area in m.paired_areas


def test_greedy_crosses_areas_when_fixed_pairing_cannot():
    prob = problem([member(1, home="B")], [demand(10, area="A")])
    assert pairs(fixed_pairing(prob)) == set()
    assert pairs(greedy(prob)) == {(10, 1)}
    assert pairs(solve(prob)) == {(10, 1)}


def test_optimizer_covers_at_least_as_much_as_the_baselines_on_a_district():
    prob = replace(generate(410, 300, seed=2), time_limit_s=10.0)
    best = solve(prob).metrics.weighted_coverage
    assert best >= greedy(prob).metrics.weighted_coverage - 1e-12
    assert best >= fixed_pairing(prob).metrics.weighted_coverage - 1e-12
