"""Local moves (app/solver/improve.py). The rest moves (seat swaps, member trades,
relocations): coverage never lower, the rest never lower; team completion: coverage never
lower; every plan still passes the checker; on generated instances each finds something the
plan before it missed; and trades / relocations that would break a rule are not made."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from app.solver import check
from app.solver.eligibility import candidates, prepare
from app.solver.explain import assemble
from app.solver.improve import complete_teams, improve_rest, relocate_members, trade_members
from app.solver.model import build, coverage_of, rest_of
from app.solver.pipeline import greedy_pairs
from app.solver.types import SolverStatus, SolveStats
from bench.generate import generate, generate_family

from .conftest import demand, member, problem
from .test_properties import problems


def _swapped(prob):
    p = prepare(prob)
    cand = candidates(p)
    model = build(p, cand, write_rows=False)
    plan = greedy_pairs(p, cand)
    return p, cand, model, plan, improve_rest(p, cand, model, plan, lambda: False)


def _as_solution(p, cand, plan):
    stats = SolveStats(
        status=SolverStatus.FEASIBLE,
        objective=0.0,
        best_bound=0.0,
        gap=0.0,
        build_s=0.0,
        solve_s=0.0,
        wall_s=0.0,
        members=p.M,
        demands=p.D,
        candidate_pairs=len(cand),
        method="swaps",
    )
    return assemble(p, [(int(cand.pd[k]), int(cand.pm[k])) for k in plan], stats)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_rest_moves_keep_coverage_raise_the_rest_and_stay_feasible(prob):
    p, cand, model, before, after = _swapped(prob)
    assert coverage_of(model, after) >= coverage_of(model, before)
    assert rest_of(model, after) >= rest_of(model, before)
    assert check(prob, _as_solution(p, cand, after)) == []


def test_swaps_improve_the_greedy_plan_of_a_generated_instance():
    prob = generate(120, 90, seed=5)
    p, cand, model, before, after = _swapped(prob)
    assert rest_of(model, after) > rest_of(model, before)
    assert coverage_of(model, after) >= coverage_of(model, before)
    assert check(prob, _as_solution(p, cand, after)) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_team_completion_never_loses_coverage_and_stays_feasible(prob):
    p = prepare(prob)
    cand = candidates(p)
    model = build(p, cand, write_rows=False)
    plan = greedy_pairs(p, cand)
    after = complete_teams(p, cand, model, plan, lambda: False)
    assert coverage_of(model, after) >= coverage_of(model, plan)
    assert check(prob, _as_solution(p, cand, after)) == []


def test_team_completion_staffs_teams_the_greedy_left_short():
    # teams family: members' capacity runs out on extra seats and single-member demands, so
    # the greedy leaves 3-member teams empty; releasing an extra seat or handing one to a free
    # member completes some of them
    prob = generate_family("teams", 150, 150, seed=1)
    p = prepare(prob)
    cand = candidates(p)
    model = build(p, cand, write_rows=False)
    plan = greedy_pairs(p, cand)
    after = complete_teams(p, cand, model, plan, lambda: False)
    assert coverage_of(model, after) > coverage_of(model, plan)
    assert check(prob, _as_solution(p, cand, after)) == []


def test_team_completion_moves_a_team_to_a_demand_of_higher_priority():
    # both members are at capacity on the low-priority team and nobody else can take a seat:
    # no ejection helps, only emptying the low-priority team for the high-priority one
    members = [member(1, cap=1), member(2, cap=1)]
    low = demand(10, day=0, min_members=2, max_members=2, priority=1)
    high = demand(20, day=1, min_members=2, max_members=2, priority=4)
    prob = problem(members, [low, high])
    p = prepare(prob)
    cand = candidates(p)
    model = build(p, cand, write_rows=False)
    on_low = np.nonzero(cand.pd == 0)[0]
    assert coverage_of(model, on_low) == 1
    after = complete_teams(p, cand, model, on_low, lambda: False)
    assert coverage_of(model, after) == 4
    assert {int(cand.pd[k]) for k in after} == {1}
    assert check(prob, _as_solution(p, cand, after)) == []


def _prepared(members, demands):
    prob = problem(members, demands)
    p = prepare(prob)
    cand = candidates(p)
    return prob, p, cand, build(p, cand, write_rows=False)


def _plan_of(p, cand, pairs):
    """Candidate indices of (demand id, member id) pairs."""
    keys = {(int(cand.pd[k]), int(cand.pm[k])): k for k in range(len(cand))}
    return np.array(sorted(keys[p.d_pos[d], p.m_pos[m]] for d, m in pairs), dtype=np.int64)


def _pairs(p, cand, plan):
    demand_ids, member_ids = list(p.d_pos), list(p.m_pos)
    return sorted((demand_ids[int(cand.pd[k])], member_ids[int(cand.pm[k])]) for k in plan)


def test_two_members_trade_seats_to_serve_their_home_areas():
    # each member sits on the other's home-area demand: trading seats gains both home bonuses
    members = [member(1, home="A"), member(2, home="B")]
    demands = [demand(10, area="B", day=0), demand(20, area="A", day=1)]
    prob, p, cand, model = _prepared(members, demands)
    before = _plan_of(p, cand, [(10, 1), (20, 2)])
    after = trade_members(p, cand, model, before, lambda: False)
    assert _pairs(p, cand, after) == [(10, 2), (20, 1)]
    assert coverage_of(model, after) == coverage_of(model, before)
    assert rest_of(model, after) > rest_of(model, before)
    assert check(prob, _as_solution(p, cand, after)) == []


def test_no_trade_that_puts_a_member_in_two_places():
    # as above, but member 1 also sits on demand 30, at the same time as demand 20: taking
    # member 2's seat on 20 would overlap, so the plan stays as it is
    members = [member(1, home="A"), member(2, home="B")]
    demands = [demand(10, area="B", day=0), demand(20, area="A", day=1), demand(30, area="A", day=1, hour=11)]
    prob, p, cand, model = _prepared(members, demands)
    before = _plan_of(p, cand, [(10, 1), (20, 2), (30, 1)])
    after = trade_members(p, cand, model, before, lambda: False)
    assert _pairs(p, cand, after) == _pairs(p, cand, before)
    assert check(prob, _as_solution(p, cand, after)) == []


def test_a_member_relocates_to_its_home_area_when_both_demands_stay_staffed():
    # demand 10 keeps member 2 without member 1; demand 20 has a seat left in member 1's area
    # (caps of 1: members can move, not take a second seat)
    members = [member(1, home="A", cap=1), member(2, home="B", cap=1), member(3, home="A", cap=1)]
    demands = [demand(10, area="B", max_members=2), demand(20, area="A", day=1, max_members=2)]
    prob, p, cand, model = _prepared(members, demands)
    before = _plan_of(p, cand, [(10, 1), (10, 2), (20, 3)])
    after = relocate_members(p, cand, model, before, lambda: False)
    assert (20, 1) in _pairs(p, cand, after) and (10, 1) not in _pairs(p, cand, after)
    assert coverage_of(model, after) == coverage_of(model, before)
    assert rest_of(model, after) > rest_of(model, before)
    assert check(prob, _as_solution(p, cand, after)) == []


def test_no_relocation_that_leaves_a_team_short_or_overfills_a_demand():
    # demand 10 needs both its members and demand 20 is full: member 1 stays where it is
    members = [member(1, home="A"), member(2, home="B"), member(3, home="A")]
    demands = [demand(10, area="B", min_members=2, max_members=2), demand(20, area="A", day=1)]
    prob, p, cand, model = _prepared(members, demands)
    before = _plan_of(p, cand, [(10, 1), (10, 2), (20, 3)])
    after = relocate_members(p, cand, model, before, lambda: False)
    assert _pairs(p, cand, after) == _pairs(p, cand, before)
    assert check(prob, _as_solution(p, cand, after)) == []
