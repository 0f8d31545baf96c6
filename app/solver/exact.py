"""The exact stages: one objective over the (reduced) model, LP relaxation first, then CP-SAT.

Each stage of the pipeline (coverage, then the rest with coverage held; or one weighted
objective) is the same three steps over an `Objective`:

1. the LP relaxation (GLOP, lp.py) tightens the bound and, when its solution is integral and no
   demand is half-staffed, is a plan of its own (often the optimum at district size);
2. CP-SAT searches from the best plan as hint, with "objective <= bound" as a constraint so it
   stops as soon as it reaches the bound; its plans are accepted only if `accept` says so (the
   rest stage must not lose coverage);
3. the stage's bound becomes CP-SAT's proven bound (or the plan's value when proven optimal).

CP-SAT runs with fixed seeds; with `deterministic` its workers are interleaved and the limit is
a deterministic time, so the same input gives the same plan.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from app.solver.lp import LpResult, solve_lp
from app.solver.model import INT_MAX, MatchModel
from app.solver.types import Problem, SolverStatus

log = logging.getLogger(__name__)

Progress = Callable[[float, float], None]
# Presolve costs seconds on these models (it turns the coverage links into implications that
# the level-1 LP then ignores); the LP on the raw model is already tight.
CPSAT_PRESOLVE = False
# CP-SAT deterministic time units per wall second with 2 interleaved workers, measured on the
# target machine on the scarce-skill district instance (0.14 units in 3.7 s under load); the
# wall limit stays as a hard stop (a run cut by it is on time but may not repeat exactly).
DETERMINISTIC_UNITS_PER_S = 0.03
LP_SECONDS_PER_PAIR = 4e-5  # GLOP incl. the MPS export, ~1.2 s per 30k pairs on the target machine


class StageClock:
    """Time for the exact stages: `left()` plans (wall time left, or for deterministic solves a
    planned budget that does not depend on the load), `wall_left()` is the hard stop, and
    `charge()` books the time a step was given against the planned budget."""

    def __init__(self, wall_left: Callable[[], float], planned: float | None = None):
        self.wall_left = wall_left
        self.planned = planned

    def left(self) -> float:
        return self.wall_left() if self.planned is None else max(self.planned, 0.0)

    def charge(self, seconds: float) -> None:
        if self.planned is not None:
            self.planned -= seconds


@dataclass
class Objective:
    """One stage objective: maximise sum(coefs * vars) + offset over the model."""

    name: str
    vars: list[int]
    coefs: list[int]
    offset: int
    value: Callable[[np.ndarray], int]  # a plan's value in this objective
    accept: Callable[[np.ndarray], bool]  # may a plan replace the incumbent (beyond being better)?
    rows: list[tuple[list[int], list[int], int, int]] = field(default_factory=list)  # stage-only rows
    to_units: Callable[[float], float] = float  # stage value -> reported objective units


@dataclass
class StageOutcome:
    plan: np.ndarray
    value: int
    bound: float
    steps: list[str] = field(default_factory=list)
    cancelled: bool = False


@dataclass
class ExactSettings:
    use_lp: bool
    use_cpsat: bool
    lp_share: float  # share of the time left the LP may use
    cpsat_share: float  # share of the time left CP-SAT may use (after the LP)


def optimise(
    model: MatchModel,
    problem: Problem,
    objective: Objective,
    start: StageOutcome,
    settings: ExactSettings,
    *,
    clock: StageClock,
    cancel: threading.Event | None,
    on_progress: Progress | None,
) -> StageOutcome:
    """LP then CP-SAT on one objective, from `start` (plan, value, bound); never worse."""
    out = StageOutcome(start.plan, start.value, start.bound)
    if not objective.vars:  # a constant objective: every plan has the same value
        out.bound = out.value
    if (cancel is not None and cancel.is_set()) or out.value >= out.bound:
        return out
    lp_limit = settings.lp_share * clock.left()
    if settings.use_lp and LP_SECONDS_PER_PAIR * model.n_pairs <= lp_limit:
        clock.charge(lp_limit)
        lp = solve_lp(
            model.b,
            objective.vars,
            objective.coefs,
            offset=objective.offset,
            extra_rows=objective.rows,
            time_limit_s=min(lp_limit, clock.wall_left()),
        )
        if lp.ok:
            out.steps.append("lp")
            out.bound = min(out.bound, math.floor(lp.value + 1e-6))
            _take_if_better(out, objective, lp_plan(model, lp))
    if out.value < out.bound and settings.use_cpsat:
        for vars_, coefs, lo, hi in objective.rows:
            model.b.linear(vars_, coefs, lo, hi)
        model.b.maximize(objective.vars, objective.coefs, offset=objective.offset)
        if math.isfinite(out.bound):
            model.b.linear(objective.vars, objective.coefs, -INT_MAX, int(out.bound) - objective.offset)
        limit = settings.cpsat_share * clock.left()
        clock.charge(limit)
        res = run_cpsat(model, problem, limit, clock.wall_left(), out.plan, cancel, on_progress, objective)
        out.steps.append("cp-sat")
        out.cancelled = res.status == SolverStatus.CANCELLED
        if res.plan is not None:
            _take_if_better(out, objective, res.plan)
        if res.status == SolverStatus.OPTIMAL or res.bound == -math.inf:
            out.bound = out.value
        elif math.isfinite(res.bound):
            out.bound = min(out.bound, math.floor(res.bound + 1e-6))
    out.bound = max(out.bound, out.value)
    return out


def _take_if_better(out: StageOutcome, objective: Objective, plan: np.ndarray | None) -> None:
    if plan is None or not objective.accept(plan):
        return
    v = objective.value(plan)
    if v > out.value:
        out.plan, out.value = plan, v


def lp_plan(model: MatchModel, res: LpResult) -> np.ndarray | None:
    """The LP's plan when its pair variables are integral and no demand is half-staffed (a
    fractional coverage indicator could otherwise let a few members sit on a demand that stays
    below min_members, which the model forbids)."""
    x = res.x[: model.n_pairs]
    if not len(x) or np.any(np.abs(x - np.rint(x)) > 1e-6):
        return None
    chosen = np.nonzero(np.rint(x) > 0)[0]
    xi = np.zeros(model.n_pairs, dtype=np.int64)
    xi[chosen] = 1
    for d, idx in model.pairs_of_demand.items():
        n = int(xi[idx].sum())
        if 0 < n < model.y_need[d]:
            return None
    return chosen


@dataclass
class CpsatResult:
    status: SolverStatus | None  # None: skipped (no time left)
    plan: np.ndarray | None
    bound: float  # in the stage objective's units; inf unknown, -inf "nothing beats the bound"


class _ProgressCallback(cp_model.CpSolverSolutionCallback):
    def __init__(self, on_progress: Progress, to_units: Callable[[float], float]):
        super().__init__()
        self._on_progress, self._to_units = on_progress, to_units

    def on_solution_callback(self) -> None:
        try:
            self._on_progress(self._to_units(self.objective_value), self._to_units(self.best_objective_bound))
        except Exception:  # a failing progress hook must not kill the search
            log.debug("progress callback failed; the search goes on", exc_info=True)


def configure(solver: cp_model.CpSolver, problem: Problem, limit: float, wall_left: float) -> None:
    """Time limit, workers, seed and (for reproducible runs) interleaved deterministic search."""
    prm = solver.parameters
    prm.max_time_in_seconds = min(limit, wall_left)
    prm.num_workers = max(1, int(problem.num_workers))
    prm.relative_gap_limit = float(problem.relative_gap)
    prm.random_seed = int(problem.random_seed)
    prm.cp_model_presolve = CPSAT_PRESOLVE
    if problem.deterministic:
        prm.interleave_search = True
        prm.max_deterministic_time = max(limit * DETERMINISTIC_UNITS_PER_S, 0.001)
        prm.max_time_in_seconds = wall_left  # the hard stop


_STATUS = {
    cp_model.OPTIMAL: SolverStatus.OPTIMAL,
    cp_model.FEASIBLE: SolverStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolverStatus.INFEASIBLE,
}


def run_cpsat(
    model: MatchModel,
    problem: Problem,
    limit: float,
    wall_left: float,
    hint: np.ndarray,
    cancel: threading.Event | None,
    on_progress: Progress | None,
    objective: Objective,
) -> CpsatResult:
    """One CP-SAT solve of the model's current objective; a cancel request stops the search."""
    if cancel is not None and cancel.is_set():
        return CpsatResult(SolverStatus.CANCELLED, None, math.inf)
    if min(limit, wall_left) <= 0.02:
        return CpsatResult(None, None, math.inf)
    model.b.hint(*model.full_assignment(hint))
    solver = cp_model.CpSolver()
    configure(solver, problem, limit, wall_left)
    done = threading.Event()

    def watch() -> None:
        while cancel is not None and not done.is_set():
            if cancel.is_set():
                solver.stop_search()
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    callback = _ProgressCallback(on_progress, objective.to_units) if on_progress else None
    try:
        status = solver.solve(model.b.model, callback)
    finally:
        done.set()
        watcher.join()
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    res = CpsatResult(_STATUS.get(status, SolverStatus.UNKNOWN), None, math.inf)
    if found:
        res.bound = float(solver.best_objective_bound)
        values = solver.response_proto.solution
        x = np.fromiter(values, dtype=np.int64, count=len(values))[: model.n_pairs]
        res.plan = np.nonzero(x)[0]
    elif status == cp_model.INFEASIBLE:
        res.bound = -math.inf  # only possible under the bound constraint: nothing beats it
    if cancel is not None and cancel.is_set():
        res.status = SolverStatus.CANCELLED
    return res
