"""Objective order and terms: coverage first, then quality, home, balance, stability."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.solver import Weights, objective_value, plan_metrics, solve

from .conftest import demand, member, pairs, problem


def _coverage_vs_quality_instance(weights: Weights):
    # member 1 is the only one able to cover demand 11 (skill tax); it is also by far the best
    # for demand 10. Taking demand 10 would leave demand 11 uncovered.
    members = [member(1, skills={"law": 1.0, "tax": 0.3}, cap=1), member(2, skills={"law": 0.1}, cap=1)]
    demands = [demand(10, skills=("law",), priority=1, day=0), demand(11, skills=("tax",), priority=1, day=1)]
    return problem(members, demands, weights=weights)


def test_lexicographic_coverage_beats_quality():
    sol = solve(_coverage_vs_quality_instance(Weights()))
    assert pairs(sol) == {(10, 2), (11, 1)}
    assert sol.stats.status == "OPTIMAL"
    assert sol.stats.coverage_value == 2


def test_weighted_mode_can_trade_coverage_for_quality():
    w = Weights(lexicographic=False, coverage=0.01, quality=100.0)
    sol = solve(_coverage_vs_quality_instance(w))
    assert (10, 1) in pairs(sol)
    assert sol.metrics.demands_covered == 1


def test_priority_weighs_coverage():
    prob = problem([member(1, cap=1)], [demand(10, priority=2, day=0, hour=10), demand(11, priority=5, day=0, hour=11)])
    assert pairs(solve(prob)) == {(11, 1)}


def test_quality_prefers_the_stronger_skill():
    prob = problem([member(1, skills={"law": 0.4}), member(2, skills={"law": 0.9})], [demand(10)])
    assert pairs(solve(prob)) == {(10, 2)}


def test_home_area_then_paired_then_near():
    members = [member(1, home="C"), member(2, home="B", paired_areas=frozenset({"A"})), member(3, home="A")]
    assert pairs(solve(problem(members, [demand(10, area="A")]))) == {(10, 3)}
    assert pairs(solve(problem(members[:2], [demand(10, area="A")]))) == {(10, 2)}


def test_distance_cost_grows_with_distance():
    members = [member(1, home="C"), member(2, home="B")]  # C is ~11 km from A, B ~2 km
    assert pairs(solve(problem(members, [demand(10, area="A")]))) == {(10, 2)}


def test_annual_duty_favours_members_without_activity():
    members = [member(1, activities_this_year=5), member(2, activities_this_year=0)]
    assert pairs(solve(problem(members, [demand(10)]))) == {(10, 2)}


def test_convex_balance_spreads_load():
    members = [member(1, cap=3, skills={"law": 1.0}), member(2, cap=3, skills={"law": 0.95})]
    demands = [demand(10 + d, day=d) for d in range(4)]
    sol = solve(problem(members, demands))
    loads = [sum(1 for _, m in pairs(sol) if m == i) for i in (1, 2)]
    assert sorted(loads) == [2, 2]
    assert sol.metrics.load_peak == 2


def test_stability_keeps_previous_proposals():
    members = [member(1, skills={"law": 0.8}), member(2, skills={"law": 0.85})]
    prob = problem(members, [demand(10)], previous=frozenset({(10, 1)}))
    assert pairs(solve(prob)) == {(10, 1)}
    # a clearly better member still wins
    prob2 = problem(
        [member(1, skills={"law": 0.2}), member(2, skills={"law": 1.0})], [demand(10)], previous=frozenset({(10, 1)})
    )
    assert pairs(solve(prob2)) == {(10, 2)}


def test_continuity_favours_served_communities():
    members = [member(1, skills={"law": 0.85}), member(2, skills={"law": 0.8}, served_communities=frozenset({7}))]
    assert pairs(solve(problem(members, [demand(10, community=7)]))) == {(10, 2)}


def test_extra_members_beyond_min_are_added_when_they_pay():
    prob = problem([member(i) for i in range(1, 4)], [demand(10, min_members=1, max_members=3)])
    assert len(pairs(solve(prob))) == 3


def test_reported_objective_matches_independent_evaluation():
    from bench.generate import generate

    prob = replace(generate(60, 40, seed=3), time_limit_s=5.0)
    sol = solve(prob)
    cov, rest = objective_value(prob, sol.assignments)
    assert cov == pytest.approx(sol.stats.coverage_value)
    # model coefficients are rounded to 0.01 per term
    assert rest == pytest.approx(sol.stats.rest_value, abs=0.02 * (len(sol.assignments) + 5))
    assert plan_metrics(prob, sol.assignments) == sol.metrics


def test_empty_problem():
    sol = solve(problem([], []))
    assert sol.assignments == () and sol.unmet == ()
    assert sol.stats.status == "OPTIMAL"
    sol = solve(problem([member(1)], []))
    assert sol.assignments == ()
    sol = solve(problem([], [demand(10)]))
    assert [u.demand_id for u in sol.unmet] == [10]
