"""solve(): named stages over one SolveState, ending in an explained, checked Solution.

    candidates -> relax (min-cost flow) -> fix (reduced costs) -> exact stages -> bound -> finish

Why this order. On realistic instances plain CP-SAT is slow to find good plans for this
structure (thousands of near-equivalent members, tight coverage), while the relaxations are
very tight:

1. candidates (eligibility.py): only pairs that pass every single-pair hard rule become
   variables; over the pair budget each demand keeps its best K members (plus each member's
   best pairs and the greedy baseline's plan, so the optimiser never covers less than it).
2. relax (relax.py): min-cost flows bound coverage and the weighted objective in milliseconds
   and, after arc fixing, repair and overlap pricing, give a plan usually within a few tenths of
   a percent of the bound. That plan warm-starts everything below and is the fallback when the
   run is cancelled, so solve() always returns a feasible plan.
3. fix: flow reduced costs remove every pair that cannot appear in a better plan (no loss of
   optimality), which shrinks the model the exact stages work on.
4. exact stages (exact.py): on models small enough, LP (GLOP) then CP-SAT, lexicographically:
   coverage first (stopping as soon as it reaches the best bound known), then the rest with
   "coverage >= what the first stage reached" fixed; or one weighted objective.
   Over the pair limits (large instances) the exact stages run instead on a reduced pair set
   (each demand's best few members plus the flow plan's pairs): coverage, then the rest. Its
   plans are feasible for the full problem; its bounds are not used.
5. bound: with pruned candidates the LP / CP-SAT bounds hold for the pruned model only, so the
   reported bounds are the flow bounds corrected for every left-out pair (relax.py, over the
   eligible pairs collected once during candidate generation): coverage by column generation,
   the weighted bound by column generation on the highest peak level (the rest bound at the
   coverage reached follows from it), the rest-alone flow when that is loose. This stage runs
   last, in the time kept back for it, so the plan stages are never short of time for it. A
   reported bound is never below the value of a feasible plan of the unpruned problem.
6. finish: explanations, metrics, and the independent checker (checker.py) on the plan.

Time: the promise is wall time <= limit x 1.05 + 0.5 s, everything included. Every stage reads
the one deadline in `Budget` (the time finish() needs is kept back, scaled by the machine's
load per core, so a busy machine keeps back more). Candidate generation checks the clock and
the cancel request between blocks of demands (highest priority first); at CANDIDATE_SHARE of
the time it turns coarse (the blocks left keep their best few members per demand, nothing is
collected for the bound pass), and it stops only at the deadline or a cancel (the demands not
reached get no pairs; bounds fall back to ones that hold without them). No plan returned is
worse than the greedy baseline over the candidates (`no_worse_than_greedy`). The flow
stage gets a share of what is left after the bound pass's reserve; no flow solve is started
that would end past the deadline (each solve's time is measured; peak levels are solved from
the highest down, so a cut leaves a valid bound), the exact stages stop at the deadline less
the reserve, and the bound pass stops at the promised time (bounds then fall back, never a
late answer). Deterministic solves (Problem.deterministic) plan their work instead: a work
clock for the flow stage, CP-SAT deterministic time and a planned budget for the exact
stages, all for DETERMINISTIC_PLAN_SHARE of the limit at the idle machine's costs. Their hard
stop is DETERMINISTIC_HARD_STOP times the promised wall time, so load up to that does not cut
the planned work and change the plan; the bound pass still stops at the promise.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from app.solver.baselines import BASELINE_MAX_PAIRS, greedy_pairs
from app.solver.checker import check
from app.solver.eligibility import (
    Candidates,
    EligibleCollector,
    EligiblePairs,
    Prepared,
    budget_k,
    candidates,
    prepare,
    prune,
)
from app.solver.exact import ExactSettings, Objective, Progress, StageClock, StageOutcome, optimise
from app.solver.explain import assemble
from app.solver.flow import FlowNetwork, WorkClock
from app.solver.improve import complete_teams, improve_rest
from app.solver.metrics import relative_gap
from app.solver.model import INT_MAX, SCALE, MatchModel, build, coverage_of, rest_of
from app.solver.relax import (
    COLUMN_ROUNDS,
    Relaxation,
    bound_every_pair,
    coverage_bound_without_flows,
    lexicographic_weight,
    relax,
    rest_bound_at,
    trivial_relaxation,
)
from app.solver.types import InfeasiblePlanError, Problem, Solution, SolverStatus, SolveStats

log = logging.getLogger(__name__)

METHODS = ("auto", "cp-sat", "flow")
LP_MAX_PAIRS = 40_000  # GLOP takes ~1 s per 30k pairs on the target machine
CPSAT_MAX_PAIRS = 60_000  # beyond this CP-SAT (2 workers) did not improve flow plans in tests
MEMBER_KEEP = 2  # with pruning, each member keeps at least its best this many pairs
FLOW_SHARE = 0.35  # share of the time the flow stage may use when LP / CP-SAT follow
FLOW_ONLY_SHARE = 0.9  # ... and when it is the last stage (the swaps after it converge in 0.2 s at 2k)
FLOW_BEFORE_REDUCED_SHARE = 0.5  # ... and when CP-SAT on a reduced pair set follows
REDUCED_PAIRS = 24_000  # pairs of the reduced model CP-SAT gets when the model is over the limits
REDUCED_MIN_PER_DEMAND = 4
REDUCED_SHORT_PER_DEMAND = 40  # ... and a demand the plan leaves short keeps its best this many
TEAMS_MARGIN_SHARE = 0.5  # team completion may use this share of the time between limit and promise
REDUCED_MIN_SECONDS = 0.8  # building the reduced model (~0.4 s) plus a useful CP-SAT run
# coverage weights (per priority point, in weight units) of the flows that bound the rest at
# the coverage reached when candidates are pruned (rest <= flow_mu - mu x coverage gained)
REST_BOUND_WEIGHTS = (0.0,)  # 15 and 60 tried: no tighter at 2k or city (see docs/solver.md)
CANDIDATE_SHARE = 0.7  # candidate generation stops at this share of the time
SLOWNESS_MAX = 3.0  # at most this much slower than idle is planned for
# the bound pass over left-out pairs (measured under load 3.3: 2k 0.72 s with coverage proven;
# city ~2 s per column-generation round, which is mostly the passes over the left-out pairs)
BOUND_SECONDS_PER_LEFT_OUT = 2e-7
BOUND_SECONDS_PER_PAIR = 4e-6
# slack passes (potentials + a pass over the left-out pairs, 0.23 s at 2k, load 1.9) the measured
# reserve is sized for, with a column-generation solve (0.24 s) between two of them
BOUND_SLACK_PASSES = 2
FINISH_SECONDS_PER_ITEM = 6e-5  # finish() per member + demand (0.27 s measured at 2k x 2k under load 4)
# ... plus this much: at 2k finish() took 0.19-0.37 s at load 1.4 (a process preempted on the shared
# machine), so the bound pass, which runs to the promised time, left too little after it
FINISH_SECONDS_FIXED = 0.12
# deterministic solves plan their work, at the idle machine's costs below and on the flows'
# WorkClock, for this share of the limit: the rest is the margin for load before the promise
DETERMINISTIC_PLAN_SHARE = 0.9
# ... and are cut by the clock only at this many times the promised wall time: on a machine
# slower or busier than that the plan may differ (idle, they end at 0.7-0.9 of the promise)
DETERMINISTIC_HARD_STOP = 1.5
# candidate generation per cell scored (eligibility.candidates' work measure), target machine:
# 2k 1.6 M cells (289 blocks) 1.06 s and city 42 M cells 10.9 s, both at load 3 (the coarse
# switch's measure: generation must not turn coarse early on a busy machine)
DETERMINISTIC_SECONDS_PER_CELL = 2.2e-7
# the planned build, idle: per cell scored plus per pair kept (pruning, the greedy plan, the
# model); a fit of the stage's 1.0-1.44 s at 2k (1.6 M cells, 180,734 pairs) and 6.5 s at city
# (42 M cells, 208,072 pairs)
PLANNED_BUILD_SECONDS_PER_CELL = 1.2e-7
PLANNED_BUILD_SECONDS_PER_PAIR = 6e-6
# the bound pass per left-out pair as deterministic solves plan it: at city (21 M left out) it
# took 8.7-11 s at load 1.8-3.5, twice what BOUND_SECONDS_PER_LEFT_OUT plans (wall-clock solves
# measure their own after the first flows, see measured_bound_reserve)
PLANNED_BOUND_SECONDS_PER_LEFT_OUT = 4e-7


@dataclass
class Budget:
    """The run's one deadline and its cancel request, read by every stage."""

    start: float
    deadline: float
    promised: float  # start + the promised wall time (limit x 1.05 + 0.5 s)
    at_limit: float  # start + the time limit (the deadline of wall-clock solves)
    cancel: threading.Event | None = None
    coarse_at: float | None = None  # candidate generation turns coarse here (None: CANDIDATE_SHARE)
    coarse_cells: int | None = None  # ... deterministic solves: after this much work (cells scored)

    @classmethod
    def starting_now(cls, problem: Problem, cancel: threading.Event | None) -> Budget:
        """Wall-clock solves stop at the limit; deterministic ones plan their work for a share
        of it (DETERMINISTIC_PLAN_SHARE) and stop at DETERMINISTIC_HARD_STOP x the promised
        wall time, so a slower or busier machine than the one the plan assumes still repeats
        the same plan (the suite's 2 workers on 2 cores cut a 3 s district solve at the promise)."""
        now, limit = time.perf_counter(), problem.time_limit_s
        promised = limit * 1.05 + 0.5
        deadline = DETERMINISTIC_HARD_STOP * promised if problem.deterministic else limit
        return cls(now, now + deadline, now + promised, now + limit, cancel)

    def keep_back(self, seconds: float) -> None:
        """Time a later step needs (finish()) comes off every deadline."""
        self.deadline -= seconds
        self.promised -= seconds
        self.at_limit -= seconds

    def left(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.0)

    def past(self, at: float) -> bool:
        """Cancelled, or the clock is past `at`: the stop test of the fixed-cost steps."""
        return self.cancelled() or time.perf_counter() >= at

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


