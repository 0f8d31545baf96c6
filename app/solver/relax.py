"""The relaxation stage: min-cost-flow bounds, the first feasible plans, reduced-cost fixing.

A min-cost flow (flow.py) drops two things from the model (time overlaps between one member's
proposals, and the all-or-nothing nature of coverage), so its optimum bounds the model from
above. This stage

1. bounds coverage alone (a flow whose only values are the coverage seats);
2. bounds the weighted objective once per peak-load level (the peak term is exact that way);
3. turns the best levels' flows into feasible plans (arc fixing, then repair), next to the
   greedy plan and any start plans;
4. tightens the level bounds by pricing the overlap cliques (a Lagrangian dual, each iterate's
   flow repaired into one more candidate plan);
5. keeps, by reduced costs, only the pairs that may appear in a plan better than the best one;
6. when candidates were pruned, corrects every bound for the left-out pairs (bound_every_pair,
   a later stage of the pipeline): weak duality from the flows' potentials, one vectorised
   pass over the eligible pairs stored during candidate generation, then column generation
   (coverage: coverage_bound_by_columns; the weighted bound: LevelColumns on the highest peak
   level, the joined pairs priced through the overlap cliques' time points), and the
   rest-alone flow when the weighted bound is loose, so a reported bound holds for the
   unpruned problem.

In lexicographic mode the coverage weight inside the flows is larger than any possible swing of
the rest, so the flows order plans exactly as the lexicographic objective does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.solver.baselines import greedy_pairs
from app.solver.eligibility import Candidates, EligiblePairs, Prepared, left_out_violation
from app.solver.flow import FlowNetwork, FlowResult, WorkClock, fix_and_resolve, lagrangian, repair
from app.solver.model import MatchModel, coverage_of, rest_of

Clock = Callable[[], float]
Stop = Callable[[], bool]
FIXING_ROUNDS = 40  # arc-fixing re-solves per plan; each removes the conflicts of the last flow
FIXING_SHARE = 0.4  # share of the stage's time for arc fixing of the first plans
PRICING_SHARE = 0.6  # ... and up to here for pricing the overlap cliques


@dataclass
class Relaxation:
    """What the flow stage leaves for the exact stages and the reported bounds."""

    plan: np.ndarray  # best feasible plan found (candidate indices)
    coverage_bound: float  # upper bound on coverage, priority units, pinned coverage included
    combined_bound: float  # upper bound on weight * (coverage - cov_const) + rest, model units
    coverage_weight: int  # the weight used in combined_bound
    keep: np.ndarray  # pairs that may appear in a plan better than `plan`
    # the same two bounds valid for every eligible pair (differ from the above when pruned)
    coverage_bound_all: float = math.inf
    combined_bound_all: float = math.inf
    # (mu, bound on flow_mu) over every eligible pair, for small coverage weights mu (pruned
    # candidates only): rest <= flow_mu - mu x coverage gained, see rest_bound_at
    rest_flows_all: list[tuple[int, float]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    # pruned candidates: what the bound pass over every pair starts from (bound_every_pair):
    # (seats per coverage unit, (coverage network, its flow), weighted network, its levels)
    pass_inputs: tuple | None = None


@dataclass
class Incumbent:
    """The best feasible plan seen so far, by the combined value."""

    model: MatchModel
    weight: int
    plan: np.ndarray
    value: float = field(init=False)

    def __post_init__(self) -> None:
        self.value = self.score(self.plan)

    def score(self, plan: np.ndarray) -> float:
        m = self.model
        return self.weight * (coverage_of(m, plan) - m.cov_const) + rest_of(m, plan)

    def offer(self, plan: np.ndarray) -> float:
        v = self.score(plan)
        if v > self.value:
            self.plan, self.value = plan, v
        return self.value


def lexicographic_weight(model: MatchModel) -> int:
    """A coverage weight heavier than any possible swing of the rest."""
    tier_swing = sum(abs(x) for _, vals in model.tiers.values() for x in vals)
    return int(np.abs(model.pair_coef).sum() + tier_swing + model.peak_weight * (model.peak_ub + 1) + 1)


def trivial_relaxation(p: Prepared, cand: Candidates, model: MatchModel, weight: int, start_plans) -> Relaxation:
    """No flow at all (method "cp-sat"): the greedy plan and bounds that need no computation."""
    inc = Incumbent(model, weight, greedy_pairs(p, cand))
    for plan in start_plans:
        if coverage_of(model, plan) > coverage_of(model, inc.plan):
            inc.plan = plan
    everything = float(sum(model.prio[d] for d in model.y_var) + model.cov_const)
    return Relaxation(
        plan=inc.plan,
        coverage_bound=everything,
        combined_bound=math.inf,
        coverage_weight=weight,
        keep=np.ones(len(cand), dtype=bool),
        coverage_bound_all=everything,
    )


def relax(
    p: Prepared,
    cand: Candidates,
    model: MatchModel,
    weight: int,
    deadline: float,
    *,
    clock: Clock,
    stop: Stop,
    start_plans: tuple[np.ndarray, ...] = (),
    correct_for_pruning: bool = False,
    hard_deadline: float = math.inf,
    fixing_wanted: Stop = lambda: True,
    replan: Callable[[FlowNetwork, FlowNetwork, np.ndarray], float] | None = None,
) -> Relaxation:
    """The whole flow stage (see the module docstring); plans and bounds by `deadline`.
    With `correct_for_pruning` the bounds over every eligible pair are the ones that need no
    flow until bound_every_pair (a later stage) tightens them.

    `hard_deadline` is the wall time (time.perf_counter) no flow solve may end after: a solve
    is not started when one as long as the last would overrun (solve times are measured).
    On the wall clock `deadline` is kept the same way: the optional steps (arc-fixing rounds,
    pricing) read a clock that runs one measured solve ahead (`_one_solve_ahead`).
    `fixing_wanted()` false: no exact stage will use reduced-cost fixing, so its potentials
    (a Bellman-Ford pass, 0.2 s at 2k) are not computed. `replan(coverage network, weighted
    network, best plan)`, after the first plans, gives the stage's deadline anew from the solve
    times measured so far."""
    seats = int(np.lcm.reduce([max(n, 1) for n in model.y_need.values()] or [1]))
    cov_net = FlowNetwork(p, cand, np.zeros(len(cand), dtype=np.int64), {}, seats, 0)
    net = FlowNetwork(p, cand, model.pair_coef, {m: v for m, (_, v) in model.tiers.items()}, weight, model.peak_weight)
    if isinstance(clock, WorkClock):
        net.work = clock
    else:
        clock = _one_solve_ahead(clock, (cov_net, net))
    stop = _ahead(stop, (cov_net, net), hard_deadline)
    if stop():  # not even time for the first flow: the greedy plan, bounds without flows
        out = trivial_relaxation(p, cand, model, weight, start_plans)
        if correct_for_pruning:
            out.coverage_bound_all = coverage_bound_without_flows(p, cand, model)
        return out
    cov_flow = cov_net.solve()
    coverage_bound = (model.cov_const + math.floor(cov_flow.value / seats + 1e-9)) if cov_flow.ok else math.inf
    # the greedy plan over the wider pair set, when given, is at least as good as one over these
    inc = Incumbent(model, weight, start_plans[0] if start_plans else greedy_pairs(p, cand))
    for plan in start_plans:
        inc.offer(plan)
    levels = _levels_and_first_plans(p, cand, net, model, inc, deadline, clock, stop)
    if replan is not None:
        deadline = replan(cov_net, net, inc.plan)
    now = clock()
    levels = _price_overlaps(
        p, cand, net, model, levels, inc, now + PRICING_SHARE * max(deadline - now, 0.0), deadline, clock, stop
    )
    combined = max((b for b, _ in levels), default=math.inf)
    out = Relaxation(
        plan=inc.plan,
        coverage_bound=float(coverage_bound),
        combined_bound=float(combined),
        coverage_weight=weight,
        # reduced-cost fixing needs potentials (Bellman-Ford): skipped past the deadline, and
        # when no exact stage will have the time to use it
        keep=(
            _pairs_that_may_improve(net, levels, inc)
            if fixing_wanted() and not stop()
            else np.ones(len(cand), dtype=bool)
        ),
        coverage_bound_all=float(coverage_bound),
        combined_bound_all=float(combined),
    )
    if correct_for_pruning:
        out.coverage_bound_all = coverage_bound_without_flows(p, cand, model)
        out.combined_bound_all = math.inf
        out.pass_inputs = (seats, (cov_net, cov_flow), net, levels)
    return out


AHEAD_FACTOR = 2.0  # a solve may take this many times the last one (weighted after coverage: 1.9x)
BOUND_AHEAD_FACTOR = 1.25  # ... in the bound pass, whose networks were all solved before
REST_FLOW_AHEAD_FACTOR = 2.5  # ... and before the rest-alone flow (solve, potentials, slack pass)


def _one_solve_ahead(clock: Clock, nets: tuple[FlowNetwork, ...]) -> Clock:
    """The wall clock plus the last measured solve of `nets`: the time a solve started now
    would end. The flow stage's optional steps read it before each solve, so none that would
    end past the stage's deadline is started (they used to run 0.4-0.6 s past it at 2k)."""
    return lambda: clock() + max(n.last_solve_s for n in nets)


