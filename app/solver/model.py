"""CP-SAT model over the candidate pairs.

The model is written straight into the CpModelProto (bulk `extend` calls, text-format for the
variable block) because the object-per-term Python API costs seconds at 10^5 pairs, while the
solve itself often takes less.

Variables: x[p] per candidate pair, y[d] "demand reaches min_members" per coverable demand,
t[m,j] "member m takes a j-th new assignment" where the load tiers carry the convex balance cost
and the annual-duty bonus, and one integer peak-load variable. Integer coefficients are the
float weights times SCALE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from app.solver.eligibility import Candidates, Prepared

SCALE = 100  # objective resolution: 0.01 of a weight unit
INT_MAX = 2**62


class ProtoBuilder:
    """Thin bulk writer over a CpModel's proto."""

    def __init__(self, write: bool = True) -> None:
        # write=False: only number the variables (the flow stage needs the index layout, tiers
        # and cliques, not the rows), which saves most of the build on models that are too
        # large for LP / CP-SAT anyway
        self.write = write
        self.model = cp_model.CpModel()
        self.proto = self.model.proto
        self.n_vars = 0
        # rows kept on the Python side too, so the LP relaxation can be exported cheaply
        self.rows: list[tuple[list[int], list[int], int, int]] = []
        self.var_lb: list[int] = []
        self.var_ub: list[int] = []

    def bools(self, n: int) -> int:
        first = self.n_vars
        if n > 0:
            if self.write:
                self.proto.merge_text_format("variables { domain: [0, 1] } " * n)
            self.n_vars += n
            self.var_lb.extend([0] * n)
            self.var_ub.extend([1] * n)
        return first

    def int_var(self, lb: int, ub: int) -> int:
        if self.write:
            self.proto.variables.add().domain.extend([int(lb), int(ub)])
        self.n_vars += 1
        self.var_lb.append(int(lb))
        self.var_ub.append(int(ub))
        return self.n_vars - 1

    def linear(self, vars_: list[int], coeffs: list[int], lb: int, ub: int) -> None:
        if not self.write:
            return
        lb, ub = int(max(lb, -INT_MAX)), int(min(ub, INT_MAX))
        ct = self.proto.constraints.add()
        ct.linear.vars.extend(vars_)
        ct.linear.coeffs.extend(coeffs)
        ct.linear.domain.extend([lb, ub])
        self.rows.append((list(vars_), list(coeffs), lb, ub))

    def at_most_one(self, lits: list[int]) -> None:
        if not self.write:
            return
        ct = self.proto.constraints.add()
        ct.at_most_one.literals.extend(lits)
        self.rows.append((list(lits), [1] * len(lits), -INT_MAX, 1))

    def maximize(self, vars_: list[int], coeffs: list[int], offset: int = 0) -> None:
        """Maximise sum(coeffs * vars) + offset (proto objectives minimise, hence the signs)."""
        self.proto.clear_objective()
        obj = self.proto.objective
        obj.vars.extend(vars_)
        obj.coeffs.extend([-int(c) for c in coeffs])
        obj.offset = -float(offset)
        obj.scaling_factor = -1.0

    def hint(self, vars_: list[int], values: list[int]) -> None:
        self.proto.clear_solution_hint()
        self.proto.solution_hint.vars.extend(vars_)
        self.proto.solution_hint.values.extend(values)


def interval_cliques(starts: np.ndarray, ends: np.ndarray) -> list[list[int]]:
    """Maximal sets of pairwise-overlapping half-open intervals (sweep line).

    In an interval graph every maximal clique is the set of intervals alive just before some
    interval ends, so one AtMostOne per such set forbids exactly the overlapping pairs.
    """
    n = len(starts)
    if n < 2:
        return []
    ev = sorted([(float(e), 0, i) for i, e in enumerate(ends)] + [(float(s), 1, i) for i, s in enumerate(starts)])
    alive: set[int] = set()
    out: list[list[int]] = []
    grew = False
    for _, kind, i in ev:
        if kind == 1:
            alive.add(i)
            grew = True
        else:
            if grew and len(alive) > 1:
                out.append(sorted(alive))
            grew = False
            alive.discard(i)
    return out