@dataclass
class SolveState:
    """Everything the stages share: input, clock, model, incumbent plan and bounds.

    `plan` indexes `work_candidates` (the pairs left after reduced-cost fixing); values are in
    model units (SCALE x weights), coverage in priority points including pinned coverage.
    """

    problem: Problem
    budget: Budget
    prepared: Prepared
    candidates: Candidates  # the model's pairs (pruned when over the pair budget)
    greedy_plan: np.ndarray  # the greedy baseline's plan (indices into `candidates`)
    left_out: EligiblePairs | None  # eligible pairs pruning left out (None: not pruned, or unknown)
    model: MatchModel
    built_at: float
    bound_reserve: float  # seconds kept back for the pruning-bound pass
    on_progress: Progress | None = None
    relaxation: Relaxation = field(init=False)
    stage_clock: StageClock = field(init=False)
    work_candidates: Candidates = field(init=False)
    work_index: np.ndarray = field(init=False)  # work_candidates' positions in `candidates`
    work_model: MatchModel = field(init=False)
    plan: np.ndarray = field(init=False)
    coverage: int = 0
    rest: int = 0
    coverage_bound: float = math.inf
    rest_bound: float = math.inf
    rest_bound_at_coverage: float | None = None
    combined_bound: float = math.inf  # weighted mode: on coverage_weight x coverage gained + rest
    steps: list[str] = field(default_factory=list)
    cancelled: bool = False
    moved_plan: np.ndarray | None = None  # the plan the local moves last left (swap_stage)

    @property
    def lexicographic(self) -> bool:
        return self.problem.weights.lexicographic

    @property
    def coverage_weight(self) -> int:
        """The operator's coverage weight in model units (weighted mode)."""
        return int(round(self.problem.weights.coverage * SCALE))

    @property
    def pruned(self) -> bool:
        """Bounds over the model's pairs do not hold for the problem: pruned or cut short."""
        return self.candidates.top_k is not None or not self.candidates.complete

    @property
    def combined_value(self) -> int:
        return self.coverage_weight * (self.coverage - self.model.cov_const) + self.rest

    def units(self, coverage: float, rest: float) -> float:
        return self.problem.weights.coverage * coverage + rest / SCALE

    def take(self, plan: np.ndarray) -> None:
        self.plan = plan
        self.coverage, self.rest = coverage_of(self.work_model, plan), rest_of(self.work_model, plan)

    def exact_left(self) -> float:
        """Wall time the exact stages may use: to the deadline, less the bound pass's reserve."""
        return max(self.budget.left() - self.bound_reserve, 0.0)

    def is_cancelled(self) -> bool:
        self.cancelled = self.cancelled or self.budget.cancelled()
        return self.cancelled

    def progress(self, objective: float, bound: float) -> None:
        """Report to the caller, with a bound valid for the unpruned problem."""
        if self.on_progress is None:
            return
        if self.pruned:
            bound = max(objective, self._bound_over_all_pairs())
        try:
            self.on_progress(objective, bound)
        except Exception:  # a failing progress hook must not stop the solve
            log.debug("progress callback failed; the solve goes on", exc_info=True)

    def _bound_over_all_pairs(self) -> float:
        r = self.relaxation
        if self.lexicographic:
            gained = self.coverage - self.model.cov_const
            return self.units(r.coverage_bound_all, r.combined_bound_all - r.coverage_weight * gained)
        return (r.combined_bound_all + self.coverage_weight * self.model.cov_const) / SCALE