def _ahead(stop: Stop, nets: tuple[FlowNetwork, ...], deadline: float, factor: float = AHEAD_FACTOR) -> Stop:
    """`stop`, or also true when a flow solve `factor` times as long as the last one of
    `nets` would end past `deadline` (a wall time): so a re-solve that would overrun is never
    started."""

    def ahead() -> bool:
        nxt = factor * max(n.last_solve_s for n in nets)
        return stop() or time.perf_counter() + nxt > deadline

    return ahead


def bound_every_pair(
    p: Prepared,
    cand: Candidates,
    model: MatchModel,
    out: Relaxation,
    left_out: EligiblePairs | None,
    stop: Stop,
    deadline: float,
    rest_weights: tuple[int, ...] = (0,),
) -> None:
    """The bound pass, after the exact stages: `out`'s bounds over every eligible pair
    (correct_bounds_for_pruning) from the flows relax() kept, or, when `stop` cuts the pass
    before the coverage bound or `left_out` is unknown, the ones that need no flow. No flow
    is started that would end after `deadline` (a wall time)."""
    if out.pass_inputs is None or left_out is None:
        return
    seats, cov, net, levels = out.pass_inputs
    # every network of the pass was solved once already: the next solve is as long, give or take;
    # the rest-alone flow is a solve, its potentials and a pass over the left-out pairs
    rest_stop = _ahead(stop, (cov[0], net), deadline, REST_FLOW_AHEAD_FACTOR)
    stop = _ahead(stop, (cov[0], net), deadline, BOUND_AHEAD_FACTOR)
    if stop() or not correct_bounds_for_pruning(
        p, cand, model, out, seats, cov, net, levels, left_out, stop, rest_weights, rest_stop
    ):
        out.coverage_bound_all = coverage_bound_without_flows(p, cand, model)
        out.combined_bound_all = math.inf
        out.rest_flows_all = []


