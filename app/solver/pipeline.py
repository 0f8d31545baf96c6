"""solve(): candidates -> flow relaxation -> (LP) -> CP-SAT -> explained, checked Solution.

Why this order. On realistic instances the plain CP-SAT search is slow to find good plans for
this structure (thousands of near-equivalent members, tight coverage), while the problem's
relaxations are very tight:

1. A min-cost flow (flow.py) gives in milliseconds an upper bound on coverage and on the
   weighted objective, and, after "arc fixing" and repair, a plan that is usually within a few
   tenths of a percent of that bound. The plan warm-starts everything below and is the fallback
   if the run is cancelled, so solve() always returns a feasible plan.
2. Flow reduced costs remove every pair that cannot appear in any plan better than the current
   one (reduced-cost fixing), which shrinks the model without losing optimality.
3. On models of district size the LP relaxation (GLOP, lp.py) is solved next; it keeps the
   overlap cliques and is often integral, which proves optimality outright.
4. CP-SAT then closes what is left, lexicographically: coverage first (with the best bound
   known so far as a constraint, so it stops as soon as it reaches it), then "coverage >= what
   stage 1 reached" is fixed and the weighted rest is optimised from the best plan as hint.

Lexicographic order inside the flow is exact: coverage is weighted by more than the largest
possible swing of everything else.

Candidate pruning (large instances, see Problem.top_k) keeps pairs by a coverage key that no
weight can override, each member's best pairs and the greedy baseline's plan. The LP / CP-SAT
bounds then hold for the pruned model only, so the reported bounds come from the flow
relaxation corrected, by weak duality, for every eligible pair that was left out (one more
pass over the eligibility masks): a reported bound is never below a feasible plan's value.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from app.solver.baselines import BASELINE_MAX_PAIRS, greedy_pairs
from app.solver.checker import check
from app.solver.eligibility import Candidates, Prepared, budget_k, candidates, left_out_violation, prepare, prune
from app.solver.explain import assemble
from app.solver.flow import FlowNetwork, FlowResult, fix_and_resolve, lagrangian, repair
from app.solver.lp import solve_lp
from app.solver.metrics import relative_gap
from app.solver.model import INT_MAX, SCALE, MatchModel, build
from app.solver.types import InfeasiblePlanError, Problem, Solution, SolveStats

Progress = Callable[[float, float], None]
# Presolve costs seconds on these models (it turns the coverage links into implications that
# the level-1 LP then ignores); the LP on the raw model is already tight.
SOLVER_PARAMS: dict = {"cp_model_presolve": False}
MODEL_LINK = "sum"
LP_MAX_PAIRS = 40_000  # GLOP takes ~1 s per 30k pairs on the target machine
CPSAT_MAX_PAIRS = 60_000  # beyond this CP-SAT (2 workers) did not improve flow plans in tests
MEMBER_KEEP = 2  # with pruning, each member keeps at least its best this many pairs
FLOW_SHARE = 0.35  # share of the time limit the flow phase may use for arc fixing


# ----------------------------------------------------------------------------- plan values
def _coverage_int(mm: MatchModel, chosen: np.ndarray) -> int:
    x = np.zeros(mm.n_pairs, dtype=np.int64)
    x[chosen] = 1
    return mm.cov_const + sum(int(mm.prio[d]) for d, idx in mm.pairs_of_demand.items() if x[idx].sum() >= mm.y_need[d])


def _rest_int(mm: MatchModel, chosen: np.ndarray) -> int:
    x = np.zeros(mm.n_pairs, dtype=np.int64)
    x[chosen] = 1
    total = int(mm.pair_coef[chosen].sum())
    peak = mm.peak_lb
    for m, idx in mm.pairs_of_member.items():
        k = int(x[idx].sum())
        if m in mm.tiers:
            total += sum(mm.tiers[m][1][:k])
        peak = max(peak, int(mm.base[m]) + k)
    return total - mm.peak_weight * peak


# ----------------------------------------------------------------------------- CP-SAT stage
@dataclass
class StageResult:
    status: str
    chosen: np.ndarray
    bound: float  # in the stage objective's units (math.inf when unknown)
    found: bool


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, fn: Progress, to_units: Callable[[float, float], tuple[float, float]]):
        super().__init__()
        self._fn, self._to = fn, to_units

    def on_solution_callback(self) -> None:
        try:
            self._fn(*self._to(self.objective_value, self.best_objective_bound))
        except Exception:  # a failing progress hook must not kill the search
            pass


def _run_cpsat(
    mm: MatchModel,
    problem: Problem,
    limit: float,
    hint: np.ndarray,
    on_progress: Progress | None,
    to_units,
    cancel: threading.Event | None,
) -> StageResult:
    if (cancel is not None and cancel.is_set()) or limit <= 0.02:
        return StageResult("CANCELLED" if cancel is not None and cancel.is_set() else "SKIPPED", hint, math.inf, False)
    mm.b.hint(*mm.full_assignment(hint))
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = limit
    prm.num_workers = max(1, int(problem.num_workers))
    prm.relative_gap_limit = float(problem.relative_gap)
    prm.random_seed = int(problem.random_seed)
    for k, v in SOLVER_PARAMS.items():
        if isinstance(v, list):
            getattr(prm, k).extend(v)
        else:
            setattr(prm, k, v)
    done = threading.Event()
    watcher = None
    if cancel is not None:

        def watch() -> None:
            while not done.is_set():
                if cancel.is_set():
                    solver.stop_search()
                done.wait(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    cb = _Callback(on_progress, to_units) if on_progress else None
    try:
        status = solver.solve(mm.b.model, cb)
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    res = StageResult(
        solver.status_name(status), hint, float(solver.best_objective_bound) if found else math.inf, found
    )
    if status == cp_model.INFEASIBLE:
        res.bound = -math.inf  # only possible under a bound constraint: nothing beats it
    if found:
        sol = solver.response_proto.solution
        x = np.fromiter(sol, dtype=np.int64, count=len(sol))[: mm.n_pairs]
        res.chosen = np.nonzero(x)[0]
    if cancel is not None and cancel.is_set():
        res.status = "CANCELLED"
    return res


# ----------------------------------------------------------------------------- flow phase
@dataclass
class FlowPhase:
    hint: np.ndarray  # best feasible plan found (candidate indices)
    cov_bound: float  # upper bound on coverage, priority units, cov_const included
    bound: float  # upper bound on weight * (coverage - cov_const) + rest, model units
    weight: int  # coverage weight used in `bound`
    keep: np.ndarray  # pairs that may appear in a plan better than `hint`
    net_args: tuple = ()
    # the same two bounds for every eligible pair (pruned ones included): the ones to report
    cov_bound_all: float = math.inf
    bound_all: float = math.inf
    rest_at_all: dict | None = None  # coverage weight mu -> flow bound over every pair


def _flow_phase(
    p: Prepared,
    cand: Candidates,
    mm: MatchModel,
    weight: int | None,
    deadline: float,
    stop=None,
    start_plans: tuple = (),
) -> FlowPhase:
    tier_vals = {m: v for m, (_, v) in mm.tiers.items()}
    lexicographic = weight is None
    # coverage only; per-seat values need an integer multiple of every need
    lcm = int(np.lcm.reduce([max(n, 1) for n in mm.y_need.values()] or [1]))
    net_cov = FlowNetwork(p, cand, np.zeros(len(cand), dtype=np.int64), {}, lcm, 0)
    f_cov = net_cov.solve()
    cov_bound = (mm.cov_const + math.floor(f_cov.value / lcm + 1e-9)) if f_cov.ok else math.inf
    if lexicographic:  # heavier than any possible swing of the rest
        weight = int(
            np.abs(mm.pair_coef).sum()
            + sum(abs(x) for v in tier_vals.values() for x in v)
            + mm.peak_weight * (mm.peak_ub + 1)
            + 1
        )
    net = FlowNetwork(p, cand, mm.pair_coef, tier_vals, weight, mm.peak_weight)
    levels = [(b, r) for b, r in net.bound(mm.peak_lb, mm.peak_ub) if r.ok]
    bound = max((b for b, _ in levels), default=math.inf)

    def value(c: np.ndarray) -> float:
        return weight * (_coverage_int(mm, c) - mm.cov_const) + _rest_int(mm, c)

    plans = [greedy_pairs(p, cand), *start_plans]
    ranked = sorted(levels, key=lambda br: -br[0])
    fix_deadline = time.perf_counter() + 0.4 * max(deadline - time.perf_counter(), 0.0)
    for i, (_, r) in enumerate(ranked[:2]):
        share = fix_deadline if i == 0 else min(fix_deadline, time.perf_counter() + 0.3)
        plans.append(repair(p, cand, fix_and_resolve(net, r, r.peak, deadline=share, stop=stop, rounds=40)))
    best = max(plans, key=value)
    z = value(best)
    # Lagrangian pricing of the overlap cliques: tighter bounds, and each iterate's flow plan
    # repaired into another candidate plan
    state = {"best": best, "z": z}

    def on_plan(r) -> float:
        plan = repair(p, cand, r.chosen)
        v = value(plan)
        if v > state["z"]:
            state["best"], state["z"] = plan, v
        return state["z"]

    priced = []
    bounds_all = []
    now = time.perf_counter()
    lag_deadline = max(now + 0.6 * (deadline - now), now + 0.2)
    for b, r in ranked:
        if b > state["z"] + 1e-9 and time.perf_counter() < lag_deadline:
            lb, lr, pen = lagrangian(
                net, mm.cliques, r, b, state["z"], lag_deadline, mm.peak_lb, on_plan=on_plan, stop=stop
            )
            priced.append((min(b, lb), lr if lr is not None else r))
            bounds_all.append([(lb, lr)] if lr is not None else [(b, r)])
            if lr is not None and time.perf_counter() < deadline:
                # arc fixing again, now on the priced network: far fewer overlaps to undo
                on_plan(
                    FlowResult(
                        fix_and_resolve(net, lr, lr.peak, rounds=40, deadline=deadline, stop=stop, penalty=pen),
                        0.0,
                        True,
                    )
                )
        else:
            priced.append((b, r))
            bounds_all.append([(b, r)])
    levels = priced
    bound = max((b for b, _ in levels), default=math.inf)
    best, z = state["best"], state["z"]
    # reduced-cost fixing: a pair whose flip costs more than (bound - z) at every peak level
    # that could still beat z is in no better plan
    keep = np.zeros(len(cand), dtype=bool)
    for b, r in levels:
        if b > z + 1e-9:
            keep |= net.pair_reduced_costs(r) <= (b - z) + 1e-6
    keep[best] = True
    fp = FlowPhase(
        hint=best,
        cov_bound=float(cov_bound),
        bound=float(bound),
        weight=weight,
        keep=keep,
        net_args=(tier_vals,),
        cov_bound_all=float(cov_bound),
        bound_all=float(bound),
    )
    if cand.top_k is not None:
        if stop is not None and stop():  # cancelled: trivial but valid bounds, no extra pass
            fp.cov_bound_all = float(sum(mm.prio[d] for d in mm.y_var) + mm.cov_const)
            fp.bound_all = math.inf
        else:
            _bounds_over_all_pairs(p, cand, mm, fp, lcm, (net_cov, f_cov), net, bounds_all)
    return fp


def _bounds_over_all_pairs(
    p: Prepared, cand: Candidates, mm: MatchModel, fp: FlowPhase, lcm: int, cov_flow, net: FlowNetwork, levels: list
) -> None:
    """Bounds valid for every eligible pair when the candidates were pruned: each flow bound
    plus what the left-out pairs could add (FlowNetwork.pruning_slack), with one extra pass
    over the eligibility masks for all flows at once. Also the unrestricted flow with
    coverage weight 0 used by `_rest_bound_at`."""
    (tier_vals,) = fp.net_args
    jobs = []  # (network, flow, weighted, bound without the slack, tag)
    net_cov, f_cov = cov_flow
    if f_cov.ok:
        jobs.append((net_cov, f_cov, False, f_cov.value, ("cov",)))
    for li, alts in enumerate(levels):
        for b, r in alts:
            jobs.append((net, r, True, b, ("level", li)))
    for mu in (0,):  # coverage weight 0: the rest bound when coverage is not pinned down
        n2 = FlowNetwork(p, cand, mm.pair_coef, tier_vals, mu, mm.peak_weight)
        r = n2.solve(peak=None)
        if r.ok:
            b = r.value + mm.peak_weight * (n2._peak(r.chosen) - mm.peak_lb)
            jobs.append((n2, r, True, b, ("mu", mu)))
    pis, pots = [], []
    for n_, r, weighted, _, _ in jobs:
        pi, pot = n_.member_potentials(r, weighted)
        pis.append(pi)
        pots.append(pot)
    if not jobs:
        return
    d_nodes = [n_.sink - p.D + np.arange(p.D) for n_, *_ in jobs]
    dpot = np.vstack([pi[d] for pi, d in zip(pis, d_nodes)])
    viol, neg = left_out_violation(p, cand, np.vstack(pots), dpot, np.array([j[2] for j in jobs]), SCALE)
    level_b: dict[int, float] = {}
    fp.rest_at_all = {}
    for k, (n_, r, weighted, b, tag) in enumerate(jobs):
        total = b + n_.pruning_slack(r, pis[k], viol[k], neg[k], weighted)
        if tag[0] == "cov":
            fp.cov_bound_all = float(mm.cov_const + math.floor(total / lcm + 1e-6))
        elif tag[0] == "level":
            level_b[tag[1]] = min(level_b.get(tag[1], math.inf), total)
        else:
            fp.rest_at_all[tag[1]] = total
    fp.bound_all = float(max(level_b.values(), default=math.inf))


def _rest_bound_at(
    p: Prepared, cand: Candidates, mm: MatchModel, fp: FlowPhase, cov: int, extra_weights: list[int]
) -> float:
    """Upper bound on the rest over plans with coverage >= cov: for any weight mu >= 0,
    rest <= flow_mu - mu * (cov - cov_const). The lexicographic weight is huge, so when the
    coverage bound is not reached it says little; smaller weights (and 0) are tried too, each
    with one unrestricted flow whose peak term is taken at its lower bound."""
    best = fp.bound_all - fp.weight * (cov - mm.cov_const)
    (tier_vals,) = fp.net_args
    if cand.top_k is not None:  # flows over the kept pairs only would not bound the rest
        for mu in extra_weights:  # computed with the pruning slack in the flow phase
            if fp.rest_at_all and mu in fp.rest_at_all:
                best = min(best, fp.rest_at_all[mu] - mu * (cov - mm.cov_const))
        return best
    for mu in extra_weights:
        net = FlowNetwork(p, cand, mm.pair_coef, tier_vals, mu, mm.peak_weight)
        r = net.solve(peak=None)
        if r.ok:
            b = r.value + mm.peak_weight * (net._peak(r.chosen) - mm.peak_lb)
            best = min(best, b - mu * (cov - mm.cov_const))
    return best


def _subset(cand: Candidates, idx: np.ndarray) -> Candidates:
    return Candidates(
        pd=cand.pd[idx],
        pm=cand.pm[idx],
        score=cand.score[idx],
        km=cand.km[idx],
        home=cand.home[idx],
        paired=cand.paired[idx],
        prev=cand.prev[idx],
        served=cand.served[idx],
        value=cand.value[idx],
        rank=cand.rank[idx],
        eligible=cand.eligible,
        top_k=cand.top_k,
    )


def _lp_plan(mm: MatchModel, res) -> np.ndarray | None:
    """The LP's plan when its pair variables are integral and no demand is half-staffed (a
    fractional coverage indicator could otherwise let a few members sit on a demand that stays
    below min_members, which the model forbids)."""
    x = res.x[: mm.n_pairs]
    if not len(x) or np.any(np.abs(x - np.rint(x)) > 1e-6):
        return None
    chosen = np.nonzero(np.rint(x) > 0)[0]
    xi = np.zeros(mm.n_pairs, dtype=np.int64)
    xi[chosen] = 1
    for d, idx in mm.pairs_of_demand.items():
        n = int(xi[idx].sum())
        if 0 < n < mm.y_need[d]:
            return None
    return chosen


def _candidates(p: Prepared, problem: Problem) -> tuple[Candidates, np.ndarray | None]:
    """The model's candidate pairs and, when they are pruned, the greedy baseline's plan.

    When the pair budget forces pruning, the wider candidate set the greedy baseline uses is
    generated once (the cost is in the eligibility masks, not in the number of pairs kept),
    the greedy plan is computed on it, and the model keeps the pruned pairs plus that plan's
    pairs. So the optimiser (which starts from the best of its plans) never covers less than
    the greedy baseline, and the pruned model's bounds are never below that plan's value.
    """
    k = budget_k(p, problem.top_k, problem.max_pairs)
    if k is None:
        return candidates(p, top_k=None, max_pairs=None), None
    wide = candidates(p, top_k=None, max_pairs=max(BASELINE_MAX_PAIRS, problem.max_pairs or 0))
    if wide.top_k is not None and wide.top_k <= k:
        return wide, None
    g = greedy_pairs(p, wide)
    keep = np.zeros(len(wide), dtype=bool)
    keep[prune(wide, k)] = True
    # every member keeps its best few pairs too: a member left out of every demand's top K
    # would otherwise lose its chance (and its annual-duty bonus) in the model, and make the
    # bounds over all eligible pairs loose
    order = np.lexsort((-wide.value, wide.pm))
    spm = wide.pm[order]
    pos = np.arange(len(order)) - np.searchsorted(spm, spm, side="left")
    keep[order[pos < MEMBER_KEEP]] = True
    if keep.all():
        return wide, None
    keep[g] = True
    idx = np.nonzero(keep)[0]
    inv = np.full(len(wide), -1, dtype=np.int64)
    inv[idx] = np.arange(len(idx))
    return replace(_subset(wide, idx), top_k=k), inv[g]


# ----------------------------------------------------------------------------- solve
def solve(problem: Problem, *, on_progress: Progress | None = None, cancel: threading.Event | None = None) -> Solution:
    t0 = time.perf_counter()
    deadline = t0 + problem.time_limit_s
    w = problem.weights
    lex = w.lexicographic
    cw = int(round(w.coverage * SCALE))
    p = prepare(problem)
    t_cand = time.perf_counter()
    cand, greedy_plan = _candidates(p, problem)
    # with pruning, the bounds over every eligible pair cost one more pass over the
    # eligibility masks after the flow phase (about what generating candidates costs)
    reserve = 1.5 * (time.perf_counter() - t_cand) if cand.top_k is not None else 0.0
    mm = build(p, cand, link=MODEL_LINK)
    t_build = time.perf_counter()
    steps = ["min-cost-flow"]

    method = problem.method
    if method not in ("auto", "cp-sat", "flow"):
        raise ValueError(f"unknown method {method!r}")
    if method == "cp-sat":
        # plain CP-SAT from the greedy plan: no flow bound, no fixing, no LP
        cov_all = float(sum(mm.prio[d] for d in mm.y_var) + mm.cov_const)
        hint = greedy_pairs(p, cand)
        if greedy_plan is not None and _coverage_int(mm, greedy_plan) > _coverage_int(mm, hint):
            hint = greedy_plan
        fp = FlowPhase(
            hint=hint,
            cov_bound=cov_all,
            bound=math.inf,
            cov_bound_all=cov_all,
            weight=0 if lex else cw,
            keep=np.ones(len(cand), dtype=bool),
        )
        steps = []
    else:
        # large models skip LP/CP-SAT (see the limits above): let the flow phase use the time
        share = FLOW_SHARE if len(cand) <= CPSAT_MAX_PAIRS and method == "auto" else 0.8
        fp = _flow_phase(
            p,
            cand,
            mm,
            None if lex else cw,
            t_build + share * max(deadline - t_build - reserve, 0.0),
            stop=(lambda: cancel.is_set()) if cancel is not None else None,
            start_plans=() if greedy_plan is None else (greedy_plan,),
        )
    best = fp.hint
    W = fp.weight  # coverage weight inside the flow (exactly lexicographic when lex)

    def units(cov: float, rest: float) -> float:
        return w.coverage * cov + rest / SCALE

    cov_bound = float(fp.cov_bound)
    comb_bound = fp.bound  # on W * (cov - cov_const) + rest
    # With pruned candidates the bounds above, and every LP / CP-SAT bound below, hold for the
    # pruned model only; the reported bounds are then the flow bounds over all eligible pairs.
    pruned = cand.top_k is not None

    def rep_bounds(cb: float, rb: float) -> tuple[float, float]:
        if not pruned:
            return cb, rb
        return fp.cov_bound_all, fp.bound_all - W * (cov1 - mm.cov_const)

    def rep_progress(o: tuple[float, float]) -> tuple[float, float]:
        if not pruned:
            return o
        if lex:
            return o[0], max(o[0], units(*rep_bounds(0, 0)))
        return o[0], max(o[0], (fp.bound_all + cw * mm.cov_const) / SCALE)

    def is_cancelled() -> bool:
        return cancel is not None and cancel.is_set()

    cancelled = is_cancelled()

    def report(cov: float, rest: float, cb: float, rb: float) -> None:
        if on_progress:
            try:
                on_progress(units(cov, rest), units(*rep_bounds(cb, rb)))
            except Exception:
                pass

    # reduced model: only pairs that may appear in a better plan
    sub_idx = np.nonzero(fp.keep)[0]
    if len(sub_idx) < len(cand):
        cand2 = _subset(cand, sub_idx)
        mm2 = build(p, cand2, link=MODEL_LINK)
        inv = np.full(len(cand), -1, dtype=np.int64)
        inv[sub_idx] = np.arange(len(sub_idx))
        best2 = inv[best]
        steps.append(f"reduced-cost fixing {len(cand)}->{len(cand2)} pairs")
    else:
        cand2, mm2, best2 = cand, mm, best

    def cov_rest(c: np.ndarray) -> tuple[int, int]:
        return _coverage_int(mm2, c), _rest_int(mm2, c)

    cov1, rest1 = cov_rest(best2)
    if lex:
        rest_bound = comb_bound - W * (cov1 - mm.cov_const)
    report(cov1, rest1, cov_bound, rest_bound if lex else 0.0)
    use_lp = len(cand2) <= LP_MAX_PAIRS and method == "auto"
    use_cp = (len(cand2) <= CPSAT_MAX_PAIRS and method == "auto") or method == "cp-sat"
    cov_vars, cov_coefs = mm2.coverage_terms()
    rest_vars, rest_coefs = mm2.rest_terms()

    if lex:
        # ---- stage 1: coverage
        if not is_cancelled() and cov1 < cov_bound and cov_vars:
            if use_lp and time.perf_counter() < deadline:
                lp = solve_lp(
                    mm2.b,
                    cov_vars,
                    cov_coefs,
                    offset=mm2.cov_const,
                    time_limit_s=0.5 * (deadline - time.perf_counter()),
                )
                if lp.ok:
                    steps.append("lp")
                    cov_bound = min(cov_bound, math.floor(lp.value + 1e-6))
                    plan = _lp_plan(mm2, lp)
                    if plan is not None and cov_rest(plan)[0] > cov1:
                        best2 = plan
                        cov1, rest1 = cov_rest(plan)
            if cov1 < cov_bound and use_cp:
                mm2.b.maximize(cov_vars, cov_coefs, offset=mm2.cov_const)
                mm2.b.linear(cov_vars, cov_coefs, -INT_MAX, int(cov_bound) - mm2.cov_const)
                limit = 0.5 * (deadline - time.perf_counter())
                s1 = _run_cpsat(
                    mm2,
                    problem,
                    limit,
                    best2,
                    on_progress,
                    lambda o, b: rep_progress((units(o, 0), units(b, 0))),
                    cancel,
                )
                steps.append("cp-sat")
                cancelled = s1.status == "CANCELLED"
                if s1.found and cov_rest(s1.chosen)[0] > cov1:
                    best2 = s1.chosen
                    cov1, rest1 = cov_rest(best2)
                if s1.status == "OPTIMAL" or s1.bound == -math.inf:
                    cov_bound = cov1
                elif math.isfinite(s1.bound):
                    cov_bound = min(cov_bound, math.floor(s1.bound + 1e-6))
        cov_bound = max(cov_bound, cov1)
        # ---- stage 2: the rest, coverage held at cov1
        rest_bound = comb_bound - W * (cov1 - mm.cov_const)
        rb_at = None
        if (cov1 < cov_bound or pruned) and not is_cancelled() and method != "cp-sat":
            rb_at = _rest_bound_at(p, cand, mm, fp, cov1, [0, cw])
            rest_bound = min(rest_bound, rb_at)
        if not is_cancelled() and rest1 < rest_bound:
            fix_cov = [(cov_vars, cov_coefs, cov1 - mm2.cov_const, INT_MAX)] if cov_vars else []
            if use_lp and time.perf_counter() < deadline:
                lp = solve_lp(
                    mm2.b,
                    rest_vars,
                    rest_coefs,
                    offset=mm2.rest_offset(),
                    extra_rows=fix_cov,
                    time_limit_s=0.5 * (deadline - time.perf_counter()),
                )
                if lp.ok:
                    if "lp" not in steps:
                        steps.append("lp")
                    rest_bound = min(rest_bound, math.floor(lp.value + 1e-6))
                    plan = _lp_plan(mm2, lp)
                    if plan is not None:
                        c, r = cov_rest(plan)
                        if c >= cov1 and r > rest1:
                            best2, cov1, rest1 = plan, c, r
                    report(cov1, rest1, cov_bound, rest_bound)
            if rest1 < rest_bound and use_cp:
                for v, c, lo, hi in fix_cov:
                    mm2.b.linear(v, c, lo, hi)
                mm2.b.maximize(rest_vars, rest_coefs, offset=mm2.rest_offset())
                if math.isfinite(rest_bound):
                    mm2.b.linear(rest_vars, rest_coefs, -INT_MAX, int(rest_bound) - mm2.rest_offset())
                c1 = cov1
                s2 = _run_cpsat(
                    mm2,
                    problem,
                    deadline - time.perf_counter(),
                    best2,
                    on_progress,
                    lambda o, b: rep_progress((units(c1, o), units(c1, b))),
                    cancel,
                )
                if "cp-sat" not in steps:
                    steps.append("cp-sat")
                cancelled = s2.status == "CANCELLED"
                if s2.found:
                    c, r = cov_rest(s2.chosen)
                    if c >= cov1 and r > rest1:
                        best2, rest1 = s2.chosen, r
                if s2.status == "OPTIMAL" or s2.bound == -math.inf:
                    rest_bound = rest1
                elif math.isfinite(s2.bound):
                    rest_bound = min(rest_bound, math.floor(s2.bound + 1e-6))
        rest_bound = max(rest_bound, rest1)
        if pruned:  # report bounds over every eligible pair, not just the kept ones
            cov_bound = max(float(cov1), fp.cov_bound_all)
            rb = fp.bound_all - W * (cov1 - mm.cov_const)
            rest_bound = max(float(rest1), rb if rb_at is None else min(rb, rb_at))
        proven = cov1 >= cov_bound and rest1 >= rest_bound
        gap = max(relative_gap(cov1, cov_bound), relative_gap(rest1 / SCALE, rest_bound / SCALE))
        objective, best_bound = units(cov1, rest1), units(cov_bound, rest_bound)
        stats_extra = dict(
            coverage_value=float(cov1),
            coverage_bound=float(cov_bound),
            rest_value=rest1 / SCALE,
            rest_bound=rest_bound / SCALE,
        )
    else:
        # weighted: one objective, cw * coverage + rest (flow ran with the same weight)
        val = cw * (cov1 - mm.cov_const) + rest1
        bound = comb_bound
        terms_v = rest_vars + cov_vars
        terms_c = rest_coefs + [cw * c for c in cov_coefs]
        offset = mm2.rest_offset()
        if not is_cancelled() and val < bound and use_lp and time.perf_counter() < deadline:
            lp = solve_lp(mm2.b, terms_v, terms_c, offset=offset, time_limit_s=0.5 * (deadline - time.perf_counter()))
            if lp.ok:
                steps.append("lp")
                bound = min(bound, math.floor(lp.value + 1e-6))
                plan = _lp_plan(mm2, lp)
                if plan is not None:
                    c, r = cov_rest(plan)
                    if cw * (c - mm.cov_const) + r > val:
                        best2, val = plan, cw * (c - mm.cov_const) + r
        if not is_cancelled() and val < bound and use_cp:
            mm2.b.maximize(terms_v, terms_c, offset=offset)
            if math.isfinite(bound):
                mm2.b.linear(terms_v, terms_c, -INT_MAX, int(bound) - offset)
            base = cw * mm.cov_const
            s = _run_cpsat(
                mm2,
                problem,
                deadline - time.perf_counter(),
                best2,
                on_progress,
                lambda o, b: rep_progress(((o + base) / SCALE, (b + base) / SCALE)),
                cancel,
            )
            steps.append("cp-sat")
            cancelled = s.status == "CANCELLED"
            if s.found:
                c, r = cov_rest(s.chosen)
                if cw * (c - mm.cov_const) + r > val:
                    best2, val = s.chosen, cw * (c - mm.cov_const) + r
            if s.status == "OPTIMAL" or s.bound == -math.inf:
                bound = val
            elif math.isfinite(s.bound):
                bound = min(bound, math.floor(s.bound + 1e-6))
        bound = max(bound, val)
        if pruned:
            bound = max(val, fp.bound_all)
        cov1, rest1 = cov_rest(best2)
        proven = val >= bound
        objective = (val + cw * mm.cov_const) / SCALE
        best_bound = (bound + cw * mm.cov_const) / SCALE
        gap = relative_gap(objective, best_bound)
        stats_extra = dict(
            coverage_value=float(cov1), coverage_bound=float("nan"), rest_value=rest1 / SCALE, rest_bound=float("nan")
        )
    t_solve = time.perf_counter()

    # a cancel request wins even if the plan happens to be proven: the caller asked to stop
    status = "CANCELLED" if cancelled or is_cancelled() else "OPTIMAL" if proven else "FEASIBLE"
    pairs = [(int(cand2.pd[k]), int(cand2.pm[k])) for k in best2]
    if "cp-sat" not in steps and method == "cp-sat":
        steps.append("greedy")
    method = ("lexicographic: " if lex else "weighted: ") + " + ".join(steps)
    if cand.top_k:
        method += f" (top-{cand.top_k} members per demand)"
    stats = SolveStats(
        status=status,
        objective=float(objective),
        best_bound=float(best_bound),
        gap=float(gap),
        build_s=t_build - t0,
        solve_s=t_solve - t_build,
        wall_s=0.0,
        members=len(problem.members),
        demands=len(problem.demands),
        candidate_pairs=len(cand),
        method=method,
        top_k=cand.top_k,
        **stats_extra,
    )
    sol = assemble(p, pairs, stats)
    violations = check(problem, sol)
    if violations:
        raise InfeasiblePlanError(violations)
    return replace(sol, stats=replace(stats, wall_s=time.perf_counter() - t0))
