"""Constraint-verifier suite: each hard rule of the checker, once kept and once broken.

Plans are written by hand (not solved), so each test judges exactly one rule on exactly the
pairs it names; test names follow the rule functions in app/solver/checker.py.
"""

from __future__ import annotations

from app.solver import Problem, TimeSlot, solve
from app.solver.checker import (
    accepted_pairs_are_kept,
    check,
    cross_area_is_allowed,
    each_pair_is_known_once_and_labelled,
    has_no_conflict_of_interest,
    holds_a_required_skill,
    member_is_active_and_available,
    never_in_two_places,
    proposals,
    stays_within_cap,
    stays_within_max_members,
    was_not_declined_before,
)
from app.solver.types import Solution

from .conftest import at, demand, member, problem, with_extra

_EMPTY = solve(Problem(members=(), demands=(), area_coords={}))


def plan(prob: Problem, *pairs: tuple[int, int]) -> Solution:
    """A hand-written plan: the given (demand, member) pairs, pinned where the problem pins them."""
    sol = Solution((), (), _EMPTY.stats, _EMPTY.metrics)
    for d, m in pairs:
        sol = with_extra(sol, d, m, pinned=(d, m) in prob.pinned)
    return sol


def pair_rule(rule, prob: Problem, d: int, m: int) -> list[str]:
    (proposal,) = proposals(prob, plan(prob, (d, m)))
    return rule(prob, proposal)


# ----------------------------------------------------------------------------- pair rules
def test_member_is_active_and_available_kept():
    prob = problem([member(1, weekly_slots=(TimeSlot(0, at(0, 9).time(), at(0, 12).time()),))], [demand(10)])
    assert pair_rule(member_is_active_and_available, prob, 10, 1) == []


def test_member_is_active_and_available_broken():
    monday = at(0, 0).date()
    inactive = problem([member(1, active=False)], [demand(10)])
    blackout = problem([member(1, blackout_dates=frozenset({monday}))], [demand(10)])
    evenings = (TimeSlot(0, at(0, 18).time(), at(0, 21).time()),)
    outside_slot = problem([member(1, weekly_slots=evenings)], [demand(10)])
    assert pair_rule(member_is_active_and_available, inactive, 10, 1) == ["demand 10 / member 1: member is not active"]
    assert "blackout" in pair_rule(member_is_active_and_available, blackout, 10, 1)[0]
    assert "weekly slots" in pair_rule(member_is_active_and_available, outside_slot, 10, 1)[0]


def test_holds_a_required_skill_kept():
    prob = problem([member(1, skills={"tax": 0.5})], [demand(10, skills=("law", "tax")), demand(11, skills=())])
    assert pair_rule(holds_a_required_skill, prob, 10, 1) == []
    assert pair_rule(holds_a_required_skill, prob, 11, 1) == []  # open to all


def test_holds_a_required_skill_broken():
    prob = problem([member(1, skills={"art": 1.0, "law": 0.0})], [demand(10, skills=("law",))])
    assert pair_rule(holds_a_required_skill, prob, 10, 1) == [
        "demand 10 / member 1: member holds none of the required skills"
    ]


def test_has_no_conflict_of_interest_kept():
    prob = problem([member(1)], [demand(10, excluded_members=frozenset({2}))])
    assert pair_rule(has_no_conflict_of_interest, prob, 10, 1) == []


def test_has_no_conflict_of_interest_broken():
    prob = problem([member(1)], [demand(10, excluded_members=frozenset({1}))])
    assert pair_rule(has_no_conflict_of_interest, prob, 10, 1) == ["demand 10 / member 1: conflict of interest"]


def test_was_not_declined_before_kept():
    prob = problem([member(1)], [demand(10), demand(11, day=1)], forbidden=frozenset({(11, 1)}))
    assert pair_rule(was_not_declined_before, prob, 10, 1) == []


def test_was_not_declined_before_broken():
    prob = problem([member(1)], [demand(10)], forbidden=frozenset({(10, 1)}))
    assert pair_rule(was_not_declined_before, prob, 10, 1) == [
        "demand 10 / member 1: member declined this demand earlier"
    ]


def test_cross_area_is_allowed_kept():
    prob = problem([member(1, home="A", max_distance_km=5.0)], [demand(10, area="B"), demand(11, area="A", day=1)])
    assert pair_rule(cross_area_is_allowed, prob, 10, 1) == []  # B is 2.2 km away
    assert pair_rule(cross_area_is_allowed, prob, 11, 1) == []