def coverage_bound_without_flows(p: Prepared, cand: Candidates, model: MatchModel) -> float:
    """Every demand that could reach min_members with all its eligible members (pruned ones
    included), plus the demands pinned pairs already cover."""
    coverable = 0
    for j, d in enumerate(p.problem.demands):
        need = d.min_members - int(p.pinned_count[j])
        if 0 < need <= min(int(cand.eligible[j]), int(p.d_room[j])):
            coverable += d.priority
    return float(coverable + model.cov_const)


def _levels_and_first_plans(p, cand, net: FlowNetwork, model: MatchModel, inc: Incumbent, deadline: float, clock, stop):
    """The peak levels' bounds and flows, best first, and the first plans from them: the
    highest level's plan first (arc fixing, repair), so that the levels below it can be judged
    against it (they are not solved when none could beat it), then the best other level's."""
    planned: list[FlowResult] = []

    def plan_first_then_judge(bound: float, flow: FlowResult) -> bool:
        if not planned:
            _plan_from(p, cand, net, flow, inc, clock() + FIXING_SHARE * max(deadline - clock(), 0.0), clock, stop)
            planned.append(flow)
        return bound <= inc.value

    levels = net.bound(model.peak_lb, model.peak_ub, stop, plan_first_then_judge)
    levels.sort(key=lambda br: -br[0])
    _first_plans(p, cand, net, levels, inc, planned, deadline, clock, stop)
    return levels


