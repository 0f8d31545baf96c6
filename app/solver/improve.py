"""Local improvement of the rest of the objective with coverage held: member swaps.

After the flow stage the plan's coverage is usually proven and what is left is the rest (pair
values, load tiers, the peak load). Repair and the greedy extension leave seats filled by a
member whose seat another free member would fill better (more value, a cheaper load tier, the
annual-duty bonus). One move: member m leaves demand d and member m2 (a candidate of d, not on
it, free at d's time, with capacity left) takes the seat. Seats per demand do not change, so
coverage does not; a move is taken only when it raises the rest. Sweeps run demand by demand
(highest value gain first within a demand) until a sweep finds nothing or the time is up.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.solver.eligibility import Candidates, Prepared
from app.solver.model import MatchModel, coverage_of, rest_of

MAX_SWEEPS = 4


class _Loads:
    """Per member: load in the plan, the value of one more / one fewer assignment, its
    proposals' time intervals."""

    def __init__(self, p: Prepared, cand: Candidates, model: MatchModel, plan: np.ndarray):
        self.p, self.cand, self.model = p, cand, model
        self.load = np.bincount(cand.pm[plan], minlength=p.M).astype(np.int64)
        self.cap = np.minimum(p.cap_left, np.bincount(cand.pm, minlength=p.M)).astype(np.int64)
        self.peak = int(max(model.peak_lb, int((p.base_load + self.load).max()) if p.M else 0))
        self.busy: dict[int, list[int]] = {}
        for k in plan:
            self.busy.setdefault(int(cand.pm[k]), []).append(int(cand.pd[k]))
        self.add = np.zeros(p.M)
        self.drop = np.zeros(p.M)
        for m in range(p.M):
            self._tier_values(m)

    def _tier_values(self, m: int) -> None:
        """add[m]: value of m's next assignment (-inf at capacity); drop[m]: of its last one."""
        vals = self.model.tiers.get(m, (0, [0] * int(self.cap[m])))[1]
        k = int(self.load[m])
        self.add[m] = vals[k] if k < self.cap[m] else -np.inf
        self.drop[m] = vals[k - 1] if 0 < k <= len(vals) else 0.0
        base = int(self.p.base_load[m])
        if k < self.cap[m] and base + k + 1 > self.peak:
            self.add[m] -= self.model.peak_weight * (base + k + 1 - self.peak)

    def free_for(self, m: int, d: int) -> bool:
        s, e = self.p.d_start[d], self.p.d_end[d]
        ds, de = self.p.d_start, self.p.d_end
        return all(not (s < de[o] and ds[o] < e) for o in self.busy.get(m, ()))

    def move(self, m_out: int, m_in: int, d: int) -> None:
        self.busy[m_out].remove(d)
        self.busy.setdefault(m_in, []).append(d)
        self.load[m_out] -= 1
        self.load[m_in] += 1
        self.peak = max(self.peak, int(self.p.base_load[m_in] + self.load[m_in]))
        self._tier_values(m_out)
        self._tier_values(m_in)


def improve_rest(
    p: Prepared, cand: Candidates, model: MatchModel, plan: np.ndarray, stop: Callable[[], bool]
) -> np.ndarray:
    """A plan with the same coverage and a rest at least as high (member swaps, see above)."""
    if not len(plan):
        return plan
    chosen = np.zeros(len(cand), dtype=bool)
    chosen[plan] = True
    loads = _Loads(p, cand, model, plan)
    coef = model.pair_coef.astype(float)
    first = np.searchsorted(cand.pd, np.arange(p.D + 1))
    demands = np.unique(cand.pd[plan])
    for _ in range(MAX_SWEEPS):
        moved = 0
        for d in map(int, demands):
            if stop():
                return _checked(model, plan, np.nonzero(chosen)[0])
            moved += _improve_demand(loads, coef, chosen, int(first[d]), int(first[d + 1]), d)
        if not moved:
            break
    return _checked(model, plan, np.nonzero(chosen)[0])


def _improve_demand(loads: _Loads, coef: np.ndarray, chosen: np.ndarray, lo: int, hi: int, d: int) -> int:
    """Swaps on demand d's seats (pairs lo..hi of the candidates); returns how many."""
    pm = loads.cand.pm
    moved = 0
    for k in [k for k in range(lo, hi) if chosen[k]]:
        m = int(pm[k])
        others = np.arange(lo, hi)[~chosen[lo:hi]]
        if not len(others):
            break
        gain = coef[others] + loads.add[pm[others]] - (coef[k] + loads.drop[m])
        for i in np.argsort(-gain, kind="stable"):
            if gain[i] <= 0:
                break
            k2 = int(others[i])
            m2 = int(pm[k2])
            if m2 != m and loads.free_for(m2, d):
                chosen[k], chosen[k2] = False, True
                loads.move(m, m2, d)
                moved += 1
                break
    return moved


def _checked(model: MatchModel, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The swapped plan only when it keeps coverage and raises the rest (exact values)."""
    if coverage_of(model, after) == coverage_of(model, before) and rest_of(model, after) > rest_of(model, before):
        return after
    return before
