"""Pure optimisation core of the matcher: plain dataclasses in, plain results out.

Imports nothing from the web or database layers (only the standard library, numpy and
OR-Tools), so it can be tested, benchmarked and reused on its own.
"""

from typing import TYPE_CHECKING

from app.solver.baselines import fixed_pairing, greedy
from app.solver.checker import check
from app.solver.metrics import objective_value, plan_metrics
from app.solver.types import (
    Assignment,
    InfeasiblePlanError,
    PairExplanation,
    PlanMetrics,
    Problem,
    Solution,
    SolverDemand,
    SolverMember,
    SolverStatus,
    SolveStats,
    TimeSlot,
    Unmet,
    UnmetCause,
    Weights,
)

if TYPE_CHECKING:
    from app.solver.pipeline import solve


def __getattr__(name: str) -> object:
    """``solve`` is loaded on first use (PEP 562): the pipeline imports OR-Tools (~0.6 s and
    tens of MB), which a process that only builds problems, checks plans or serves the API
    (its solves run in another process) never needs."""
    if name == "solve":
        from app.solver.pipeline import solve

        return solve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "solve",
    "check",
    "fixed_pairing",
    "greedy",
    "plan_metrics",
    "objective_value",
    "Assignment",
    "InfeasiblePlanError",
    "PairExplanation",
    "PlanMetrics",
    "Problem",
    "Solution",
    "SolveStats",
    "SolverDemand",
    "SolverMember",
    "SolverStatus",
    "TimeSlot",
    "Unmet",
    "UnmetCause",
    "Weights",
]