def solve(problem: Problem, *, on_progress: Progress | None = None, cancel: threading.Event | None = None) -> Solution:
    """The best plan found within problem.time_limit_s, with bounds; always checked feasible."""
    return solve_within(problem, Budget.starting_now(problem, cancel), on_progress=on_progress)


def solve_within(problem: Problem, budget: Budget, *, on_progress: Progress | None = None) -> Solution:
    """solve() on a given Budget (tests set its times to force a stage's cut)."""
    if problem.method not in METHODS:
        raise ValueError(f"unknown method {problem.method!r}")
    state = generate_candidates(problem, budget, on_progress)
    relax_with_flows(state)
    fix_by_reduced_costs(state)
    if state.lexicographic:
        coverage_stage(state)
        rest_stage(state)
        if _over_pair_limits(state) and state.coverage >= state.coverage_bound:
            swap_stage(state)  # only the rest to gain: the cheap moves first, CP-SAT after them
        reduced_pair_stage(state)
    else:
        weighted_stage(state)
    swap_stage(state)
    no_worse_than_greedy(state)
    bound_every_pair_stage(state)
    bounds_over_all_pairs(state)
    return finish(state)


# ----------------------------------------------------------------------------- candidates
def generate_candidates(problem: Problem, budget: Budget, on_progress: Progress | None) -> SolveState:
    """Prepared arrays, candidate pairs (pruned to the pair budget) and the model over them.

    Generation reads the clock between blocks of demands (in the greedy's priority order). At
    CANDIDATE_SHARE of the time (or budget.coarse_at) it turns coarse: the blocks left get
    their best few members per demand and no collection for the bound pass, so every demand
    still has pairs and the plan is never worse than the greedy over them. Only the deadline or
    a cancel request stops it; the demands not reached then get no pairs, and the bounds fall
    back to ones that hold without them.
    """
    p = prepare(problem)
    # explanations, metrics and the checker run after the last stage: keep their time back
    finish_s = FINISH_SECONDS_FIXED + FINISH_SECONDS_PER_ITEM * (p.M + p.D)
    budget.keep_back(finish_s)
    cand, greedy_plan, left_out = _candidates(
        p, problem, lambda: budget.past(budget.deadline), _coarse_switch(problem, budget)
    )
    reserve = 0.0
    if cand.top_k is not None and left_out is not None:
        # planned from the sizes (not measured), so deterministic solves plan the same work
        per_left_out = PLANNED_BOUND_SECONDS_PER_LEFT_OUT if problem.deterministic else BOUND_SECONDS_PER_LEFT_OUT
        reserve = per_left_out * len(left_out) + BOUND_SECONDS_PER_PAIR * len(cand)
    if not problem.deterministic:
        # a busy machine: the steps that cannot be cut (finish, the bound pass) take longer too
        slowness = machine_slowness()
        budget.keep_back((slowness - 1.0) * finish_s)
        reserve *= slowness
    exact_may_run = len(cand) <= CPSAT_MAX_PAIRS or problem.method == "cp-sat"
    model = build(p, cand, write_rows=exact_may_run)
    state = SolveState(
        problem, budget, p, cand, greedy_plan, left_out, model, time.perf_counter(), reserve, on_progress=on_progress
    )
    if not cand.complete:
        state.steps.append("candidate generation stopped at the deadline (demands not reached get no pairs)")
    elif cand.top_k is not None and left_out is None:
        level = f" (top-{cand.coarse_k})" if cand.coarse_k is not None else ""
        state.steps.append(f"candidates at a coarser level{level} once time ran short")
    return state


