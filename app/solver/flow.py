"""Min-cost-flow relaxation: a fast upper bound and a near-optimal starting plan.

Network: source -> member (one arc per load tier, carrying the convex balance cost and the
annual-duty bonus) -> demand (one arc per candidate pair, carrying the pair value) -> sink (the
first `need` seats carry coverage_weight * priority / need each, further seats up to max_members
carry nothing), plus a zero-cost bypass so no flow is forced.

Relative to the model this drops two things: time overlaps between a member's proposals and the
all-or-nothing nature of coverage (a half-staffed demand earns half its coverage value). Both can
only raise the optimum. The peak-load term is handled exactly by solving once per peak level P
(tiers above P removed, cost peak_weight * P), so the best of those flows is a valid upper bound
on the weighted objective.

The plan is then made feasible by "arc fixing": pairs that overlap another proposal of the same
member, or that sit on half-staffed demands, are removed and the flow re-solved (a few rounds),
and whatever conflicts remain are repaired greedily.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from ortools.graph.python import min_cost_flow

from app.solver.eligibility import Candidates, Prepared


class WorkClock:
    """A clock that advances with the work done (the flows solved), not with time.

    Deterministic solves give their flow stage deadlines on this clock, so the number of
    arc-fixing rounds and pricing iterations depends on the input only, never on the load of
    the machine. A solve is charged by its size: per arc a fixed part plus a part per node,
    since OR-Tools' cost-scaling solve per arc grows with the nodes. Measured on the target
    machine, idle (s per arc per solve): 0.42e-6 at 694 nodes (district), 0.65e-6 at 3,929
    (2k), 1.23e-6 at 9,845 (5k), 2.73e-6 at 19,664 (city); the constants are that fit plus a
    quarter for the stage's work between solves (measured at 2k). One SECONDS_PER_ARC (4e-6)
    for every size was 1.5x the city's cost but 6x the 2k's, which left deterministic 2k
    solves almost no flow work.
    """

    SECONDS_PER_ARC = 1.6e-7
    SECONDS_PER_ARC_NODE = 1.6e-10

    def __init__(self) -> None:
        self.spent = 0.0

    def spend(self, arcs: int, nodes: int) -> None:
        self.spent += arcs * (self.SECONDS_PER_ARC + self.SECONDS_PER_ARC_NODE * nodes)

    def __call__(self) -> float:
        return self.spent


@dataclass
class FlowResult:
    chosen: np.ndarray  # candidate indices carrying flow (may break overlaps / half-staff)
    value: float  # flow objective (model units), peak term included
    ok: bool
    peak: int | None = None  # peak level the flow was limited to
    arcs: tuple | None = None  # (tails, heads, caps, costs, flows) of the solved network
    # a priced flow (lagrangian): the penalties it was solved with and the multipliers' sum,
    # so its bound is value + priced (+ the peak term at its lower bound when peak is None)
    penalty: np.ndarray | None = None
    priced: float = 0.0
    multipliers: np.ndarray | None = None  # one per overlap clique (the model's cliques)


class FlowNetwork:
    """Arrays of the network, built once and re-solved with arcs switched off."""

    def __init__(
        self,
        p: Prepared,
        cand: Candidates,
        pair_coef: np.ndarray,
        tier_values: dict[int, list[int]],
        cov_weight: int,
        peak_weight: int,
        full_tiers: bool = False,
    ):
        """`full_tiers`: every member gets all its load tiers, not just as many as it has pairs
        (bound networks: their potentials then price the capacity of members whose pairs
        pruning left out, instead of the pruning slack counting that capacity as free)."""
        self.p, self.cand = p, cand
        self.peak_weight = peak_weight
        self.full_tiers = full_tiers
        self.work: WorkClock | None = None  # set by a deterministic solve: counts arcs solved
        self.last_solve_s = 0.0  # wall time of the last solve: what the next one may take
        self.last_potentials_s = 0.0  # ... and of the last potentials (Bellman-Ford) pass
        members = np.unique(cand.pm)
        n_mem = len(members)
        m_node = np.full(p.M, -1, dtype=np.int64)
        m_node[members] = np.arange(1, n_mem + 1)
        self.source, self.sink = 0, n_mem + p.D + 1
        d_node = n_mem + 1 + np.arange(p.D)
        # source -> member tiers; tier k of member m is its (base + k + 1)-th assignment
        tt, tc, tl = [], [], []
        cnt_m = np.bincount(cand.pm, minlength=p.M)
        for m in members:
            r = int(p.cap_left[m] if full_tiers else min(p.cap_left[m], cnt_m[m]))
            vals = tier_values.get(int(m)) or [0] * r
            for k, v in enumerate(vals[:r]):
                tt.append(m_node[m])
                tc.append(-v)
                tl.append(int(p.base_load[m]) + k + 1)
        self.tier_tail = np.full(len(tt), self.source, dtype=np.int64)
        self.tier_head = np.array(tt, dtype=np.int64)
        self.tier_cost = np.array(tc, dtype=np.int64)
        self.tier_load = np.array(tl, dtype=np.int64)  # load reached when this tier is used
        self.pair_tail = m_node[cand.pm]
        self.pair_head = d_node[cand.pd]
        self.pair_cost = -pair_coef.astype(np.int64)
        self.seat_tail, self.seat_cap, self.seat_cost = _seat_arcs(p, cand, d_node, cov_weight)

    def solve(
        self, allowed: np.ndarray | None = None, peak: int | None = None, penalty: np.ndarray | None = None
    ) -> FlowResult:
        """Max-value flow using only `allowed` pairs and loads <= `peak` (None: no limit);
        `penalty` (integers, model units) is subtracted from the pair values and NOT added back
        to the returned value."""
        tier_ok = np.ones(len(self.tier_cost), dtype=bool) if peak is None else self.tier_load <= peak
        pair_cap = np.ones(len(self.pair_cost), dtype=np.int64)
        if allowed is not None:
            pair_cap[~allowed] = 0
        supply = int(tier_ok.sum())
        tails = np.concatenate([self.tier_tail, self.pair_tail, self.seat_tail, [self.source]])
        heads = np.concatenate([self.tier_head, self.pair_head, np.full(len(self.seat_tail), self.sink), [self.sink]])
        caps = np.concatenate([tier_ok.astype(np.int64), pair_cap, self.seat_cap, [supply]])
        pair_cost = self.pair_cost if penalty is None else self.pair_cost + penalty
        costs = np.concatenate([self.tier_cost, pair_cost, self.seat_cost, [0]])
        if self.work is not None:
            self.work.spend(len(tails), self.sink + 1)
        started = time.perf_counter()
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        smcf.set_node_supply(self.source, supply)
        smcf.set_node_supply(self.sink, -supply)
        if smcf.solve() != smcf.OPTIMAL:
            return FlowResult(np.zeros(0, dtype=np.int64), float("inf"), False)
        first = len(self.tier_cost)
        all_flows = smcf.flows(np.arange(len(tails)))
        flows = all_flows[first : first + len(self.pair_cost)]
        chosen = np.nonzero(flows > 0)[0]
        self.last_solve_s = time.perf_counter() - started
        limit = peak
        if peak is None:
            peak = self._peak(chosen)
        return FlowResult(
            chosen,
            -float(smcf.optimal_cost()) - self.peak_weight * peak,
            True,
            limit,
            (tails, heads, caps, costs, all_flows),
        )

    def _potentials(self, r: FlowResult) -> np.ndarray:
        """Node potentials of an optimal flow: shortest distances in its residual graph (timed:
        `last_potentials_s` is what the bound pass's reserve is sized from)."""
        assert r.arcs is not None, "a solved flow keeps its arcs"
        started = time.perf_counter()
        tails, heads, caps, costs, flows = r.arcs
        fwd = flows < caps
        bwd = flows > 0
        et = np.concatenate([tails[fwd], heads[bwd]])
        eh = np.concatenate([heads[fwd], tails[bwd]])
        ec = np.concatenate([costs[fwd], -costs[bwd]]).astype(np.float64)
        dist = np.zeros(int(max(tails.max(), heads.max())) + 1)
        for _ in range(len(dist) + 1):
            cand = dist[et] + ec
            new = dist.copy()
            np.minimum.at(new, eh, cand)
            if np.array_equal(new, dist):
                break
            dist = new
        self.last_potentials_s = time.perf_counter() - started
        return dist

    def _tier_table(self, weighted: bool) -> tuple[np.ndarray, list]:
        """Per member: the largest value of any of its load tiers in the network with every
        eligible pair, and the values of all its tiers (model units)."""
        cache = self.__dict__.setdefault("_tiers", {})
        if weighted in cache:
            return cache[weighted]
        p = self.p
        w = p.problem.weights
        from app.solver.model import SCALE

        tmax = np.zeros(p.M)
        vals = []
        for m in range(p.M):
            r = int(p.cap_left[m])
            if not weighted or r <= 0:
                vals.append([0] * r)
                continue
            bm = int(p.base_load[m])
            v = [int(round(-w.balance_convex * (bm + k) * SCALE)) for k in range(r)]
            if p.zero_activity[m]:
                v[0] += int(round(w.duty * SCALE))
            vals.append(v)
            tmax[m] = max(0, max(v))
        cache[weighted] = (tmax, vals)
        return tmax, vals

    def member_potentials(self, r: FlowResult, weighted: bool) -> tuple[np.ndarray, np.ndarray]:
        """(node potentials of the optimal flow r, potential per member index); members
        without a node get pi_source - their best tier value, so none of their tiers has a
        negative reduced cost."""
        pi = self._potentials(r)
        tmax, _ = self._tier_table(weighted)
        pot = pi[self.source] - tmax
        present = np.unique(self.cand.pm)
        pot[present] = pi[1 + np.arange(len(present))]
        return pi, pot

    def pruning_slack(
        self,
        r: FlowResult,
        pi: np.ndarray,
        viol: np.ndarray,
        neg: np.ndarray,
        weighted: bool,
        left_count: np.ndarray | None = None,
    ) -> float:
        """How much the optimum of this flow problem can rise when every pair that candidate
        pruning left out is added back (>= 0, model units).

        Weak duality: for any node potentials pi, sum_a cap_a * min(0, cost_a + pi_tail -
        pi_head) + supply * (pi_sink - pi_source) is a lower bound on the min cost of the
        network with all eligible pairs. From the optimal potentials of `r`, each demand's
        potential is lowered to -viol[d] (viol[d] = max over its left-out pairs of value minus
        member potential, see eligibility.left_out_violation), so no left-out pair has a
        negative reduced costs (neg[d]) is cheaper: every arc touches at most one demand
        node, so the choice is made demand by demand. Members without a node, and load tiers
        the pruned network lacks, are counted explicitly (with `left_count`, left-out pairs
        per member, only as many tiers as the member has eligible pairs). Load tiers the
        flow's peak level closed are counted as open too, so the bound also holds for plans
        whose peak is above that level (their peak counted at the level)."""
        p, cand = self.p, self.cand
        assert r.arcs is not None, "a solved flow keeps its arcs"
        tails, heads, caps, costs, flows = r.arcs
        src, snk = self.source, self.sink
        present = np.unique(cand.pm)
        n_mem = len(present)
        low = pi.copy()
        fin = np.isfinite(viol)
        d_nodes = n_mem + 1 + np.nonzero(fin)[0]
        low[d_nodes] = np.minimum(pi[d_nodes], -viol[fin])
        c = costs.astype(np.float64)
        part_keep = caps * np.minimum(c + pi[tails] - pi[heads], 0.0)
        part_low = caps * np.minimum(c + low[tails] - low[heads], 0.0)
        # the demand node each arc touches (pair arcs: head; seat arcs: tail), -1 for none
        first_d, last_d = n_mem + 1, n_mem + p.D
        dh = np.where((heads >= first_d) & (heads <= last_d), heads - first_d, -1)
        dt = np.where((tails >= first_d) & (tails <= last_d), tails - first_d, -1)
        dem = np.maximum(dh, dt)
        on = dem >= 0
        keep_d = np.bincount(dem[on], weights=part_keep[on], minlength=p.D) + neg
        low_d = np.bincount(dem[on], weights=part_low[on], minlength=p.D)
        lb = float(part_keep[~on].sum()) + float(np.maximum(keep_d, low_d).sum())
        pi = low  # src, sink and member potentials are the same in both
        tiers_lb, more = self._missing_tiers(r, pi, weighted, left_count)
        lb += tiers_lb
        supply = float(caps[-1]) + more  # last arc: the bypass, cap = supply
        lb += supply * (pi[snk] - pi[src]) + more * min(0.0, pi[src] - pi[snk])
        opt = float((costs.astype(np.float64) * flows).sum())
        return max(0.0, opt - lb)

    def _missing_tiers(
        self, r: FlowResult, pi: np.ndarray, weighted: bool, left_count: np.ndarray | None
    ) -> tuple[float, float]:
        """For pruning_slack: (their part of the dual bound, how many) of the load tiers the
        network with every eligible pair has and this flow lacks: tiers beyond a member's
        pairs, tiers the flow's peak level closed, and every tier of members without a node."""
        p, cand = self.p, self.cand
        assert r.arcs is not None, "a solved flow keeps its arcs"
        tails, heads, caps, costs, _ = r.arcs
        src, present = self.source, np.unique(cand.pm)
        _, vals = self._tier_table(weighted)
        cnt_m = np.bincount(cand.pm, minlength=p.M)
        lb, more = 0.0, 0.0
        reach = p.cap_left if left_count is None else np.minimum(p.cap_left, cnt_m + left_count)
        for node, m in enumerate(present.tolist(), start=1):
            have = int(p.cap_left[m] if self.full_tiers else min(p.cap_left[m], cnt_m[m]))
            for v in vals[m][have : int(reach[m])]:
                lb += min(0.0, -v + pi[src] - pi[node])
                more += 1.0
        n_tiers = len(self.tier_cost)
        closed = caps[:n_tiers] == 0  # above the flow's peak level: counted as open
        if closed.any():
            reduced = costs[:n_tiers][closed] + pi[tails[:n_tiers][closed]] - pi[heads[:n_tiers][closed]]
            lb += float(np.minimum(reduced, 0.0).sum())
            more += float(closed.sum())
        absent = np.ones(p.M, dtype=bool)
        absent[present] = False
        return lb, more + float(reach[absent].sum())

    def pair_reduced_costs(self, r: FlowResult) -> np.ndarray:
        """Least value lost by flipping each pair arc of an optimal flow (forcing it in if unused,
        out if used): reduced costs from node potentials of the residual graph (Bellman-Ford).
        A pair whose reduced cost exceeds (bound - incumbent) is in no better plan."""
        assert r.arcs is not None, "a solved flow keeps its arcs"
        tails, heads, caps, costs, flows = r.arcs
        dist = self._potentials(r)
        first = len(self.tier_cost)
        sl = slice(first, first + len(self.pair_cost))
        t, h, c, f = tails[sl], heads[sl], costs[sl].astype(np.float64), flows[sl]
        rc_in = c + dist[t] - dist[h]
        return np.where(f > 0, -rc_in, rc_in)

    def bound(
        self,
        peak_lb: int,
        peak_ub: int,
        stop: Callable[[], bool] = lambda: False,
        hopeless: Callable[[float, FlowResult], bool] = lambda _bound, _flow: False,
    ) -> list[tuple[float, FlowResult]]:
        """Upper bounds on the weighted objective, one per peak level, with their flows; the
        overall bound is the largest.

        Levels are solved from the highest down, and `stop` (the deadline, or a re-solve that
        would overrun it) is read before each one after the first. The levels not solved are
        then covered by the lowest one solved, P: the flow value F can only grow with the
        level, so F(P) - peak_weight x peak_lb bounds every level below P; its flow is handed on
        as an unlimited one (peak None), which the later stages re-solve with every tier.
        The same cover ends the loop when `hopeless` says a level's bound, counted at the
        lowest level (F(P) - peak_weight x peak_lb, above every level below), cannot beat the
        best plan: the levels below are not solved at all."""
        if self.peak_weight == 0 or peak_ub <= peak_lb:
            r = self.solve(peak=None)
            # r.value counts the peak at its real level; the bound needs the lowest level
            return [(r.value + self.peak_weight * (self._peak(r.chosen) - peak_lb), r)]
        out: list[tuple[float, FlowResult]] = []
        for level in range(peak_ub, peak_lb - 1, -1):
            if out and stop():
                last = out[-1][1]
                assert last.peak is not None, "every level solved so far had its peak"
                floor = last.value + self.peak_weight * (last.peak - peak_lb)
                out[-1] = (floor, replace(last, peak=None))
                break
            r = self.solve(peak=level)
            if not r.ok:
                continue
            out.append((r.value, r))
            floor = r.value + self.peak_weight * (level - peak_lb)
            if level > peak_lb and hopeless(floor, r):
                out.append((floor, replace(r, peak=None)))
                break
        return out

    def _peak(self, chosen: np.ndarray) -> int:
        loads = self.p.base_load.copy()
        np.add.at(loads, self.cand.pm[chosen], 1)
        return int(loads.max()) if len(loads) else 0

    def conflicts(self, chosen: np.ndarray) -> np.ndarray:
        """Pairs to switch off: the lower-valued side of each overlap, and every pair on a
        demand left below min_members."""
        p, cand = self.p, self.cand
        drop = []
        order = chosen[np.lexsort((cand.pd[chosen], cand.pm[chosen]))]
        pm, pdx = cand.pm[order], cand.pd[order]
        bounds = np.flatnonzero(np.diff(pm)) + 1
        for grp in np.split(np.arange(len(order)), bounds):
            if len(grp) < 2:
                continue
            ks = order[grp]
            s, e = p.d_start[pdx[grp]], p.d_end[pdx[grp]]
            for a in range(len(ks)):
                for b in range(a + 1, len(ks)):
                    if s[a] < e[b] and s[b] < e[a]:
                        lo = ks[a] if cand.value[ks[a]] < cand.value[ks[b]] else ks[b]
                        drop.append(lo)
        seats = np.bincount(cand.pd[chosen], minlength=p.D) + p.pinned_count
        mins = np.array([d.min_members for d in p.problem.demands], dtype=np.int64)
        partial = (seats < mins)[cand.pd[chosen]]
        drop.extend(chosen[partial].tolist())
        return np.unique(np.array(drop, dtype=np.int64))


def _seat_arcs(p: Prepared, cand: Candidates, d_node: np.ndarray, cov_weight: int) -> tuple[np.ndarray, ...]:
    """Demand -> sink arcs (tails, caps, costs): the first `need` seats carry the coverage value,
    further seats up to max_members carry nothing; demands that cannot reach min_members get
    no seat at all."""
    cnt_d = np.bincount(cand.pd, minlength=p.D)
    st: list[int] = []
    sc: list[int] = []
    sk: list[int] = []
    for j, d in enumerate(p.problem.demands):
        need = int(d.min_members - p.pinned_count[j])
        room = int(p.d_room[j])
        if room <= 0 or cnt_d[j] == 0 or 0 < need > cnt_d[j]:
            continue
        if need > 0:
            per_seat = -(cov_weight * d.priority) // need  # rounds up the value: bound-safe
            st.append(int(d_node[j]))
            sc.append(need)
            sk.append(per_seat)
        if room > max(need, 0):
            st.append(int(d_node[j]))
            sc.append(room - max(need, 0))
            sk.append(0)
    return np.array(st, dtype=np.int64), np.array(sc, dtype=np.int64), np.array(sk, dtype=np.int64)


def lagrangian(
    net: FlowNetwork,
    cliques: list[list[int]],
    start: FlowResult,
    start_bound: float,
    incumbent: float,
    deadline: float,
    peak_lb: int,
    on_plan=None,
    max_iter: int = 30,
    stop=None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, FlowResult | None, np.ndarray | None]:
    """Tighten one peak level's flow bound by pricing the overlap cliques (AtMostOne sets of a
    member's proposals) with integer multipliers, subgradient steps (Polyak).

    For any multipliers lam >= 0, flow(values - lam on each clique's pairs) + sum(lam) bounds
    the model from above, so every iterate gives a valid bound; the best is kept. `on_plan`
    receives each iterate's flow plan (to be repaired into a feasible plan), and may return a
    better incumbent value. Returns (bound, flow at the best multipliers, their penalties).
    """
    if not cliques:
        return start_bound, None, None
    cid = np.repeat(np.arange(len(cliques)), [len(c) for c in cliques])
    pidx = np.fromiter((k for c in cliques for k in c), dtype=np.int64, count=len(cid))
    lam = np.zeros(len(cliques), dtype=np.float64)
    best, best_r, best_pen = start_bound, None, None
    theta, stall = 1.0, 0
    x = np.zeros(len(net.cand), dtype=np.float64)
    x[start.chosen] = 1.0
    g = np.bincount(cid, weights=x[pidx], minlength=len(cliques)) - 1.0
    for _ in range(max_iter):
        if clock() > deadline or (stop is not None and stop()):
            break
        norm = float((np.where((lam > 0) | (g > 0), g, 0.0) ** 2).sum())
        if norm == 0:
            break
        step = theta * max(best - incumbent, 1.0) / norm
        lam = np.maximum(0.0, np.rint(lam + step * g))
        pen = np.zeros(len(net.cand), dtype=np.int64)
        np.add.at(pen, pidx, lam[cid].astype(np.int64))
        r = net.solve(peak=start.peak, penalty=pen)
        if not r.ok:
            break
        val = r.value + float(lam.sum())
        if start.peak is None:  # count the peak term at its lower bound for a valid bound
            val += net.peak_weight * (net._peak(r.chosen) - peak_lb)
        if val < best - 1e-9:
            r.penalty, r.priced, r.multipliers = pen, float(lam.sum()), lam.copy()
            best, best_r, best_pen, stall = val, r, pen, 0
        else:
            stall += 1
            if stall >= 2:
                theta, stall = theta / 2, 0
        if on_plan is not None:
            incumbent = max(incumbent, on_plan(r))
        x[:] = 0.0
        x[r.chosen] = 1.0
        g = np.bincount(cid, weights=x[pidx], minlength=len(cliques)) - 1.0
    return best, best_r, best_pen


def fix_and_resolve(
    net: FlowNetwork,
    start: FlowResult,
    peak: int | None,
    rounds: int = 12,
    deadline: float | None = None,
    stop=None,
    penalty: np.ndarray | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> np.ndarray:
    """Switch off conflicting pairs and re-solve until no conflict is left (or the rounds or
    the time run out); returns the last flow plan, which may still hold a few conflicts."""
    allowed = np.ones(len(net.cand), dtype=bool)
    chosen = start.chosen
    for _ in range(rounds):
        drop = net.conflicts(chosen)
        if len(drop) == 0 or (deadline is not None and clock() > deadline) or (stop is not None and stop()):
            break
        allowed[drop] = False
        r = net.solve(allowed=allowed, peak=peak, penalty=penalty)
        if not r.ok:
            break
        chosen = r.chosen
    return chosen


class _RepairPlan:
    """Pairs held while a relaxed plan is made feasible: capacity, times and seats left."""

    def __init__(self, p: Prepared, cand: Candidates):
        self.p, self.cand = p, cand
        self.mins = np.array([d.min_members for d in p.problem.demands], dtype=np.int64)
        self.keep = np.zeros(len(cand), dtype=bool)
        self.taken: dict[int, list[tuple[float, float]]] = {}
        self.held: dict[int, list[int]] = {}
        self.left = p.cap_left.copy()
        self.seats = p.pinned_count.copy()

    def _interval(self, j: int) -> tuple[float, float]:
        return self.p.d_start[j], self.p.d_end[j]

    def free(self, i: int, j: int) -> bool:
        s, e = self._interval(j)
        return self.left[i] > 0 and not any(s < te and ts < e for ts, te in self.taken.get(i, ()))

    def take(self, k: int) -> None:
        i, j = int(self.cand.pm[k]), int(self.cand.pd[k])
        self.taken.setdefault(i, []).append(self._interval(j))
        self.held.setdefault(i, []).append(k)
        self.left[i] -= 1
        self.keep[k] = True
        self.seats[j] += 1

    def release(self, k: int) -> None:
        i, j = int(self.cand.pm[k]), int(self.cand.pd[k])
        self.taken[i].remove(self._interval(j))
        self.held[i].remove(k)
        self.left[i] += 1
        self.keep[k] = False
        self.seats[j] -= 1

    def extra_seat_in_the_way(self, i: int, j: int) -> int | None:
        """A pair of member i on an extra seat (above min_members) whose release frees i for j."""
        s, e = self._interval(j)
        for k2 in self.held.get(i, ()):
            j2 = int(self.cand.pd[k2])
            if self.seats[j2] <= self.mins[j2]:
                continue
            others = [self._interval(int(self.cand.pd[k3])) for k3 in self.held[i] if k3 != k2]
            if not any(s < te and ts < e for ts, te in others):
                return k2
        return None

    def try_member(self, k: int) -> bool:
        """Take pair k, moving its member off an extra seat if that is what blocks it."""
        i, j = int(self.cand.pm[k]), int(self.cand.pd[k])
        if self.free(i, j):
            self.take(k)
            return True
        k2 = self.extra_seat_in_the_way(i, j)
        if k2 is None:
            return False
        self.release(k2)
        if self.free(i, j):
            self.take(k)
            return True
        self.take(k2)
        return False

    def refill(self, j: int, lo: int, hi: int) -> None:
        """Bring demand j (pairs lo..hi) back to min_members from its other candidates, or
        release everyone on it."""
        members_in = {int(self.cand.pm[k]) for k in range(lo, hi) if self.keep[k]}
        for k in range(lo, hi):
            if self.seats[j] >= self.mins[j]:
                break
            i = int(self.cand.pm[k])
            if not self.keep[k] and i not in members_in and self.try_member(k):
                members_in.add(i)
        if self.seats[j] < self.mins[j]:
            for k in range(lo, hi):
                if self.keep[k]:
                    self.release(k)


def repair(p: Prepared, cand: Candidates, chosen: np.ndarray) -> np.ndarray:
    """Make a relaxed plan feasible without giving up coverage lightly.

    Pairs are accepted best-value first while capacity and time allow; a demand that lost
    members that way is first refilled from its other free candidates (highest priority demand
    first) and only dropped when that fails; then the greedy rules extend the plan.
    """
    from app.solver.baselines import greedy_pairs  # local: baselines imports explain

    prio = np.array([d.priority for d in p.problem.demands], dtype=np.int64)
    first = np.searchsorted(cand.pd, np.arange(p.D + 1))
    plan = _RepairPlan(p, cand)
    for k in chosen[np.argsort(-cand.value[chosen], kind="stable")]:
        if plan.free(int(cand.pm[k]), int(cand.pd[k])):
            plan.take(int(k))
    broken = [int(j) for j in np.unique(cand.pd[chosen]) if plan.seats[j] < plan.mins[j]]
    for j in sorted(broken, key=lambda j: (-prio[j], j)):
        plan.refill(j, int(first[j]), int(first[j + 1]))
    return greedy_pairs(p, cand, start=np.nonzero(plan.keep)[0])