def _plan_from(p, cand, net: FlowNetwork, flow: FlowResult, inc: Incumbent, until: float, clock: Clock, stop: Stop):
    """Arc fixing on one level's flow until `until`, then repair into a feasible plan."""
    fixed = fix_and_resolve(net, flow, flow.peak, deadline=until, stop=stop, rounds=FIXING_ROUNDS, clock=clock)
    inc.offer(repair(p, cand, fixed))


def _first_plans(p, cand, net: FlowNetwork, levels, inc: Incumbent, planned, deadline: float, clock, stop) -> None:
    """Plans from the two best peak levels' flows that could beat the incumbent and were not
    planned from yet (the first gets FIXING_SHARE of the stage, the second 0.3 s)."""
    todo = [flow for bound, flow in levels[:2] if bound > inc.value and all(flow is not f for f in planned)]
    for flow in todo:
        until = clock() + FIXING_SHARE * max(deadline - clock(), 0.0) if not planned else clock() + 0.3
        _plan_from(p, cand, net, flow, inc, min(until, deadline), clock, stop)
        planned.append(flow)


def _price_overlaps(p, cand, net, model, levels, inc: Incumbent, until: float, deadline: float, clock, stop):
    """Lagrangian pricing of the overlap cliques per peak level that could still beat the
    incumbent; returns the levels with their tightened bounds (and priced flows)."""

    def on_plan(flow: FlowResult) -> float:
        return inc.offer(repair(p, cand, flow.chosen))

    priced = []
    for bound, flow in levels:
        if bound <= inc.value + 1e-9 or clock() >= until:
            priced.append((bound, flow))
            continue
        lag_bound, lag_flow, penalty = lagrangian(
            net, model.cliques, flow, bound, inc.value, until, model.peak_lb, on_plan=on_plan, stop=stop, clock=clock
        )
        if lag_flow is None:
            priced.append((bound, flow))
            continue
        priced.append((min(bound, lag_bound), lag_flow))
        if clock() < deadline:  # arc fixing again, on the priced network: far fewer overlaps to undo
            fixed = fix_and_resolve(
                net,
                lag_flow,
                lag_flow.peak,
                rounds=FIXING_ROUNDS,
                deadline=deadline,
                stop=stop,
                penalty=penalty,
                clock=clock,
            )
            on_plan(FlowResult(fixed, 0.0, True))
    return priced


def _pairs_that_may_improve(net: FlowNetwork, levels, inc: Incumbent) -> np.ndarray:
    """Reduced-cost fixing: a pair the level's flow leaves out, whose forcing in costs more than
    (bound - incumbent) at every peak level that could still beat the incumbent, is in no
    better plan. A pair the flow uses is always kept: when its removal costs more than the
    gap, it is in every better plan of that level (the independent reference MILP caught a
    version that dropped those and then "proved" a plan 0.6 below the optimum)."""
    keep = np.zeros(len(net.cand), dtype=bool)
    for bound, flow in levels:
        if bound > inc.value + 1e-9:
            keep |= net.pair_reduced_costs(flow) <= (bound - inc.value) + 1e-6
            keep[flow.chosen] = True
    keep[inc.plan] = True
    return keep