def _coarse_switch(problem: Problem, budget: Budget) -> Callable[[int], bool]:
    """When candidate generation turns coarse, given the work done (cells scored). Wall-clock
    solves: at CANDIDATE_SHARE of the time to the deadline (or budget.coarse_at). Deterministic
    ones: when the work done, at DETERMINISTIC_SECONDS_PER_CELL (an idle machine), reaches
    CANDIDATE_SHARE of the limit (or budget.coarse_cells), so the switch and with it the plan do not depend on the
    clock; the deadline stays the hard stop."""
    if problem.deterministic and budget.coarse_at is None:
        planned = budget.coarse_cells
        if planned is None:
            planned = int(CANDIDATE_SHARE * problem.time_limit_s / DETERMINISTIC_SECONDS_PER_CELL)
        return lambda cells: cells >= planned
    at = budget.start + CANDIDATE_SHARE * (budget.deadline - budget.start)
    at = at if budget.coarse_at is None else budget.coarse_at
    return lambda _cells: time.perf_counter() >= at


def machine_slowness() -> float:
    """How much slower than idle this machine runs now: the 1-minute load average per core
    (1 when idle, at most SLOWNESS_MAX). A measured ratio of candidate time to a per-pair
    constant was tried first and misjudged small instances (fixed costs per block)."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 1.0
    return min(max(load / max(os.cpu_count() or 1, 1), 1.0), SLOWNESS_MAX)


def _candidates(
    p: Prepared, problem: Problem, stop: Callable[[], bool], coarse_after: Callable[[int], bool]
) -> tuple[Candidates, np.ndarray, EligiblePairs | None]:
    """The model's candidate pairs, the greedy baseline's plan over them and the left-out
    pairs (when the candidates are pruned and every eligible pair was collected).

    The greedy plan is the floor of every later stage: the flow stage starts from it, so no
    plan returned is worse than the greedy baseline over the same pairs (`no_worse_than_greedy`
    checks it). Generation turns coarse at `coarse_after` instead of stopping, so a short time
    limit still gives every demand pairs; only `stop` (the deadline, a cancel) leaves demands out.

    When the pair budget forces pruning, the wider candidate set the greedy baseline uses is
    generated once (the cost is in the eligibility masks, not in the number of pairs kept),
    collecting every eligible pair on the way for the bound pass; the greedy plan is computed
    on it, and the model keeps the pruned pairs, each member's best MEMBER_KEEP pairs (a member
    left out of every demand's top K would lose its chance and its annual-duty bonus, and
    loosen the bounds) and that plan's pairs.
    """
    k = budget_k(p, problem.top_k, problem.max_pairs)
    if k is None:
        cand = candidates(p, stop=stop, coarse_after=coarse_after)
        return cand, greedy_pairs(p, cand), None
    collect = EligibleCollector(p, SCALE)
    wide_pairs = max(BASELINE_MAX_PAIRS, problem.max_pairs or 0)
    wide = candidates(p, max_pairs=wide_pairs, collect=collect, stop=stop, coarse_after=coarse_after)
    greedy_plan = greedy_pairs(p, wide)
    if wide.top_k is not None and wide.top_k <= k:
        return wide, greedy_plan, _left_out(collect, wide, p)
    keep = np.zeros(len(wide), dtype=bool)
    keep[prune(wide, k)] = True
    order = np.lexsort((-wide.value, wide.pm))
    members_sorted = wide.pm[order]
    rank_in_member = np.arange(len(order)) - np.searchsorted(members_sorted, members_sorted, side="left")
    keep[order[rank_in_member < MEMBER_KEEP]] = True
    if keep.all():
        return wide, greedy_plan, _left_out(collect, wide, p)
    keep[greedy_plan] = True
    kept = np.nonzero(keep)[0]
    cand = replace(wide.subset(kept), top_k=k)
    return cand, _reindex(len(wide), kept)[greedy_plan], _left_out(collect, cand, p)


def _left_out(collect: EligibleCollector, cand: Candidates, p: Prepared) -> EligiblePairs | None:
    """The eligible pairs `cand` lacks; None when generation stopped early or turned coarse
    (not all known)."""
    return collect.pairs().without(cand, p.M) if cand.complete and collect.complete else None


def _reindex(n: int, kept: np.ndarray) -> np.ndarray:
    """Map from old indices to positions in `kept` (-1 for dropped ones)."""
    inv = np.full(n, -1, dtype=np.int64)
    inv[kept] = np.arange(len(kept))
    return inv


# ----------------------------------------------------------------------------- relax
def relax_with_flows(state: SolveState) -> None:
    """The flow stage (relax.py), or a trivial relaxation for method "cp-sat"."""
    p, cand, model, problem = state.prepared, state.candidates, state.model, state.problem
    starts = (state.greedy_plan,)
    state.stage_clock = StageClock(state.exact_left, problem.time_limit_s if problem.deterministic else None)
    if problem.method == "cp-sat":  # plain CP-SAT from the greedy plan: no flow, no fixing
        weight = 0 if state.lexicographic else state.coverage_weight
        state.relaxation = trivial_relaxation(p, cand, model, weight, starts)
        return
    weight = lexicographic_weight(model) if state.lexicographic else state.coverage_weight
    exact_follows = len(cand) <= CPSAT_MAX_PAIRS and problem.method == "auto"
    share = FLOW_SHARE if exact_follows else FLOW_ONLY_SHARE
    reduced_follows = not exact_follows and problem.method == "auto" and state.lexicographic
    if reduced_follows and (1 - FLOW_BEFORE_REDUCED_SHARE) * _usable(state) >= 2 * REDUCED_MIN_SECONDS:
        share = FLOW_BEFORE_REDUCED_SHARE  # else the flow keeps the time: CP-SAT would get too little
    clock, deadline = _flow_clock(state, share)
    budget = state.budget
    if problem.deterministic:  # what the flow stage was not planned, the exact stages get
        state.stage_clock = StageClock(state.exact_left, (1 - share) * _planned_usable(state))

    def stop() -> bool:  # the wall deadline stays a hard stop, deterministic or not
        return budget.cancelled() or budget.left() <= 0

    state.relaxation = relax(
        p,
        cand,
        model,
        weight,
        deadline,
        clock=clock,
        stop=stop,
        start_plans=starts,
        correct_for_pruning=state.pruned,
        hard_deadline=budget.deadline,  # the plan comes first: the bound pass gets what is left
        fixing_wanted=lambda: problem.deterministic or state.exact_left() >= REDUCED_MIN_SECONDS,
        replan=_replanner(state, share),
    )
    state.steps.append("min-cost-flow")


def _usable(state: SolveState) -> float:
    """Time the stages after candidate generation may use, less the bound pass's reserve:
    measured on the wall clock, or planned (from the sizes) for deterministic solves, so that
    which stages run does not depend on how fast the candidates were built."""
    if state.problem.deterministic:
        return _planned_usable(state)
    return max(state.budget.deadline - time.perf_counter() - state.bound_reserve, 0.0)


def _replanner(state: SolveState, share: float) -> Callable[[FlowNetwork, FlowNetwork, np.ndarray], float] | None:
    """What the flow stage calls after its first plans to set its deadline anew, if anything."""
    if state.problem.deterministic:
        return lambda _cov_net, _net, plan: _replan_planned(state, share, plan)
    if state.bound_reserve <= 0:
        return None
    return lambda *nets: _replan(state, share, *nets)


def _replan_planned(state: SolveState, share: float, plan: np.ndarray) -> float:
    """Deterministic solves, after the flow stage's first plans: when they reach the coverage
    bound, the reduced CP-SAT stage would work on the rest alone, which the flows do better
    (as in `_replan`), so the flows keep its planned work too. Decided from the plan and the
    sizes only, never the clock."""
    if share == FLOW_BEFORE_REDUCED_SHARE and _reaches_coverage_bound(state, plan):
        share = FLOW_ONLY_SHARE
        state.stage_clock = StageClock(state.exact_left, (1 - share) * _planned_usable(state))
    return share * _planned_usable(state)


def _reaches_coverage_bound(state: SolveState, plan: np.ndarray) -> bool:
    coverable = coverage_bound_without_flows(state.prepared, state.candidates, state.model)
    return coverage_of(state.model, plan) >= coverable


def _replan(state: SolveState, share: float, cov_net: FlowNetwork, net: FlowNetwork, plan: np.ndarray) -> float:
    """After the flow stage's first plans (wall-clock solves): the bound pass's reserve from
    the solve times measured so far, and the stage's deadline again with that reserve."""
    state.bound_reserve = measured_bound_reserve(state, cov_net, net, plan)
    usable = max(state.budget.deadline - state.built_at - state.bound_reserve, 0.0)
    only_rest = _reaches_coverage_bound(state, plan)
    if share == FLOW_BEFORE_REDUCED_SHARE and (only_rest or (1 - share) * usable < 2 * REDUCED_MIN_SECONDS):
        # the reduced CP-SAT stage would get too little, or only the rest to work on (city: +0
        # in 5.7-7 s after the local moves): the flows keep its time
        share = FLOW_ONLY_SHARE
    return state.built_at + share * usable