@dataclass
class MatchModel:
    b: ProtoBuilder
    n_pairs: int
    pair_coef: np.ndarray  # scaled int value per pair
    y_var: dict[int, int]  # demand index -> y variable
    y_need: dict[int, int]
    cov_const: int  # priorities of demands covered by pinned pairs alone
    prio: np.ndarray
    tiers: dict[int, tuple[int, list[int]]]  # member -> (first tier var, tier values)
    peak_var: int | None
    peak_lb: int
    pairs_of_member: dict[int, np.ndarray] = field(default_factory=dict)
    pairs_of_demand: dict[int, np.ndarray] = field(default_factory=dict)
    base: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # accepted load
    peak_ub: int = 0
    peak_weight: int = 0
    cliques: list[list[int]] = field(default_factory=list)  # AtMostOne sets of pair indices

    # objective pieces (vars, coeffs)
    def coverage_terms(self) -> tuple[list[int], list[int]]:
        ys = sorted(self.y_var)
        return [self.y_var[d] for d in ys], [int(self.prio[d]) for d in ys]

    def rest_offset(self) -> int:
        """The peak term is a constant when no new assignment can raise the peak."""
        return -self.peak_weight * self.peak_lb if self.peak_var is None else 0

    def rest_terms(self) -> tuple[list[int], list[int]]:
        peak_weight = self.peak_weight
        vars_ = list(range(self.n_pairs))
        coeffs = self.pair_coef.tolist()
        for _, (t0, vals) in self.tiers.items():
            for k, v in enumerate(vals):
                if v:
                    vars_.append(t0 + k)
                    coeffs.append(v)
        if self.peak_var is not None and peak_weight:
            vars_.append(self.peak_var)
            coeffs.append(-peak_weight)
        return vars_, coeffs

    def full_assignment(self, chosen: np.ndarray) -> tuple[list[int], list[int]]:
        """Values of every variable implied by a set of chosen pairs (for hints)."""
        x = np.zeros(self.n_pairs, dtype=np.int64)
        x[chosen] = 1
        vars_ = list(range(self.n_pairs))
        vals = x.tolist()
        peak = self.peak_lb
        for m, (t0, tv) in self.tiers.items():
            k = int(x[self.pairs_of_member[m]].sum())
            for j in range(len(tv)):
                vars_.append(t0 + j)
                vals.append(1 if j < k else 0)
        for m, idx in self.pairs_of_member.items():
            peak = max(peak, int(self.base[m]) + int(x[idx].sum()))
        for d, yv in self.y_var.items():
            vars_.append(yv)
            vals.append(1 if int(x[self.pairs_of_demand[d]].sum()) >= self.y_need[d] else 0)
        if self.peak_var is not None:
            vars_.append(self.peak_var)
            vals.append(min(peak, self.peak_ub))
        return vars_, vals


def build(p: Prepared, cand: Candidates, *, write_rows: bool = True) -> MatchModel:
    """The CP-SAT model over `cand`: pairs, coverage indicators, capacity, overlaps, balance
    (write_rows=False: the same layout without the CP-SAT rows, see ProtoBuilder)."""
    b = ProtoBuilder(write_rows)
    b.bools(len(cand))
    coverage = _add_demand_rows(b, p, cand)
    pairs_of_member, cliques = _add_member_rows(b, p, cand)
    peak_lb = int(p.base_load.max()) if p.M else 0
    mm = MatchModel(
        b=b,
        n_pairs=len(cand),
        pair_coef=np.rint(cand.value * SCALE).astype(np.int64),
        y_var=coverage.y_var,
        y_need=coverage.y_need,
        cov_const=coverage.cov_const,
        prio=np.array([d.priority for d in p.problem.demands], dtype=np.int64),
        tiers={},
        peak_var=None,
        peak_lb=peak_lb,
        pairs_of_member=pairs_of_member,
        pairs_of_demand=coverage.pairs_of_demand,
        base=p.base_load,
        peak_ub=peak_lb,
        peak_weight=int(round(p.problem.weights.balance_peak * SCALE)),
        cliques=cliques,
    )
    add_balance(mm, p)
    return mm


@dataclass
class _CoverageRows:
    y_var: dict[int, int] = field(default_factory=dict)
    y_need: dict[int, int] = field(default_factory=dict)
    pairs_of_demand: dict[int, np.ndarray] = field(default_factory=dict)
    cov_const: int = 0  # priorities of demands covered by pinned pairs alone