def correct_bounds_for_pruning(
    p: Prepared,
    cand: Candidates,
    model: MatchModel,
    out: Relaxation,
    seats: int,
    cov,
    net: FlowNetwork,
    levels,
    left_out: EligiblePairs,
    stop: Stop,
    rest_weights: tuple[int, ...] = (0,),
    rest_stop: Stop | None = None,
) -> bool:
    """Bounds valid for every eligible pair when the candidates were pruned, most important
    first: coverage (no pass when the plan staffs every demand that could be staffed; else
    its flow bound plus what the left-out pairs could add, see FlowNetwork.pruning_slack,
    then column generation), the weighted bound (column generation
    on the highest peak level, LevelColumns), and unless that bound already holds the rest
    within REST_FLOW_SKIP_GAP, the unrestricted flows with the small coverage weights
    `rest_weights` (0: the rest alone, used by `rest_bound_at`), each only when `rest_stop`
    (default `stop`) says there is time for it.
    False when `stop` cut the pass before the coverage bound; later cuts keep valid bounds."""
    cov_net, cov_flow = cov
    out.combined_bound_all = math.inf  # until the pass below gets there: the pruned one does not hold
    everything = coverage_bound_without_flows(p, cand, model)
    if everything <= coverage_of(model, out.plan):  # every demand that could be staffed is: proven
        out.coverage_bound_all = everything
    elif cov_flow.ok:
        total = _with_slack(p, cov_net, cov_flow, False, cov_flow.value, left_out, stop)
        if total is None:
            return False
        out.coverage_bound_all = _coverage_bound_all(p, cand, model, out, seats, total, left_out, stop)
    top = _highest_level(levels)
    if top is not None:
        columns = LevelColumns(p, cand, model, out.coverage_weight, left_out)
        out.combined_bound_all = columns.bound(net, top, [flow for _, flow in levels], stop)
    if _rest_gap_of_weighted_bound(model, out) <= REST_FLOW_SKIP_GAP:
        return True
    tier_values = {m: v for m, (_, v) in model.tiers.items()}
    for mu in rest_weights:
        if (rest_stop or stop)():
            break
        rest_net = FlowNetwork(p, cand, model.pair_coef, tier_values, mu, model.peak_weight)
        flow = rest_net.solve(peak=None)
        if flow.ok:
            b = flow.value + model.peak_weight * (rest_net._peak(flow.chosen) - model.peak_lb)
            total = _with_slack(p, rest_net, flow, True, b, left_out, stop)
            if total is not None:
                out.rest_flows_all.append((mu, total))
    return True


REST_FLOW_SKIP_GAP = 0.005  # the rest-alone flow is skipped when the weighted bound is this tight


def _rest_gap_of_weighted_bound(model: MatchModel, out: Relaxation) -> float:
    """The rest gap the weighted bound leaves at the relaxation plan's coverage. Over every
    pair the flow may cover a fraction of a demand more than any plan, which the coverage
    weight turns into a huge rest bound (teams of 2-3); then the rest-alone flow is tighter."""
    if out.coverage_bound_all > coverage_of(model, out.plan):
        return math.inf
    rest = rest_of(model, out.plan)
    bound = out.combined_bound_all - out.coverage_weight * (coverage_of(model, out.plan) - model.cov_const)
    return (bound - rest) / max(abs(rest), 1.0)


def _with_slack(
    p: Prepared, net: FlowNetwork, flow: FlowResult, weighted: bool, bound: float, left_out: EligiblePairs, stop: Stop
) -> float | None:
    """`bound` (of `flow` on `net`) plus the pruning slack over `left_out`; None when cut."""
    if stop():
        return None
    pi, pot = net.member_potentials(flow, weighted)
    d_pot = pi[net.sink - p.D + np.arange(p.D)]
    found = left_out_violation(left_out, p.D, pot[None, :], d_pot[None, :], np.array([weighted]), stop=stop)
    if found is None:
        return None
    left_count = np.bincount(left_out.pm, minlength=p.M)
    return bound + net.pruning_slack(flow, pi, found[0][0], found[1][0], weighted, left_count)


def _highest_level(levels) -> tuple[float, FlowResult] | None:
    """The level with the highest peak (a flow with peak None, the lowest level, last)."""
    if not levels:
        return None
    return max(levels, key=lambda bf: (bf[1].peak is not None, bf[1].peak or 0))


