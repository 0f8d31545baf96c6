"""Reference plans: what the district did before (fixed pairing) and a plain greedy matcher.

They give the optimiser something honest to beat, and the greedy plan doubles as the warm-start
hint for CP-SAT and as the fallback plan when a run is cancelled before any solution exists.
"""

from __future__ import annotations

import time

import numpy as np

from app.solver.eligibility import Candidates, Prepared, candidates, prepare
from app.solver.explain import assemble
from app.solver.metrics import objective_value
from app.solver.types import Problem, Solution, SolverStatus, SolveStats

# Baselines scan more members per demand than the optimiser keeps, so pruning never makes
# them look worse than a real greedy would be.
BASELINE_MAX_PAIRS = 1_000_000


class _GreedyPlan:
    """Capacity, time and seats left while pairs are taken one by one."""

    def __init__(self, p: Prepared, cand: Candidates):
        self.p, self.cand = p, cand
        self.left = p.cap_left.copy()
        self.load = p.base_load.copy()
        self.taken: dict[int, list[tuple[float, float]]] = {}
        self.chosen: list[int] = []
        self.filled = p.pinned_count.copy()
        self.in_plan = np.zeros(len(cand), dtype=bool)

    def free(self, i: int, j: int) -> bool:
        """Member i has capacity left and nothing overlapping demand j."""
        if self.left[i] <= 0:
            return False
        s, e = self.p.d_start[j], self.p.d_end[j]
        return all(not (s < te and ts < e) for ts, te in self.taken.get(i, ()))

    def take(self, k: int) -> None:
        i, j = int(self.cand.pm[k]), int(self.cand.pd[k])
        self.left[i] -= 1
        self.load[i] += 1
        self.taken.setdefault(i, []).append((self.p.d_start[j], self.p.d_end[j]))
        self.chosen.append(k)
        self.in_plan[k] = True
        self.filled[j] += 1

    def fill_to_min(self, j: int, first: np.ndarray) -> None:
        """Demand j's best-ranked free members up to min_members, or nobody."""
        need = self.p.problem.demands[j].min_members - int(self.filled[j])
        if need <= 0:
            return
        picks: list[int] = []
        seen: set[int] = set()
        lo, hi = int(first[j]), int(first[j + 1])
        # members with capacity left, vectorised (free() checks it again with the overlaps)
        for k in (lo + np.nonzero(self.left[self.cand.pm[lo:hi]] > 0)[0]).tolist():
            if len(picks) >= need:
                break
            i = int(self.cand.pm[k])
            if i not in seen and self.free(i, j):
                picks.append(k)
                seen.add(i)
        if len(picks) == need:
            for k in picks:
                self.take(k)

    def add_extra_members(self, j: int, first: np.ndarray) -> None:
        """Seats above min_members on a covered demand, while a pair pays for its load cost."""
        d = self.p.problem.demands[j]
        if self.filled[j] < d.min_members:
            return  # nobody is sent to a demand that stays below min_members
        room = d.max_members - int(self.filled[j])
        convex = self.p.problem.weights.balance_convex
        lo, hi = int(first[j]), int(first[j + 1])
        members = self.cand.pm[lo:hi]
        # loads only grow while the loop takes pairs, so a pair that does not pay now never will
        pays = (
            ~self.in_plan[lo:hi] & (self.left[members] > 0) & (self.cand.value[lo:hi] - convex * self.load[members] > 0)
        )
        for k in (lo + np.nonzero(pays)[0]).tolist():
            if room <= 0:
                break
            i = int(self.cand.pm[k])
            if not self.in_plan[k] and self.free(i, j) and self.cand.value[k] - convex * self.load[i] > 0:
                self.take(k)
                room -= 1


def greedy_pairs(p: Prepared, cand: Candidates, start: np.ndarray | None = None) -> np.ndarray:
    """Indices into `cand` chosen greedily: demands by priority (high first, then start time),
    each filled to min_members with its best-ranked free members or not at all; a second pass
    adds members up to max_members while the pair still pays for its load cost.

    `start` (a feasible set of pairs) is kept and only extended.
    """
    demands = p.problem.demands
    first = np.searchsorted(cand.pd, np.arange(p.D + 1))
    order = sorted(range(p.D), key=lambda j: (-demands[j].priority, p.d_start[j], demands[j].id))
    plan = _GreedyPlan(p, cand)
    for k in start if start is not None else ():
        plan.take(int(k))
    for j in order:
        plan.fill_to_min(j, first)
    for j in order:
        plan.add_extra_members(j, first)
    return np.array(sorted(plan.chosen), dtype=np.int64)


def _baseline(problem: Problem, *, home_or_paired_only: bool, method: str) -> Solution:
    t0 = time.perf_counter()
    p = prepare(problem)
    cand = candidates(
        p,
        top_k=None,
        max_pairs=max(BASELINE_MAX_PAIRS, problem.max_pairs or 0),
        home_or_paired_only=home_or_paired_only,
    )
    t1 = time.perf_counter()
    ks = greedy_pairs(p, cand)
    chosen = [(int(cand.pd[k]), int(cand.pm[k])) for k in ks]
    t2 = time.perf_counter()
    ids = [(problem.demands[j].id, problem.members[i].id) for j, i in chosen]
    ids += [(d, m) for d, m in problem.pinned]
    cov, rest = objective_value(problem, ids)
    obj = problem.weights.coverage * cov + rest
    stats = SolveStats(
        status=SolverStatus.FEASIBLE,
        objective=obj,
        best_bound=float("nan"),
        gap=float("nan"),
        build_s=t1 - t0,
        solve_s=t2 - t1,
        wall_s=time.perf_counter() - t0,
        members=len(problem.members),
        demands=len(problem.demands),
        candidate_pairs=len(cand),
        method=method,
        coverage_value=cov,
        coverage_bound=float("nan"),
        rest_value=rest,
        rest_bound=float("nan"),
        top_k=cand.top_k,
    )
    return assemble(p, chosen, stats)


def fixed_pairing(problem: Problem) -> Solution:
    """定点包片: members serve only their home area and their group's paired areas."""
    return _baseline(problem, home_or_paired_only=True, method="fixed-pairing greedy")


def greedy(problem: Problem) -> Solution:
    """Cross-area greedy: best member by skill score minus distance cost, priority first."""
    return _baseline(problem, home_or_paired_only=False, method="greedy")


__all__ = ["fixed_pairing", "greedy", "greedy_pairs"]