def _add_demand_rows(b: ProtoBuilder, p: Prepared, cand: Candidates) -> _CoverageRows:
    """Per demand: max_members, and y[d] = "reaches min_members" with sum(x) >= need * y and
    sum(x) <= min(room, pairs) * y (nobody goes to a demand that stays below min_members)."""
    out = _CoverageRows()
    d_first = np.searchsorted(cand.pd, np.arange(p.D + 1))
    for j, d in enumerate(p.problem.demands):
        lo, hi = int(d_first[j]), int(d_first[j + 1])
        need = int(d.min_members - p.pinned_count[j])
        room = int(p.d_room[j])
        idx = list(range(lo, hi))
        cnt = hi - lo
        if need <= 0:
            out.cov_const += d.priority
            if cnt > room:
                b.linear(idx, [1] * cnt, 0, room)
        elif cnt >= need and room >= need:
            y = b.bools(1)
            out.y_var[j], out.y_need[j] = y, need
            out.pairs_of_demand[j] = np.arange(lo, hi)
            b.linear(idx + [y], [1] * cnt + [-need], 0, INT_MAX)
            b.linear(idx + [y], [1] * cnt + [-min(room, cnt)], -INT_MAX, 0)
        else:
            for k in idx:  # cannot reach min_members: nobody goes
                b.linear([k], [1], 0, 0)
    return out


def _add_member_rows(b: ProtoBuilder, p: Prepared, cand: Candidates) -> tuple[dict[int, np.ndarray], list[list[int]]]:
    """Per member: capacity left, and one AtMostOne per maximal set of overlapping proposals."""
    order = np.argsort(cand.pm, kind="stable")
    pm_sorted = cand.pm[order]
    bounds = np.searchsorted(pm_sorted, np.arange(p.M + 1))
    pairs_of_member: dict[int, np.ndarray] = {}
    cliques: list[list[int]] = []
    for m in map(int, np.nonzero(np.diff(bounds))[0]):
        idx = order[bounds[m] : bounds[m + 1]]
        pairs_of_member[m] = idx
        r = int(min(p.cap_left[m], len(idx)))
        il = idx.tolist()
        if len(idx) > r:
            b.linear(il, [1] * len(il), 0, r)
        if r >= 2:
            for clique in interval_cliques(p.d_start[cand.pd[idx]], p.d_end[cand.pd[idx]]):
                lits = [il[c] for c in clique]
                b.at_most_one(lits)
                cliques.append(lits)
    return pairs_of_member, cliques


def coverage_of(mm: MatchModel, chosen: np.ndarray) -> int:
    """Priority-weighted coverage of a plan (candidate indices), pinned coverage included."""
    x = np.zeros(mm.n_pairs, dtype=np.int64)
    x[chosen] = 1
    return mm.cov_const + sum(int(mm.prio[d]) for d, idx in mm.pairs_of_demand.items() if x[idx].sum() >= mm.y_need[d])


def rest_of(mm: MatchModel, chosen: np.ndarray) -> int:
    """The rest of the objective (pair values, load tiers, peak load) of a plan, model units."""
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


def add_balance(mm: MatchModel, p: Prepared) -> None:
    """Load tiers (convex cost per extra assignment, annual-duty bonus) and the peak load."""
    w = p.problem.weights
    b = mm.b
    base = mm.base
    peak_ub = mm.peak_lb
    load_rows: list[tuple[list[int], int]] = []
    for m, idx in mm.pairs_of_member.items():
        r = int(min(p.cap_left[m], len(idx)))
        bm = int(base[m])
        vals = [int(round(-w.balance_convex * (bm + k) * SCALE)) for k in range(r)]
        if r and p.zero_activity[m]:
            vals[0] += int(round(w.duty * SCALE))
        il = idx.tolist()
        if any(vals):
            t0 = b.bools(r)
            mm.tiers[m] = (t0, vals)
            b.linear(il + list(range(t0, t0 + r)), [1] * len(il) + [-1] * r, 0, 0)
            for k in range(r - 1):
                b.linear([t0 + k, t0 + k + 1], [1, -1], 0, 1)
        peak_ub = max(peak_ub, bm + r)
        if bm + r > mm.peak_lb:
            load_rows.append((il, bm))
    mm.peak_ub = peak_ub
    if w.balance_peak and load_rows and peak_ub > mm.peak_lb:
        mm.peak_var = b.int_var(mm.peak_lb, peak_ub)
        for il, bm in load_rows:
            b.linear(il + [mm.peak_var], [1] * len(il) + [-1], -INT_MAX, -bm)
