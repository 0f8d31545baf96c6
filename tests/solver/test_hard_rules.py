"""One small instance per hard rule: the solver respects it, and the checker catches a plan
that breaks it (built by hand on top of the solver's plan)."""

from __future__ import annotations

from datetime import time

import pytest

from app.solver import InfeasiblePlanError, TimeSlot, check, solve
from app.solver.types import Solution

from .conftest import at, demand, member, pairs, problem, with_extra


def _solve_and_check(prob) -> Solution:
    sol = solve(prob)
    assert check(prob, sol) == []
    return sol


# rule 1: active members, blackout dates, weekly slots ------------------------------------
def test_inactive_member_is_never_assigned():
    prob = problem([member(1, active=False), member(2)], [demand(10)])
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 2)}
    assert any("not active" in v for v in check(prob, with_extra(sol, 10, 1)))


def test_blackout_date_blocks_the_member():
    prob = problem([member(1, blackout_dates=frozenset({at(0, 0).date()})), member(2)], [demand(10, day=0)])
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 2)}
    assert any("blackout" in v for v in check(prob, with_extra(sol, 10, 1)))


def test_blackout_on_the_second_day_of_an_overnight_demand():
    d = demand(10, day=0, hour=22, hours=4)  # Monday 22:00 -> Tuesday 02:00
    prob = problem([member(1, blackout_dates=frozenset({at(1, 0).date()}))], [d])
    sol = _solve_and_check(prob)
    assert pairs(sol) == set()


def test_weekly_slots_must_contain_the_demand():
    evenings = (TimeSlot(0, time(18), time(21)),)
    prob = problem(
        [member(1, weekly_slots=evenings), member(2, weekly_slots=evenings)],
        [demand(10, day=0, hour=18, hours=2), demand(11, day=0, hour=20, hours=2)],
    )
    sol = _solve_and_check(prob)
    # 20:00-22:00 runs past the slot end: nobody may take demand 11
    assert {d for d, _ in pairs(sol)} == {10}
    assert any("weekly slots" in v for v in check(prob, with_extra(sol, 11, 2)))


def test_weekly_slot_on_another_weekday_does_not_count():
    tuesday = (TimeSlot(1, time(8), time(20)),)
    prob = problem([member(1, weekly_slots=tuesday)], [demand(10, day=0, hour=10)])
    assert pairs(_solve_and_check(prob)) == set()


# rule 2: skills -----------------------------------------------------------------------
def test_member_needs_at_least_one_required_skill():
    prob = problem(
        [member(1, skills={"music": 1.0}), member(2, skills={"law": 0.5, "tax": 1.0})],
        [demand(10, skills=("law", "finance"))],
    )
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 2)}
    assert any("required skills" in v for v in check(prob, with_extra(sol, 10, 1)))


def test_open_demand_is_open_to_all():
    prob = problem([member(1, skills={})], [demand(10, skills=())])
    assert pairs(_solve_and_check(prob)) == {(10, 1)}


# rule 3: conflicts of interest and earlier declines ----------------------------------------
def test_conflict_of_interest_is_never_assigned():
    prob = problem(
        [member(1, skills={"law": 1.0}), member(2, skills={"law": 0.4})], [demand(10, excluded_members=frozenset({1}))]
    )
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 2)}
    assert any("conflict of interest" in v for v in check(prob, with_extra(sol, 10, 1)))


def test_declined_pair_is_never_assigned():
    prob = problem(
        [member(1, skills={"law": 1.0}), member(2, skills={"law": 0.4})], [demand(10)], forbidden=frozenset({(10, 1)})
    )
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 2)}
    assert any("declined" in v for v in check(prob, with_extra(sol, 10, 1)))


# rule 4: capacity and overlaps --------------------------------------------------------
def test_capacity_counts_accepted_work():
    busy = ((at(3, 9), at(3, 10)),)
    prob = problem([member(1, cap=2, busy=busy)], [demand(10, day=0), demand(11, day=1), demand(12, day=2)])
    sol = _solve_and_check(prob)
    assert len(pairs(sol)) == 1  # cap 2 minus one accepted
    other = next(d for d in (10, 11, 12) if (d, 1) not in pairs(sol))
    assert any("exceeds cap" in v for v in check(prob, with_extra(sol, other, 1)))


