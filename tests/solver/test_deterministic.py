"""Reproducible runs: deterministic=True gives the same plan for the same input, seed, workers
and limit, also when the search is cut by the limit (not proven optimal)."""

from __future__ import annotations

from dataclasses import replace

from app.solver import check, solve
from app.solver.eligibility import candidates, prepare
from app.solver.pipeline import (
    CANDIDATE_SHARE,
    DETERMINISTIC_SECONDS_PER_CELL,
    Budget,
    _coarse_switch,
    solve_within,
)
from bench.generate import generate


def _plan(sol) -> list[tuple[int, int]]:
    return sorted((a.demand_id, a.member_id) for a in sol.assignments)


def test_same_input_same_plan_when_cut_by_the_limit():
    # scarce skills: CP-SAT does not prove this one within the limit, so the limit decides
    prob = replace(generate(410, 300, seed=1, mismatch=0.6), time_limit_s=3.0, deterministic=True, random_seed=7)
    first, second = solve(prob), solve(prob)
    assert first.stats.status == "FEASIBLE"
    assert check(prob, first) == []
    assert _plan(first) == _plan(second)
    assert (first.stats.objective, first.stats.best_bound) == (second.stats.objective, second.stats.best_bound)


def test_same_input_same_plan_on_a_pruned_flow_only_instance():
    # the flow stage runs on a work clock (arcs solved), the bound pass on the pruned pairs
    prob = replace(generate(600, 500, seed=3), time_limit_s=4.0, deterministic=True, max_pairs=8_000, method="flow")
    first, second = solve(prob), solve(prob)
    assert first.stats.top_k is not None  # pruned: the flow stage and the bound pass run
    assert _plan(first) == _plan(second)
    assert first.stats.coverage_bound == second.stats.coverage_bound


def test_coarse_switch_of_a_deterministic_solve_counts_work_not_time():
    # the planned generation work (eligibility.candidates' cells) runs out half-way: the blocks
    # after that are generated coarse in both runs, whatever the clock says
    prob = replace(generate(600, 500, seed=5), time_limit_s=3.0, deterministic=True, max_pairs=8_000, method="flow")
    seen: list[int] = []
    candidates(prepare(prob), coarse_after=lambda cells: seen.append(cells) or False)
    runs = []
    for _ in range(2):
        budget = Budget.starting_now(prob, None)
        budget.coarse_cells = seen[len(seen) // 2]
        runs.append(solve_within(prob, budget))
    for sol in runs:
        assert "coarser level" in sol.stats.method and "once generation turned coarse" in sol.stats.method
        assert check(prob, sol) == []
    assert _plan(runs[0]) == _plan(runs[1])
    assert runs[0].stats.objective == runs[1].stats.objective


def test_the_planned_generation_work_follows_the_limit():
    # deterministic: no switch while the work measure is below CANDIDATE_SHARE of the limit
    prob = replace(generate(300, 200, seed=2), time_limit_s=2.0, deterministic=True)
    switch = _coarse_switch(prob, Budget.starting_now(prob, None))
    planned = CANDIDATE_SHARE * prob.time_limit_s / DETERMINISTIC_SECONDS_PER_CELL
    assert not switch(int(planned) - 1) and switch(int(planned) + 1)
