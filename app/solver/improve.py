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

    def __init__(self, p: Prepared, cand: Candidates, model: MatchModel, plan: np.ndarray, track_values: bool = True):
        self.p, self.cand, self.model = p, cand, model
        self.load = np.bincount(cand.pm[plan], minlength=p.M).astype(np.int64)
        self.cap = np.minimum(p.cap_left, np.bincount(cand.pm, minlength=p.M)).astype(np.int64)
        self.peak = int(max(model.peak_lb, int((p.base_load + self.load).max()) if p.M else 0))
        self.busy: dict[int, list[int]] = {}
        for k in plan:
            self.busy.setdefault(int(cand.pm[k]), []).append(int(cand.pd[k]))
        self.add = np.zeros(p.M)
        self.drop = np.zeros(p.M)
        self.track_values = track_values  # the swaps need add / drop; team completion does not
        for m in range(p.M if track_values else 0):
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
        return not self.in_the_way(m, d)

    def seat(self, m: int, d: int, sign: int) -> None:
        """m takes (sign 1) or leaves (sign -1) a seat on demand d."""
        if sign > 0:
            self.busy.setdefault(m, []).append(d)
        else:
            self.busy[m].remove(d)
        self.load[m] += sign
        self.peak = max(self.peak, int(self.p.base_load[m] + self.load[m]))
        if self.track_values:
            self._tier_values(m)

    def in_the_way(self, m: int, d: int) -> list[int]:
        """The demands of m's proposals that overlap demand d."""
        s, e = self.p.d_start[d], self.p.d_end[d]
        ds, de = self.p.d_start, self.p.d_end
        return [o for o in self.busy.get(m, ()) if s < de[o] and ds[o] < e]

    def move(self, m_out: int, m_in: int, d: int) -> None:
        """m_in takes m_out's seat on demand d."""
        self.seat(m_out, d, -1)
        self.seat(m_in, d, 1)


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


class _Seats:
    """The plan as (demand, member) -> candidate index, with an undo log for team completion."""

    def __init__(self, cand: Candidates, chosen: np.ndarray, loads: _Loads):
        self.cand, self.chosen, self.loads = cand, chosen, loads
        p = loads.p
        self.first = np.searchsorted(cand.pd, np.arange(p.D + 1))
        self.filled = np.bincount(cand.pd[chosen], minlength=p.D) + p.pinned_count
        self.mins = np.array([d.min_members for d in p.problem.demands], dtype=np.int64)
        self.log: list[tuple[int, int]] = []  # (candidate index, +1 taken / -1 released)
        # demands no free member can join: moves only use up capacity, so this holds until undo
        self.no_sub: set[int] = set()

    def pair(self, d: int, m: int) -> int:
        lo, hi = int(self.first[d]), int(self.first[d + 1])
        return lo + int(np.nonzero(self.cand.pm[lo:hi] == m)[0][0])

    def flip(self, k: int, sign: int) -> None:
        self.chosen[k] = sign > 0
        self.filled[self.cand.pd[k]] += sign
        self.loads.seat(int(self.cand.pm[k]), int(self.cand.pd[k]), sign)
        self.log.append((k, sign))

    def undo(self, mark: int) -> None:
        if len(self.log) > mark:
            self.no_sub.clear()
        while len(self.log) > mark:
            k, sign = self.log.pop()
            self.chosen[k] = sign < 0
            self.filled[self.cand.pd[k]] -= sign
            self.loads.seat(int(self.cand.pm[k]), int(self.cand.pd[k]), -sign)

    def release(self, m: int, o: int) -> bool:
        """m leaves demand o without o losing coverage: o keeps min_members without m (an extra
        seat), or a free member takes m's seat. False (nothing changed) when neither works."""
        sub = None
        if self.filled[o] - 1 < self.mins[o]:
            sub = None if o in self.no_sub else self.free_member_for(o, {m})
            if sub is None:
                self.no_sub.add(o)
                return False
        self.flip(self.pair(o, m), -1)
        if sub is not None:
            self.flip(sub, 1)
        return True

    def free_member_for(self, d: int, taken: set[int]) -> int | None:
        """A candidate of d (not on it, not in `taken`) free at its time with capacity left."""
        loads, pm = self.loads, self.cand.pm
        lo, hi = int(self.first[d]), int(self.first[d + 1])
        members = pm[lo:hi]
        room = ~self.chosen[lo:hi] & (loads.load[members] < loads.cap[members])
        for k in lo + np.nonzero(room)[0]:
            m = int(pm[k])
            if m not in taken and loads.free_for(m, d):
                return int(k)
        return None