LEVEL_COLUMN_ROUNDS = 4  # re-solves of the top peak level's bound with the pairs joined
JOIN_PER_DEMAND = 6  # when many left-out pairs price out, each demand adds at most this many per round


class CliquePoints:
    """The overlap cliques of the model, each as (member, time point): a clique of a member's
    proposals is the set alive just before the earliest of their ends, t, so every pair of
    that member whose demand contains t overlaps all of them. Pricing a clique with a
    multiplier then prices the pairs pruning left out as well: the clique extended by them
    is still a set of which at most one can be chosen, and the pairs of the model in it are
    the same, so their penalties do not change."""

    def __init__(self, p: Prepared, cand: Candidates, cliques: list[list[int]]):
        self.p = p
        cid = np.repeat(np.arange(len(cliques)), [len(c) for c in cliques])
        pidx = np.fromiter((k for c in cliques for k in c), dtype=np.int64, count=len(cid))
        self.at = np.full(len(cliques), np.inf)
        np.minimum.at(self.at, cid, p.d_end[cand.pd[pidx]])
        first = np.searchsorted(cid, np.arange(len(cliques)))
        self.member = cand.pm[pidx[first]] if len(cliques) else np.zeros(0, dtype=np.int64)

    def penalty(self, lam: np.ndarray, pm: np.ndarray, pd: np.ndarray) -> np.ndarray:
        """Per pair (pm, pd): the multipliers of its member's cliques whose time point lies
        inside its demand (start < t <= end, t standing for the instant just before)."""
        out = np.zeros(len(pm), dtype=np.int64)
        on = lam > 0
        if not on.any() or not len(pm):
            return out
        s, e = self.p.d_start[pd], self.p.d_end[pd]
        times = np.unique(np.concatenate([self.at[on], s, e]))
        span = len(times) + 1
        key = self.member[on].astype(np.int64) * span + np.searchsorted(times, self.at[on])
        order = np.argsort(key, kind="stable")
        key, summed = key[order], np.concatenate([[0], np.cumsum(lam[on][order])])
        base = pm.astype(np.int64) * span
        lo = np.searchsorted(key, base + np.searchsorted(times, s), side="right")
        hi = np.searchsorted(key, base + np.searchsorted(times, e), side="right")
        return (summed[hi] - summed[lo]).astype(np.int64)