def measured_bound_reserve(state: SolveState, cov_net: FlowNetwork, net: FlowNetwork, plan: np.ndarray) -> float:
    """The bound pass's reserve from this run's own measured flow costs, not from the sizes
    (that one was about twice what the pass used at load 5): BOUND_SLACK_PASSES slack passes
    (potentials, as timed in the flow stage, plus a pass over the left-out pairs) with a
    column-generation solve between two of them, and the coverage bound's COLUMN_ROUNDS when
    `plan` may be short of coverage. The pass may run to the promised time, so only what the
    margin after the deadline does not hold is kept back (less the share of it team
    completion may take); the rest of the time goes to the plan."""
    left_out = state.left_out
    if left_out is None:
        return 0.0
    pass_s = BOUND_SECONDS_PER_LEFT_OUT * len(left_out) * machine_slowness()
    slack_s = (net.last_potentials_s or net.last_solve_s) + pass_s
    need = BOUND_SLACK_PASSES * slack_s + (BOUND_SLACK_PASSES - 1) * net.last_solve_s
    margin = max(state.budget.promised - state.budget.deadline, 0.0)
    coverable = coverage_bound_without_flows(state.prepared, state.candidates, state.model)
    if state.lexicographic and coverable > coverage_of(state.model, plan):
        # the coverage network's potentials are cheap (0.01 s at 2k): a solve and a pass a round
        need += COLUMN_ROUNDS * (cov_net.last_solve_s + pass_s)
        margin *= 1 - TEAMS_MARGIN_SHARE
    return max(need - margin, 0.0)


def _flow_clock(state: SolveState, share: float) -> tuple[Callable[[], float], float]:
    """The flow stage's clock and deadline: wall time, or for deterministic solves a clock that
    counts flow work, with the time the candidates and the bound pass need estimated from the
    number of pairs instead of measured (so it does not depend on the machine's load)."""
    if not state.problem.deterministic:
        usable = max(state.budget.deadline - state.built_at - state.bound_reserve, 0.0)
        return time.perf_counter, state.built_at + share * usable
    return WorkClock(), share * _planned_usable(state)


