"""The checker on its own: it flags plan-level mistakes that no single rule test covers."""

from __future__ import annotations

from app.solver import check, solve

from .conftest import demand, member, problem, with_extra


def test_duplicate_unknown_and_mislabelled_assignments():
    prob = problem([member(1), member(2)], [demand(10, max_members=1)])
    sol = solve(prob)
    assert check(prob, sol) == []
    a = sol.assignments[0]
    assert any("twice" in v for v in check(prob, with_extra(sol, a.demand_id, a.member_id)))
    assert any("unknown" in v for v in check(prob, with_extra(sol, 99, 1)))
    other = 2 if a.member_id == 1 else 1
    assert any("pinned flag" in v for v in check(prob, with_extra(sol, 10, other, pinned=True)))


def test_checker_allows_touching_intervals_and_flags_real_overlap():
    prob = problem(
        [member(1, cap=3)], [demand(10, hour=10, hours=1), demand(11, hour=11), demand(12, hour=10, hours=3)]
    )
    sol = solve(prob)
    assert {(a.demand_id) for a in sol.assignments} == {10, 11}
    assert any("overlap" in v for v in check(prob, with_extra(sol, 12, 1)))