class LevelColumns:
    """The weighted bound over every eligible pair, by column generation on the highest peak
    level.

    The pruning slack of a weighted flow is weak duality with the pruned flow's potentials,
    which are far from optimal for the left-out pairs: at city size it was worth more than the
    whole rest objective (46,000 rest points, and W-scale at the lowest level). Adding the
    left-out pairs whose reduced cost is negative (at most JOIN_PER_DEMAND per demand and
    round) and solving again shrinks the slack to nothing in a few rounds (city: 46,000 ->
    3,000 -> 90 -> 3 -> 0). Every round's flow bound plus slack holds for the unpruned problem
    (the network is a subset of the eligible pairs, the slack covers the rest; the joined
    pairs carry no overlap penalty, i.e. they are in no priced clique, which only loosens a
    priced bound), so the least is kept and a round cut by the deadline leaves a valid bound.
    One pass over the left-out pairs per round gives both the slack and the pairs to join.

    A plan whose peak load is P' below the top level P is in level P's network, counted at
    the peak P, so the top's bound + peak_weight x (P - P') bounds every lower level; the
    slack counts the load tiers above the top level as open (over every eligible pair a
    member may reach a load above the pruned model's highest level), with the peak counted
    at the top level, so plans above it are covered too."""

    def __init__(self, p: Prepared, cand: Candidates, model: MatchModel, weight: int, left_out: EligiblePairs):
        self.p, self.model, self.weight = p, model, weight
        self.cand, self.left_out = cand, left_out  # the network's pairs grow, the left-out ones shrink
        self.coef = model.pair_coef.astype(np.int64)
        self.left_count = np.bincount(left_out.pm, minlength=p.M)
        self.cliques = CliquePoints(p, cand, model.cliques)

    def bound(self, net: FlowNetwork, top: tuple[float, FlowResult], flows: list[FlowResult], stop: Stop) -> float:
        """The bound over every level (`flows`) from the highest, `top` = (bound, flow on
        `net`); inf when `stop` cuts it before the first slack is known."""
        lowest = self.model.peak_lb

        def peak_of(flow: FlowResult) -> int:
            return lowest if flow.peak is None else flow.peak

        bound, flow = top
        level = peak_of(flow)
        best = math.inf
        for _ in range(LEVEL_COLUMN_ROUNDS + 1):
            slack = self._slack_and_join(net, flow, stop)
            if slack is None:
                break
            best = min(best, bound + slack[0])
            if not slack[1] or stop():
                break
            net, flow, bound = self._solve(top[1], level)
            if not flow.ok:
                break
        return best + self.model.peak_weight * (level - min(peak_of(f) for f in [*flows, top[1]]))

    def _solve(self, top: FlowResult, level: int) -> tuple[FlowNetwork, FlowResult, float]:
        """The network over the pairs joined so far with every load tier (the ones above the
        level are closed in the flow and counted as open by the slack), the top's penalties."""
        model, tiers = self.model, {m: v for m, (_, v) in self.model.tiers.items()}
        net = FlowNetwork(self.p, self.cand, self.coef, tiers, self.weight, model.peak_weight, full_tiers=True)
        penalty = None
        if top.penalty is not None:
            penalty = np.zeros(len(self.cand), dtype=np.int64)
            penalty[: len(top.penalty)] = top.penalty
            if top.multipliers is not None:
                joined = slice(len(top.penalty), len(self.cand))
                penalty[joined] = self.cliques.penalty(top.multipliers, self.cand.pm[joined], self.cand.pd[joined])
        r = net.solve(peak=top.peak, penalty=penalty)
        if top.peak is not None:  # r.value counts the peak at the level
            return net, r, r.value + top.priced
        return net, r, r.value + top.priced + model.peak_weight * (net._peak(r.chosen) - level)

    def _slack_and_join(self, net: FlowNetwork, flow: FlowResult, stop: Stop) -> tuple[float, bool] | None:
        """(The pruning slack of `flow`, whether pairs joined), from one pass over the
        left-out pairs: per demand the largest value over member potential (the slack) and
        the pairs with a negative reduced cost, the best JOIN_PER_DEMAND of which join."""
        if stop():
            return None
        p, left = self.p, self.left_out
        pi, pot = net.member_potentials(flow, True)
        d_pot = pi[net.sink - p.D + np.arange(p.D)]
        starts, segs, lens = left.seg_start[:-1], left.seg_demand, np.diff(left.seg_start)
        viol, neg = np.full(p.D, -np.inf), np.zeros(p.D)
        if len(left):
            v = left.coef - pot[left.pm]
            viol[segs] = np.maximum.reduceat(v, starts)
            v += np.repeat(d_pot[segs], lens)  # minus the reduced cost
            neg[segs] = -np.add.reduceat(np.maximum(v, 0.0), starts)
            joined = self._join(np.nonzero(v > 1e-6)[0], v)
            del v
        else:
            joined = False
        return net.pruning_slack(flow, pi, viol, neg, True, self.left_count), joined

    def _join(self, idx: np.ndarray, gain: np.ndarray) -> bool:
        """Move the left-out pairs `idx` (gain: minus their reduced cost), at most the best
        JOIN_PER_DEMAND of each demand, into the network."""
        if not len(idx):
            return False
        left = self.left_out
        seg = np.searchsorted(left.seg_start, idx, side="right") - 1
        order = np.lexsort((-gain[idx], seg))
        s_sorted = seg[order]
        rank = np.arange(len(order)) - np.searchsorted(s_sorted, s_sorted, side="left")
        take = idx[order[rank < JOIN_PER_DEMAND]]
        pm = left.pm[take].astype(np.int64)
        self.cand = self.cand.with_pairs(left.seg_demand[seg[order[rank < JOIN_PER_DEMAND]]], pm)
        self.coef = np.concatenate([self.coef, np.rint(left.coef[take]).astype(np.int64)])
        self.left_count -= np.bincount(pm, minlength=self.p.M)
        keep = np.ones(len(left), dtype=bool)
        keep[take] = False
        self.left_out = left.keep(keep)
        return True


