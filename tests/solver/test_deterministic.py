"""Reproducible runs: deterministic=True gives the same plan for the same input, seed, workers
and limit, also when the search is cut by the limit (not proven optimal)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.solver import check, solve
from app.solver.eligibility import candidates, prepare
from app.solver.pipeline import (
    CANDIDATE_SHARE,
    DETERMINISTIC_SECONDS_PER_CELL,
    PLANNED_BUILD_SECONDS_PER_CELL,
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


def _deterministic_state(prob):
    from app.solver.pipeline import generate_candidates

    return generate_candidates(prob, Budget.starting_now(prob, None), None)


def test_the_work_clock_charges_a_solve_by_its_arcs_and_its_nodes():
    # per arc, a solve on a network with five times the nodes (city against 2k) costs more:
    # one cost per arc made the 2k solves look six times dearer than they are
    from app.solver.flow import WorkClock

    small, large = WorkClock(), WorkClock()
    small.spend(100_000, 4_000)
    large.spend(100_000, 20_000)
    assert 0 < small() < large()
    assert large() / small() > 2


def test_the_planned_time_reads_the_generation_work_not_the_clock():
    import time

    from app.solver.pipeline import _planned_usable, _usable

    prob = replace(generate(300, 200, seed=2), time_limit_s=2.0, deterministic=True)
    state = _deterministic_state(prob)
    assert state.candidates.cells > 0
    before = _usable(state)
    time.sleep(0.05)
    assert _usable(state) == before == _planned_usable(state)
    added = int(0.1 / PLANNED_BUILD_SECONDS_PER_CELL)  # 0.1 s more planned generation ...
    state.candidates.cells += added
    assert before - _planned_usable(state) == pytest.approx(added * PLANNED_BUILD_SECONDS_PER_CELL)  # ... less after
    wall = replace(prob, deterministic=False)
    wall_state = _deterministic_state(wall)
    first = _usable(wall_state)
    time.sleep(0.05)
    assert _usable(wall_state) < first  # the wall-clock solve measures what is left


def test_a_deterministic_flow_stage_keeps_the_reduced_stages_work_once_coverage_is_reached():
    # decided from the plan alone: a plan at the coverage bound gives the flows FLOW_ONLY_SHARE
    # of the planned time; an empty plan leaves the reduced CP-SAT stage its part
    import numpy as np

    from app.solver.pipeline import (
        FLOW_BEFORE_REDUCED_SHARE,
        FLOW_ONLY_SHARE,
        _planned_usable,
        _reaches_coverage_bound,
        _replan_planned,
    )

    prob = replace(generate(120, 90, seed=4), time_limit_s=6.0, deterministic=True)
    state = _deterministic_state(prob)
    best = solve(prob)
    index = {
        (d.id, m.id): i
        for i, (d, m) in enumerate(
            (prob.demands[j], prob.members[k]) for j, k in zip(state.candidates.pd, state.candidates.pm, strict=True)
        )
    }
    plan = np.array(sorted(index[(a.demand_id, a.member_id)] for a in best.assignments), dtype=np.int64)
    assert _reaches_coverage_bound(state, plan)
    usable = _planned_usable(state)
    assert usable > 0
    short = np.zeros(0, dtype=np.int64)
    assert _replan_planned(state, FLOW_BEFORE_REDUCED_SHARE, short) == FLOW_BEFORE_REDUCED_SHARE * usable
    assert _replan_planned(state, FLOW_BEFORE_REDUCED_SHARE, plan) == FLOW_ONLY_SHARE * usable
    assert state.stage_clock.planned == (1 - FLOW_ONLY_SHARE) * usable


def test_a_deterministic_budget_is_cut_by_the_clock_only_past_the_promise():
    # the planned work keeps its plan on a machine up to DETERMINISTIC_HARD_STOP x slower; the
    # time limit (team completion's measure) and the promise (the bound pass's) stay where they are
    from app.solver.pipeline import DETERMINISTIC_HARD_STOP

    prob = replace(generate(60, 40, seed=1), time_limit_s=4.0, deterministic=True)
    budget = Budget.starting_now(prob, None)
    promised = 4.0 * 1.05 + 0.5
    assert budget.promised - budget.start == pytest.approx(promised)
    assert budget.deadline - budget.start == pytest.approx(DETERMINISTIC_HARD_STOP * promised)
    assert budget.at_limit - budget.start == pytest.approx(4.0)
    wall = Budget.starting_now(replace(prob, deterministic=False), None)
    assert wall.deadline - wall.start == pytest.approx(4.0) == wall.at_limit - wall.start
    budget.keep_back(0.5)
    assert budget.at_limit - budget.start == pytest.approx(3.5)
