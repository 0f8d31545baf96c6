"""Pure optimisation core of the matcher: plain dataclasses in, plain results out.

Imports nothing from the web or database layers (only the standard library, numpy and
OR-Tools), so it can be tested, benchmarked and reused on its own.
"""

from app.solver.baselines import fixed_pairing, greedy
from app.solver.checker import check
from app.solver.metrics import objective_value, plan_metrics
from app.solver.pipeline import solve
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