COLUMN_ROUNDS = 3  # pricing rounds of the coverage bound over the left-out pairs


def _coverage_bound_all(p, cand, model, out: Relaxation, seats: int, total: float, left_out, stop) -> float:
    """The coverage flow's bound plus its pruning slack (`total`, seat units) in priority
    points, tightened by column generation while it is above the plan's coverage."""
    bound = float(model.cov_const + math.floor(total / seats + 1e-6))
    reached = coverage_of(model, out.plan)
    if bound > reached:
        bound = max(float(reached), min(bound, coverage_bound_by_columns(p, cand, model, seats, left_out, stop)))
    return bound


def coverage_bound_by_columns(
    p: Prepared, cand: Candidates, model: MatchModel, seats: int, left_out: EligiblePairs, stop: Stop
) -> float:
    """The coverage bound over every eligible pair, tightened by column generation: a coverage
    flow whose members have all their load tiers, the pruning slack over the pairs left out,
    then the left-out pairs with a negative reduced cost join the network and the flow is
    solved again (COLUMN_ROUNDS flows). Every round's bound holds for the unpruned problem (its network
    is a subset of the eligible pairs, the slack covers the rest), so the least is kept."""
    best = math.inf
    for _ in range(COLUMN_ROUNDS):
        if stop():  # read before each solve (it was read only after: a round could overrun)
            break
        net = FlowNetwork(p, cand, np.zeros(len(cand), dtype=np.int64), {}, seats, 0, full_tiers=True)
        flow = net.solve()
        if not flow.ok or stop():
            break
        pi, pot = net.member_potentials(flow, False)
        d_pot = pi[net.sink - p.D + np.arange(p.D)]
        found = left_out_violation(left_out, p.D, pot[None, :], d_pot[None, :], np.array([False]), stop=stop)
        if found is None:
            break
        left_count = np.bincount(left_out.pm, minlength=p.M)
        total = flow.value + net.pruning_slack(flow, pi, found[0][0], found[1][0], False, left_count)
        best = min(best, float(model.cov_const + math.floor(total / seats + 1e-6)))
        demand_of = left_out.demand_of_pairs()
        join = pot[left_out.pm] - d_pot[demand_of] < -1e-9  # negative reduced cost: worth adding
        if not join.any() or stop():
            break
        cand = cand.with_pairs(demand_of[join], left_out.pm[join])
        left_out = left_out.keep(~join)
    return best


def rest_bound_at(
    p: Prepared, cand: Candidates, model: MatchModel, relaxation: Relaxation, coverage: int, weights: list[int]
) -> float:
    """Upper bound on the rest over plans with coverage >= `coverage`: for any weight mu >= 0,
    rest <= flow_mu - mu * (coverage - cov_const). The lexicographic weight is huge, so when the
    coverage bound is not reached it says little; smaller weights (and 0) are tried too, each
    with one unrestricted flow whose peak term is taken at its lower bound. With pruned
    candidates only the flows corrected for pruning (weight 0) are valid."""
    gained = coverage - model.cov_const
    best = relaxation.combined_bound_all - relaxation.coverage_weight * gained
    if cand.top_k is not None or not cand.complete:
        for mu, flow_bound in relaxation.rest_flows_all:
            best = min(best, flow_bound - mu * gained)
        return best
    tier_values = {m: v for m, (_, v) in model.tiers.items()}
    for mu in weights:
        net = FlowNetwork(p, cand, model.pair_coef, tier_values, mu, model.peak_weight)
        flow = net.solve(peak=None)
        if flow.ok:
            b = flow.value + model.peak_weight * (net._peak(flow.chosen) - model.peak_lb)
            best = min(best, b - mu * gained)
    return best