def complete_teams(
    p: Prepared, cand: Candidates, model: MatchModel, plan: np.ndarray, stop: Callable[[], bool]
) -> np.ndarray:
    """More coverage: a demand left short (teams the flow filled piecemeal) takes members that
    are free, or busy on one overlapping demand whose seat a free member then takes (one
    ejection each); a demand that cannot reach min_members that way is left as it was. Then
    the exchanges (`_exchange_for_short`). The result is kept only when its coverage is higher
    (the rest may fall: coverage comes first)."""
    chosen = np.zeros(len(cand), dtype=bool)
    chosen[plan] = True
    seats = _Seats(cand, chosen, _Loads(p, cand, model, plan, track_values=False))
    demands = p.problem.demands
    for j in sorted(_short_demands(seats, p), key=lambda j: (-demands[j].priority, j)):
        if stop():
            break
        need = demands[j].min_members - int(seats.filled[j])
        mark = len(seats.log)
        if _fill(seats, j, need) < need:
            seats.undo(mark)
    _exchange_for_short(seats, p, stop)
    after = np.nonzero(chosen)[0]
    return after if coverage_of(model, after) > coverage_of(model, plan) else plan


def _short_demands(seats: _Seats, p: Prepared) -> list[int]:
    """Demands below min_members that could reach it (room for the seats they lack)."""
    room = p.d_room + p.pinned_count
    return [j for j in range(p.D) if seats.filled[j] < seats.mins[j] <= room[j]]


def _exchange_for_short(seats: _Seats, p: Prepared, stop: Callable[[], bool]) -> None:
    """A short demand of higher priority takes over a covered one of lower priority: that
    demand's seats are emptied and the short one is filled as in complete_teams (its members
    freed that way, or others by one ejection). When nearly every member is at capacity (the
    teams family at 2k: 1982 of 2000 after team completion) coverage can only move, and moving
    it to the higher priority gains the difference (+6 at 2k in 0.45 s). Highest priority, then
    fewest seats first; each covered demand holding its candidates is tried, lowest priority
    first, until one works."""
    priority = np.array([d.priority for d in p.problem.demands], dtype=np.int64)
    short = _short_demands(seats, p)
    for j in sorted(short, key=lambda j: (-priority[j], int(seats.mins[j]), j)):
        if stop():
            return
        for o in _lower_covered_holders(seats, priority, j):
            mark = len(seats.log)
            lo, hi = int(seats.first[o]), int(seats.first[o + 1])
            for k in lo + np.nonzero(seats.chosen[lo:hi])[0]:
                seats.flip(int(k), -1)
            need = int(seats.mins[j] - seats.filled[j])
            if _fill(seats, j, need) >= need:
                break
            seats.undo(mark)


def _lower_covered_holders(seats: _Seats, priority: np.ndarray, j: int) -> list[int]:
    """Covered demands of lower priority than j on which j's candidates sit, lowest priority
    (then most of j's candidates) first."""
    cand, busy = seats.cand, seats.loads.busy
    held: dict[int, int] = {}
    for m in cand.pm[int(seats.first[j]) : int(seats.first[j + 1])]:
        for o in busy.get(int(m), ()):
            if priority[o] < priority[j] and seats.filled[o] >= seats.mins[o]:
                held[o] = held.get(o, 0) + 1
    return sorted(held, key=lambda o: (int(priority[o]), -held[o], o))


def _fill(seats: _Seats, j: int, need: int) -> int:
    """Seats of demand j filled (up to need): free members first, else a member released from
    one other demand (the one overlapping j, or any of its demands when its capacity is full)."""
    loads, cand = seats.loads, seats.cand
    got = 0
    for k in range(int(seats.first[j]), int(seats.first[j + 1])):
        if got >= need:
            break
        m = int(cand.pm[k])
        if seats.chosen[k]:
            continue
        blocking = loads.in_the_way(m, j)
        if len(blocking) > 1:
            continue
        full = loads.load[m] >= loads.cap[m]
        options = blocking if blocking else (list(loads.busy.get(m, ())) if full else [])
        if (blocking or full) and not any(seats.release(m, o) for o in options):
            continue
        seats.flip(k, 1)
        got += 1
    return got