def test_cross_area_is_allowed_broken():
    no_consent = problem([member(1, home="A", accepts_cross_area=False)], [demand(10, area="B")])
    too_far = problem([member(1, home="A", max_distance_km=5.0)], [demand(10, area="C")])
    assert "does not accept cross-area" in pair_rule(cross_area_is_allowed, no_consent, 10, 1)[0]
    assert "exceeds the member's limit" in pair_rule(cross_area_is_allowed, too_far, 10, 1)[0]


# ----------------------------------------------------------------------------- plan rules
def test_each_pair_is_known_once_and_labelled_kept():
    prob = problem([member(1), member(2)], [demand(10, max_members=2)], pinned=frozenset({(10, 2)}))
    assert each_pair_is_known_once_and_labelled(prob, plan(prob, (10, 1), (10, 2))) == []


def test_each_pair_is_known_once_and_labelled_broken():
    prob = problem([member(1), member(2)], [demand(10, max_members=2)], pinned=frozenset({(10, 2)}))
    twice = plan(prob, (10, 1), (10, 1))
    unknown = plan(prob, (99, 1))
    mislabelled = with_extra(plan(prob), 10, 1, pinned=True)
    assert any("twice" in v for v in each_pair_is_known_once_and_labelled(prob, twice))
    assert any("unknown" in v for v in each_pair_is_known_once_and_labelled(prob, unknown))
    assert any("pinned flag" in v for v in each_pair_is_known_once_and_labelled(prob, mislabelled))


def test_accepted_pairs_are_kept_kept():
    prob = problem([member(1)], [demand(10)], pinned=frozenset({(10, 1), (99, 1)}))  # 99: gone demand
    assert accepted_pairs_are_kept(prob, plan(prob, (10, 1))) == []


def test_accepted_pairs_are_kept_broken():
    prob = problem([member(1), member(2)], [demand(10)], pinned=frozenset({(10, 1)}))
    assert accepted_pairs_are_kept(prob, plan(prob, (10, 2))) == [
        "demand 10 / member 1: accepted (pinned) pair was dropped"
    ]


def test_stays_within_max_members_kept():
    prob = problem([member(1), member(2)], [demand(10, min_members=1, max_members=2)])
    assert stays_within_max_members(prob, plan(prob, (10, 1), (10, 2))) == []


def test_stays_within_max_members_broken():
    prob = problem([member(1), member(2)], [demand(10, max_members=1)])
    assert stays_within_max_members(prob, plan(prob, (10, 1), (10, 2))) == ["demand 10: 2 members exceed max_members 1"]


def test_stays_within_cap_kept():
    # the busy interval IS the pinned assignment: counted once, so 2 fits a cap of 2
    d10 = demand(10)
    prob = problem(
        [member(1, cap=2, busy=((d10.start, d10.end),))], [d10, demand(11, day=1)], pinned=frozenset({(10, 1)})
    )
    assert stays_within_cap(prob, plan(prob, (10, 1), (11, 1))) == []


def test_stays_within_cap_broken():
    busy = ((at(2, 9), at(2, 10)),)
    prob = problem([member(1, cap=2, busy=busy)], [demand(10), demand(11, day=1)])
    assert stays_within_cap(prob, plan(prob, (10, 1), (11, 1))) == ["member 1: load 3 exceeds cap 2"]


def test_never_in_two_places_kept():
    # half-open intervals: 10:00-11:00 and 11:00-13:00 touch, they do not overlap
    prob = problem([member(1, cap=3, busy=((at(0, 8), at(0, 10)),))], [demand(10, hours=1), demand(11, hour=11)])
    assert never_in_two_places(prob, plan(prob, (10, 1), (11, 1))) == []


def test_never_in_two_places_broken():
    busy = ((at(1, 9), at(1, 11)),)
    prob = problem([member(1, cap=3, busy=busy)], [demand(10), demand(11, hour=11), demand(12, day=1)])
    errors = never_in_two_places(prob, plan(prob, (10, 1), (11, 1), (12, 1)))
    assert errors == [
        "member 1: demands 10 and 11 overlap",
        f"member 1: demand 12 overlaps an accepted assignment {busy[0][0]}..{busy[0][1]}",
    ]


def test_check_runs_every_rule():
    prob = problem([member(1, active=False, skills={"art": 1.0})], [demand(10)])
    assert len(check(prob, plan(prob, (10, 1)))) == 2  # inactive and no skill
    assert check(prob, plan(prob)) == []