def _planned_usable(state: SolveState) -> float:
    """Deterministic solves: their share of the time limit less the planned candidate and
    bound-pass time (from the work generation did and the pairs it kept, not the clock)."""
    cand = state.candidates
    build = PLANNED_BUILD_SECONDS_PER_CELL * cand.cells + PLANNED_BUILD_SECONDS_PER_PAIR * len(cand)
    return max(DETERMINISTIC_PLAN_SHARE * state.problem.time_limit_s - build - state.bound_reserve, 0.0)


def fix_by_reduced_costs(state: SolveState) -> None:
    """The model the exact stages work on: only pairs that may appear in a better plan (the
    whole model when there is no time left for those stages)."""
    r, cand = state.relaxation, state.candidates
    kept = np.nonzero(r.keep)[0]
    # past the deadline (a busy machine) no exact stage runs: the rebuild would only cost time
    if len(kept) < len(cand) and state.budget.left() >= REDUCED_MIN_SECONDS:
        state.work_candidates, state.work_index = cand.subset(kept), kept
        state.work_model = build(state.prepared, state.work_candidates)
        state.take(_reindex(len(cand), kept)[r.plan])
        state.steps.append(f"reduced-cost fixing {len(cand)}->{len(kept)} pairs")
    else:
        state.work_candidates, state.work_model = cand, state.model
        state.work_index = np.arange(len(cand))
        state.take(r.plan)
    state.coverage_bound = r.coverage_bound
    state.combined_bound = r.combined_bound
    if state.lexicographic:
        state.rest_bound = r.combined_bound - r.coverage_weight * (state.coverage - state.model.cov_const)
        state.progress(state.units(state.coverage, state.rest), state.units(state.coverage_bound, state.rest_bound))
    else:
        state.progress(*_weighted_units(state, state.combined_value, state.combined_bound))


# ----------------------------------------------------------------------------- exact stages
def _settings(state: SolveState, cpsat_share: float) -> ExactSettings:
    n, method = len(state.work_candidates), state.problem.method
    return ExactSettings(
        use_lp=n <= LP_MAX_PAIRS and method == "auto",
        use_cpsat=(n <= CPSAT_MAX_PAIRS and method == "auto") or method == "cp-sat",
        lp_share=0.5,
        cpsat_share=cpsat_share,
    )


def _run_stage(
    state: SolveState, objective: Objective, value: int, bound: float, cpsat_share: float, lp: bool = True
) -> StageOutcome:
    settings = _settings(state, cpsat_share)
    settings.use_lp = settings.use_lp and lp
    out = optimise(
        state.work_model,
        state.problem,
        objective,
        StageOutcome(state.plan, value, bound),
        settings,
        clock=state.stage_clock,
        cancel=state.budget.cancel,
        on_progress=state.progress,
    )
    state.steps += [s for s in out.steps if s not in state.steps]
    state.cancelled = state.cancelled or out.cancelled
    state.take(out.plan)
    return out


def _coverage_objective(state: SolveState) -> Objective:
    wm = state.work_model
    cov_vars, cov_coefs = wm.coverage_terms()
    return Objective(
        "coverage",
        cov_vars,
        cov_coefs,
        wm.cov_const,
        value=lambda plan: coverage_of(wm, plan),
        accept=_always,
        to_units=lambda v: state.units(v, 0),
    )


def _rest_objective(state: SolveState, reached: int) -> Objective:
    """The rest, over plans that keep coverage >= reached."""
    wm = state.work_model
    cov_vars, cov_coefs = wm.coverage_terms()
    rest_vars, rest_coefs = wm.rest_terms()
    return Objective(
        "rest",
        rest_vars,
        rest_coefs,
        wm.rest_offset(),
        value=lambda plan: rest_of(wm, plan),
        accept=lambda plan: coverage_of(wm, plan) >= reached,
        rows=[(cov_vars, cov_coefs, reached - wm.cov_const, INT_MAX)] if cov_vars else [],
        to_units=lambda v: state.units(reached, v),
    )


def coverage_stage(state: SolveState) -> None:
    """Lexicographic stage 1: the most priority-weighted coverage (half the time left)."""
    if not state.is_cancelled():
        out = _run_stage(state, _coverage_objective(state), state.coverage, state.coverage_bound, cpsat_share=0.5)
        state.coverage_bound = min(state.coverage_bound, out.bound)
    state.coverage_bound = max(state.coverage_bound, state.coverage)


def rest_stage(state: SolveState) -> None:
    """Lexicographic stage 2: the rest of the objective with coverage held where stage 1 left it."""
    model, r = state.model, state.relaxation
    reached = state.coverage
    state.rest_bound = r.combined_bound - r.coverage_weight * (reached - model.cov_const)
    if (
        (reached < state.coverage_bound or state.pruned)
        and not state.is_cancelled()
        and state.problem.method != "cp-sat"
    ):
        state.rest_bound_at_coverage = rest_bound_at(
            state.prepared, state.candidates, model, r, reached, [0, state.coverage_weight]
        )
        state.rest_bound = min(state.rest_bound, state.rest_bound_at_coverage)
    if not state.is_cancelled():
        out = _run_stage(state, _rest_objective(state, reached), state.rest, state.rest_bound, cpsat_share=1.0)
        state.rest_bound = min(state.rest_bound, out.bound)
    state.rest_bound = max(state.rest_bound, state.rest)


