"""The solver against an independent exact MILP (HiGHS, tests/solver/reference_milp.py) on
small random instances: the same coverage optimum, the same rest optimum within the model's
rounding (objective terms are rounded to 0.01), and bounds never below the reference optimum."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings

from app.solver import Weights, check, solve

from .reference_milp import solve_reference
from .test_properties import problems

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(problems(max_members=6, max_demands=6))
def test_coverage_and_rest_equal_the_reference_optimum(prob):
    prob = replace(prob, weights=Weights(), method="auto")
    ref = solve_reference(prob)
    assert ref.proven
    sol = solve(prob)
    assert check(prob, sol) == []
    st = sol.stats
    tol = 0.01 * (len(sol.assignments) + len(prob.members) + 2)  # one rounding step per term
    assert st.coverage_value == ref.coverage
    assert st.coverage_bound >= ref.coverage
    assert st.rest_bound >= ref.rest - tol
    assert st.rest_value <= ref.rest + tol
    if st.status == "OPTIMAL":
        assert abs(st.rest_value - ref.rest) <= tol