def test_no_member_in_two_overlapping_demands():
    prob = problem(
        [member(1, cap=3)], [demand(10, hour=10, hours=2), demand(11, hour=11, hours=2), demand(12, hour=12, hours=1)]
    )
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 1), (12, 1)}  # 10-12 and 12-13 touch but do not overlap
    assert any("overlap" in v for v in check(prob, with_extra(sol, 11, 1)))


def test_no_overlap_with_accepted_work():
    prob = problem([member(1, cap=3, busy=((at(0, 11), at(0, 12)),))], [demand(10, hour=10)])
    sol = _solve_and_check(prob)
    assert pairs(sol) == set()
    assert any("overlaps an accepted" in v for v in check(prob, with_extra(sol, 10, 1)))


# rule 5: max_members, pinned pairs ------------------------------------------------------
def test_max_members_is_respected():
    prob = problem([member(i) for i in range(1, 5)], [demand(10, min_members=1, max_members=2)])
    sol = _solve_and_check(prob)
    assert len(pairs(sol)) == 2
    extra = next(i for i in range(1, 5) if (10, i) not in pairs(sol))
    assert any("max_members" in v for v in check(prob, with_extra(sol, 10, extra)))


def test_pinned_pairs_are_kept_and_count():
    # member 1 is pinned to demand 10 although it would not be eligible (no skill)
    prob = problem(
        [member(1, skills={}, cap=1), member(2)],
        [demand(10, min_members=2, max_members=2), demand(11, day=1)],
        pinned=frozenset({(10, 1)}),
    )
    sol = _solve_and_check(prob)
    assert (10, 1) in pairs(sol)
    assert next(a for a in sol.assignments if a.member_id == 1).pinned
    assert (10, 2) in pairs(sol)  # pinned seat counts toward min_members: one more covers it
    assert sol.metrics.demands_covered >= 1
    assert (11, 1) not in pairs(sol)  # the pinned pair used member 1's only slot
    dropped = Solution(
        assignments=tuple(a for a in sol.assignments if not a.pinned),
        unmet=sol.unmet,
        stats=sol.stats,
        metrics=sol.metrics,
    )
    assert any("dropped" in v for v in check(prob, dropped))


def test_busy_interval_equal_to_a_pinned_demand_is_counted_once():
    d10 = demand(10, day=0)
    prob = problem(
        [member(1, cap=2, busy=((d10.start, d10.end),))], [d10, demand(11, day=1)], pinned=frozenset({(10, 1)})
    )
    sol = _solve_and_check(prob)
    assert pairs(sol) == {(10, 1), (11, 1)}


# rule 6: cross-area consent and distance ------------------------------------------------
def test_cross_area_needs_consent():
    prob = problem([member(1, home="B", accepts_cross_area=False)], [demand(10, area="A")])
    sol = _solve_and_check(prob)
    assert pairs(sol) == set()
    assert any("cross-area" in v for v in check(prob, with_extra(sol, 10, 1)))


def test_distance_limit_blocks_far_areas():
    prob = problem(
        [member(1, home="A", max_distance_km=5.0), member(2, home="A")],
        [demand(10, area="B"), demand(11, area="C", day=1)],
    )
    sol = _solve_and_check(prob)
    assert (10, 1) in pairs(sol) or (10, 2) in pairs(sol)
    assert (11, 1) not in pairs(sol) and (11, 2) in pairs(sol)
    assert any("exceeds the member's limit" in v for v in check(prob, with_extra(sol, 11, 1)))


def test_paired_area_still_counts_as_cross_area_for_consent():
    prob = problem(
        [member(1, home="B", paired_areas=frozenset({"A"}), accepts_cross_area=False)], [demand(10, area="A")]
    )
    assert pairs(_solve_and_check(prob)) == set()


# the loud failure -----------------------------------------------------------------------
def test_solve_raises_when_its_plan_breaks_a_rule(monkeypatch):
    import app.solver.pipeline as pipeline

    monkeypatch.setattr(pipeline, "check", lambda _problem, _solution: ["broken on purpose"])
    with pytest.raises(InfeasiblePlanError, match="broken on purpose"):
        solve(problem([member(1)], [demand(10)]))