def reduced_pair_stage(state: SolveState) -> None:
    """Over the LP / CP-SAT pair limits, lexicographic: CP-SAT on a reduced pair set.

    Each demand keeps its best few members (as many as the pair limit allows) and the
    incumbent plan's pairs are added, so the flow plan is a feasible hint and every plan of the
    reduced model is feasible for the full one. Coverage first (the overlaps the flow cannot see
    are where it loses coverage), then the rest with that coverage held. The bounds of this
    model hold for it only, so they are not used: the reported bounds stay the flow bounds.
    """
    cand, p = state.work_candidates, state.prepared
    if not _over_pair_limits(state) or state.is_cancelled():
        return
    if state.stage_clock.left() < REDUCED_MIN_SECONDS:  # not even time to build it
        return
    if state.coverage >= state.coverage_bound and state.stage_clock.left() < 2 * REDUCED_MIN_SECONDS:
        return  # only the rest to gain, and too little time for CP-SAT to find any (2k: 1 s for +0)
    per_demand = max(REDUCED_MIN_PER_DEMAND, REDUCED_PAIRS // max(p.D, 1))
    first = np.searchsorted(cand.pd, cand.pd, side="left")  # cand is grouped by demand, best first
    rank = np.arange(len(cand)) - first
    keep = rank < per_demand
    # a demand the plan leaves short may need members the best few do not include (teams)
    short = state.coverage < state.coverage_bound
    if short:
        keep |= ~_covered(state, cand)[cand.pd] & (rank < REDUCED_SHORT_PER_DEMAND)
    keep[state.plan] = True
    kept = np.nonzero(keep)[0]
    state.work_candidates, state.work_index = cand.subset(kept), state.work_index[kept]
    state.work_model = build(p, state.work_candidates)
    state.take(_reindex(len(cand), kept)[state.plan])
    extra = f", best {REDUCED_SHORT_PER_DEMAND} of demands left short" if short else ""
    state.steps.append(f"cp-sat on {len(kept)} pairs (best {per_demand} per demand{extra} + the flow plan)")
    before = len(state.steps)
    if state.coverage < state.coverage_bound:
        _run_stage(state, _coverage_objective(state), state.coverage, state.coverage_bound, 0.6, lp=False)
    if not state.is_cancelled() and state.rest < state.rest_bound:
        _run_stage(state, _rest_objective(state, state.coverage), state.rest, state.rest_bound, 1.0, lp=False)
    del state.steps[before:]  # "lp" / "cp-sat" of the reduced model are told by the step above


def _over_pair_limits(state: SolveState) -> bool:
    """The reduced-pair CP-SAT stage's case: method auto with more pairs than CP-SAT takes."""
    return state.problem.method == "auto" and len(state.work_candidates) > CPSAT_MAX_PAIRS


def swap_stage(state: SolveState) -> None:
    """Local moves over every candidate pair (improve.py): short teams completed by one
    ejection each (lexicographic, when coverage is not proven), then member swaps that raise
    the rest (seat swaps, member trades, relocations) with coverage held. In the time the flow
    stage leaves (its FLOW_ONLY_SHARE): team completion (coverage, the first objective) up to
    the time limit plus TEAMS_MARGIN_SHARE of the promise's margin; the rest moves only until the
    bound pass's reserve, which then goes on to the promised time. (A slot carved out of the
    flow stage's share was tried: at 2k the flow plan then missed its next step, -177 rest
    points for +30 from the swaps.) Deterministic solves bound the rest moves by work (their
    rounds) and stop them only at the hard deadline, so the clock does not decide the plan.
    With coverage proven over the pair limits this runs before the reduced CP-SAT stage too."""
    budget = state.budget
    # coverage first: team completion may go past the time limit by half the promise's margin
    # (deterministic solves too, the rest of the margin being the bound pass's), and the stage
    # is skipped only at the hard stop (deterministic: the rest moves are bounded by rounds)
    teams_until = budget.at_limit + TEAMS_MARGIN_SHARE * max(budget.promised - budget.at_limit, 0.0)
    if state.problem.method != "auto" or state.is_cancelled() or budget.past(max(teams_until, budget.deadline)):
        return
    short = state.lexicographic and state.coverage < state.coverage_bound

    def rest_stop() -> bool:
        left = budget.left() if state.problem.deterministic else state.exact_left()
        return state.is_cancelled() or left <= 0

    if state.moved_plan is state.plan or (not short and rest_stop()):
        return  # the moves already left this plan (no stage changed it since), or no time
    p, cand, model = state.prepared, state.candidates, state.model
    before = state.work_index[state.plan]
    plan = before
    if short:
        plan = complete_teams(p, cand, model, plan, lambda: budget.past(teams_until))
    plan = improve_rest(p, cand, model, plan, rest_stop)
    state.moved_plan = state.plan
    if plan is before:
        return
    coverage, rest = state.coverage, state.rest
    state.work_candidates, state.work_model = cand, model
    state.work_index = np.arange(len(cand))
    state.take(plan)
    state.moved_plan = state.plan
    state.steps.append(f"local moves (coverage +{state.coverage - coverage}, rest +{(state.rest - rest) / SCALE:.2f})")


def _covered(state: SolveState, cand: Candidates) -> np.ndarray:
    """(D,) demands the incumbent plan (indices into `cand`) staffs to min_members."""
    p = state.prepared
    seats = np.bincount(cand.pd[state.plan], minlength=p.D) + p.pinned_count
    return seats >= np.array([d.min_members for d in state.problem.demands], dtype=np.int64)


def weighted_stage(state: SolveState) -> None:
    """Weighted mode: one objective, coverage_weight x coverage + rest (the flows used the same)."""
    wm, cw = state.work_model, state.coverage_weight
    cov_vars, cov_coefs = wm.coverage_terms()
    rest_vars, rest_coefs = wm.rest_terms()
    objective = Objective(
        "weighted",
        rest_vars + cov_vars,
        rest_coefs + [cw * c for c in cov_coefs],
        wm.rest_offset(),
        value=lambda plan: cw * (coverage_of(wm, plan) - wm.cov_const) + rest_of(wm, plan),
        accept=_always,
        to_units=lambda v: (v + cw * wm.cov_const) / SCALE,
    )
    if not state.is_cancelled():
        out = _run_stage(state, objective, state.combined_value, state.combined_bound, cpsat_share=1.0)
        state.combined_bound = min(state.combined_bound, out.bound)
    state.combined_bound = max(state.combined_bound, state.combined_value)


def _always(_plan: np.ndarray) -> bool:
    return True


def _weighted_units(state: SolveState, value: float, bound: float) -> tuple[float, float]:
    base = state.coverage_weight * state.model.cov_const
    return (value + base) / SCALE, (bound + base) / SCALE


# ----------------------------------------------------------------------------- greedy floor
def no_worse_than_greedy(state: SolveState) -> None:
    """The rule every plan obeys: never worse, in the run's objective (lexicographic: coverage,
    then the rest; weighted: the sum), than the greedy baseline over the same pairs. The flow
    stage starts from the greedy plan, so this only acts when a stage lost it (a bug), but it
    keeps the rule a fact of the pipeline rather than a property of its stages."""
    model, greedy = state.model, state.greedy_plan
    plan = state.work_index[state.plan]
    coverage, rest = coverage_of(model, plan), rest_of(model, plan)
    g_coverage, g_rest = coverage_of(model, greedy), rest_of(model, greedy)
    if state.lexicographic:
        worse = (coverage, rest) < (g_coverage, g_rest)
    else:
        cw = state.coverage_weight
        worse = cw * coverage + rest < cw * g_coverage + g_rest
    if worse:
        log.warning(
            "solver: the plan (%s, %s) was worse than the greedy one (%s, %s)", coverage, rest, g_coverage, g_rest
        )
        state.work_candidates, state.work_model = state.candidates, model
        state.work_index = np.arange(len(state.candidates))
        state.take(greedy)
        state.steps.append("greedy plan (the stages found nothing better)")


# ----------------------------------------------------------------------------- bound, finish
def bound_every_pair_stage(state: SolveState) -> None:
    """With pruned candidates: the flow bounds corrected for every left-out pair
    (relax.bound_every_pair), last, in the time kept back for it up to the promised time, so
    the plan stages before it are never short of time for a bound. Then the rest bound at the
    coverage the plan reached."""
    if not state.pruned or state.problem.method == "cp-sat":
        return
    p, cand, model, r, budget = state.prepared, state.candidates, state.model, state.relaxation, state.budget
    rest_weights = tuple(int(mu * SCALE) for mu in REST_BOUND_WEIGHTS) if state.lexicographic else ()
    bound_every_pair(
        p, cand, model, r, state.left_out, lambda: budget.past(budget.promised), budget.promised, rest_weights
    )
    if state.lexicographic:
        state.rest_bound_at_coverage = rest_bound_at(p, cand, model, r, state.coverage, [])


def bounds_over_all_pairs(state: SolveState) -> None:
    """With pruned candidates, report bounds over every eligible pair, not just the kept ones."""
    if not state.pruned:
        return
    r = state.relaxation
    if state.lexicographic:
        state.coverage_bound = max(float(state.coverage), r.coverage_bound_all)
        rest = r.combined_bound_all - r.coverage_weight * (state.coverage - state.model.cov_const)
        if state.rest_bound_at_coverage is not None:
            rest = min(rest, state.rest_bound_at_coverage)
        state.rest_bound = max(float(state.rest), rest)
    else:
        state.combined_bound = max(float(state.combined_value), r.combined_bound_all)


def finish(state: SolveState) -> Solution:
    """Status, objective, gap; explanations and metrics; the independent checker."""
    problem, cand = state.problem, state.work_candidates
    solved_at = time.perf_counter()
    if state.lexicographic:
        proven = state.coverage >= state.coverage_bound and state.rest >= state.rest_bound
        gap = max(
            relative_gap(state.coverage, state.coverage_bound),
            relative_gap(state.rest / SCALE, state.rest_bound / SCALE),
        )
        objective, best_bound = (
            state.units(state.coverage, state.rest),
            state.units(state.coverage_bound, state.rest_bound),
        )
        coverage_bound, rest_bound = float(state.coverage_bound), state.rest_bound / SCALE
    else:
        proven = state.combined_value >= state.combined_bound
        objective, best_bound = _weighted_units(state, state.combined_value, state.combined_bound)
        gap = relative_gap(objective, best_bound)
        coverage_bound, rest_bound = math.nan, math.nan
    # a cancel request wins even if the plan happens to be proven: the caller asked to stop
    status = (
        SolverStatus.CANCELLED if state.is_cancelled() else SolverStatus.OPTIMAL if proven else SolverStatus.FEASIBLE
    )
    steps = state.steps or ["greedy"]
    method = ("lexicographic: " if state.lexicographic else "weighted: ") + " + ".join(steps)
    if state.pruned:
        method += f" (top-{state.candidates.top_k} members per demand"
        if state.candidates.coarse_k is not None:
            method += f", top-{state.candidates.coarse_k} once generation turned coarse"
        method += ")"
    stats = SolveStats(
        status=status,
        objective=float(objective),
        best_bound=float(best_bound),
        gap=float(gap),
        build_s=state.built_at - state.budget.start,
        solve_s=solved_at - state.built_at,
        wall_s=0.0,
        members=len(problem.members),
        demands=len(problem.demands),
        candidate_pairs=len(state.candidates),
        method=method,
        top_k=state.candidates.top_k,
        candidates_complete=state.candidates.complete,
        coverage_value=float(state.coverage),
        coverage_bound=coverage_bound,
        rest_value=state.rest / SCALE,
        rest_bound=rest_bound,
    )
    pairs = [(int(cand.pd[k]), int(cand.pm[k])) for k in state.plan]
    sol = assemble(state.prepared, pairs, stats)
    violations = check(problem, sol)
    if violations:
        raise InfeasiblePlanError(violations)
    return replace(sol, stats=replace(stats, wall_s=time.perf_counter() - state.budget.start))
