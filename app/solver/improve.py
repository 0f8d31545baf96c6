"""Local improvement of the rest of the objective with coverage held: cheap moves.

After the flow stage the plan's coverage is usually proven and what is left is the rest (pair
values, load tiers, the peak load). Repair and the greedy extension leave seats a member holds
that another member would hold better (more value, a cheaper load tier, the annual-duty
bonus). Three moves, in rounds over one plan state (`improve_rest`):
- seat swaps: member m leaves demand d and a candidate m2 of d (not on it, free at d's time,
  with capacity left) takes the seat; seats per demand do not change, so coverage does not;
- member trades (`trade_members`): m1 on d1 and m2 on d2 swap seats when each is a candidate
  of the other's demand and free at its time; loads do not change, so neither do the load
  tiers or the peak, and the gain is the four pair values;
- relocations (`relocate_members`): a member moves from its seat to another demand, or a
  member with capacity left takes a seat, when every demand touched keeps min_members (or
  goes empty) and the priority-weighted coverage does not fall.
A move is taken only when it raises the rest. Trades and relocations are found for the whole
plan at once with numpy (joins over the seats), so they cost little at 10k x 10k; only the
moves with a positive gain are checked one by one, best first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from app.solver.eligibility import Candidates, Prepared
from app.solver.model import MatchModel, coverage_of, rest_of

MAX_SWEEPS = 4  # rounds of the rest moves
TRADE_BLOCK = 200_000  # open pairs joined at once when looking for trades


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


RestMove = Callable[["_Seats", Callable[[], bool]], int]


def improve_rest(
    p: Prepared,
    cand: Candidates,
    model: MatchModel,
    plan: np.ndarray,
    stop: Callable[[], bool],
    moves: tuple[RestMove, ...] | None = None,
) -> np.ndarray:
    """A plan with coverage no lower and the rest higher, else `plan`: rounds of the rest moves
    (relocations, member trades, seat swaps; see above) on one plan state until a round moves
    nothing or MAX_SWEEPS rounds ran (a count of work, so deterministic solves repeat it), or
    stop() (the caller's deadline)."""
    if not len(cand):
        return plan
    chosen = np.zeros(len(cand), dtype=bool)
    chosen[plan] = True
    seats = _Seats(cand, chosen, _Loads(p, cand, model, plan))
    for _ in range(MAX_SWEEPS):
        moved = 0
        for move in moves or (_relocate, _trade_seats, _swap_seats):  # most rest a second first
            if stop():
                break
            moved += move(seats, stop)
        if not moved or stop():
            break
    return _checked(model, plan, np.nonzero(chosen)[0])


def trade_members(
    p: Prepared, cand: Candidates, model: MatchModel, plan: np.ndarray, stop: Callable[[], bool]
) -> np.ndarray:
    """improve_rest with member trades only (two members swap their seats)."""
    return improve_rest(p, cand, model, plan, stop, moves=(_trade_seats,))


def relocate_members(
    p: Prepared, cand: Candidates, model: MatchModel, plan: np.ndarray, stop: Callable[[], bool]
) -> np.ndarray:
    """improve_rest with relocations only (a member moves to another demand or takes a seat)."""
    return improve_rest(p, cand, model, plan, stop, moves=(_relocate,))


def _swap_seats(seats: _Seats, stop: Callable[[], bool]) -> int:
    """Seat swaps, best first: a seat of demand d goes to another candidate of d (free at its
    time, capacity left) when that raises the rest (pair values, load tiers, peak). Every seat
    is joined with its demand's open pairs at once; returns how many were made."""
    cand, chosen = seats.cand, seats.chosen
    seated = np.nonzero(chosen)[0]
    lo = seats.first[cand.pd[seated]]
    counts = seats.first[cand.pd[seated] + 1] - lo
    take = _ranges(lo, counts)
    leave = np.repeat(seated, counts)
    ok = ~chosen[take]
    leave, take = leave[ok], take[ok]
    gain = _seat_gain(seats, leave, take)
    return _move_seats(seats, leave, take, gain, stop)


def _seat_gain(seats: _Seats, leave: np.ndarray, take: np.ndarray) -> np.ndarray:
    """The rest gained when pair `take` is added and seat `leave` (-1: none) released: the
    pair values, and the load tiers of the members whose load changes (the next tier of the
    one taking, peak included; the last tier of the one leaving)."""
    pm, coef, loads = seats.cand.pm, seats.coef, seats.loads
    m_in, m_out = pm[take], pm[np.maximum(leave, 0)]
    gain = coef[take] - np.where(leave >= 0, coef[np.maximum(leave, 0)], 0.0)
    other = (leave < 0) | (m_out != m_in)
    tiers = loads.add[m_in] - np.where(leave >= 0, loads.drop[m_out], 0.0)
    return gain + np.where(other, tiers, 0.0)


def _move_seats(seats: _Seats, leave: np.ndarray, take: np.ndarray, gain: np.ndarray, stop: Callable[[], bool]) -> int:
    """Makes the moves (seat `leave`, -1 for none, released; pair `take` added) with a
    positive gain, best first, each checked again on the plan as it is then: both pairs as
    they were, the gain still positive, coverage not lower and every demand touched at or over
    min_members or empty (`_Seats.coverage_change`), the member free at the demand's time.
    Returns how many were made."""
    pm, pd, chosen, loads = seats.cand.pm, seats.cand.pd, seats.chosen, seats.loads
    order = np.argsort(-gain, kind="stable")
    order = order[gain[order] > 0]
    moved = 0
    for k_out, k_in in zip(leave[order].tolist(), take[order].tolist(), strict=True):
        if stop():
            break
        if chosen[k_in] or (k_out >= 0 and not chosen[k_out]):
            continue
        m, d_in, d_out = int(pm[k_in]), int(pd[k_in]), int(pd[k_out]) if k_out >= 0 else -1
        change = seats.coverage_change(d_out, d_in)
        if change is None or change < 0 or _seat_gain(seats, np.array([k_out]), np.array([k_in]))[0] <= 0:
            continue
        same_member = k_out >= 0 and int(pm[k_out]) == m
        if set(loads.in_the_way(m, d_in)) - ({d_out} if same_member else set()):
            continue
        if k_out >= 0:
            seats.flip(k_out, -1)
        seats.flip(k_in, 1)
        moved += 1
    return moved


def _trade_seats(seats: _Seats, stop: Callable[[], bool]) -> int:
    """Member trades, best first: m1 (on d1) takes m2's seat on d2 and m2 takes m1's, when
    (d2, m1) and (d1, m2) are candidates not in the plan and each member is free at the other
    demand's time. Loads stay, so the gain is the four pair values, known for every trade at
    once (`_trade_options`); returns how many trades were made."""
    out1, out2, in1, in2, gain = _trade_options(seats)
    pm, pd, chosen, loads = seats.cand.pm, seats.cand.pd, seats.chosen, seats.loads
    moved = 0
    for i in np.argsort(-gain, kind="stable"):
        if stop():
            break
        k1, k2, a, b = int(out1[i]), int(out2[i]), int(in1[i]), int(in2[i])
        if not (chosen[k1] and chosen[k2]) or chosen[a] or chosen[b]:
            continue
        m1, d1, m2, d2 = int(pm[k1]), int(pd[k1]), int(pm[k2]), int(pd[k2])
        if set(loads.in_the_way(m1, d2)) - {d1} or set(loads.in_the_way(m2, d1)) - {d2}:
            continue
        for k, sign in ((k1, -1), (k2, -1), (a, 1), (b, 1)):
            seats.flip(k, sign)
        moved += 1
    return moved


def _trade_options(seats: _Seats) -> tuple[np.ndarray, ...]:
    """Every trade with a positive gain: seats (d1, m1), (d2, m2) and the pairs (d2, m1),
    (d1, m2) they become, with the gain. A join over the open pairs (d1, m2) of seated
    members: each with m2's seats (d2) and with d1's seats (m1); at 10k x 10k a few million
    rows, so it runs in blocks of open pairs."""
    cand, chosen, coef = seats.cand, seats.chosen, seats.coef
    seated = np.nonzero(chosen)[0]  # grouped by demand, as the candidates are
    by_member = seated[np.argsort(cand.pm[seated], kind="stable")]
    member_first = np.searchsorted(cand.pm[by_member], np.arange(seats.loads.p.M + 1))
    demand_first = np.searchsorted(cand.pd[seated], np.arange(len(seats.first)))
    member_seats, demand_seats = np.diff(member_first), np.diff(demand_first)
    open_pairs = np.nonzero(~chosen & (member_seats[cand.pm] > 0) & (demand_seats[cand.pd] > 0))[0]
    # m1's best pair bounds what (d2, m1) can be worth, so most rows end before the lookup: per
    # seat, and before the join with d1's seats per demand (the most any of its seats may gain)
    best = seats.best_of_member
    seat_hope = best[cand.pm[seated]] - coef[seated]
    demand_hope = np.full(len(demand_seats), -np.inf)
    np.maximum.at(demand_hope, cand.pd[seated], seat_hope)
    found: list[tuple[np.ndarray, ...]] = []
    for block in np.array_split(open_pairs, max(1, len(open_pairs) // TRADE_BLOCK)):
        in2 = block  # (d1, m2)
        out2 = by_member[_ranges(member_first[cand.pm[in2]], member_seats[cand.pm[in2]])]
        in2 = np.repeat(in2, member_seats[cand.pm[in2]])
        hopeful = coef[in2] - coef[out2] + demand_hope[cand.pd[in2]] > 0
        in2, out2 = in2[hopeful], out2[hopeful]
        out1 = seated[_ranges(demand_first[cand.pd[in2]], demand_seats[cand.pd[in2]])]
        out2 = np.repeat(out2, demand_seats[cand.pd[in2]])
        in2 = np.repeat(in2, demand_seats[cand.pd[in2]])
        hopeful = coef[in2] - coef[out1] - coef[out2] + best[cand.pm[out1]] > 0
        out1, out2, in2 = out1[hopeful], out2[hopeful], in2[hopeful]
        in1 = seats.pairs_of(cand.pd[out2], cand.pm[out1])
        ok = in1 >= 0
        ok[ok] = ~chosen[in1[ok]]
        gain = np.where(ok, coef[in1] + coef[in2] - coef[out1] - coef[out2], 0.0)
        keep = gain > 0
        found.append((out1[keep], out2[keep], in1[keep], in2[keep], gain[keep]))
    if not found:
        return tuple(np.zeros(0, dtype=np.int64) for _ in range(4)) + (np.zeros(0),)
    return tuple(np.concatenate(column) for column in zip(*found, strict=True))


def _relocate(seats: _Seats, stop: Callable[[], bool]) -> int:
    """Relocations, best first: a member leaves its seat for an open pair of its own on
    another demand (its load stays: the gain is the two pair values), or a member with
    capacity left takes an open pair (the pair value and its next load tier, peak included),
    when the rest rises and coverage does not fall. Moves join each seat with its member's
    open pairs; the demand taken must have room and reach min_members with one more, the one
    left keep min_members or go empty (checked again when each is made, `_move_seats`)."""
    cand, chosen, p = seats.cand, seats.chosen, seats.loads.p
    fits = (seats.filled + 1 >= seats.mins) & (seats.filled + 1 <= seats.most)  # per demand
    may_leave = (seats.filled - 1 >= seats.mins) | (seats.filled - 1 == p.pinned_count)
    by_member, member_first = seats.pairs_by_member
    seated = np.nonzero(chosen & may_leave[cand.pd])[0]
    counts = np.diff(member_first)[cand.pm[seated]]
    take = by_member[_ranges(member_first[cand.pm[seated]], counts)]
    leave = np.repeat(seated, counts)
    new_seat = np.nonzero(~chosen & fits[cand.pd])[0]
    leave = np.concatenate([leave, np.full(len(new_seat), -1, dtype=np.int64)])
    take = np.concatenate([take, new_seat])
    ok = ~chosen[take] & fits[cand.pd[take]]
    leave, take = leave[ok], take[ok]
    return _move_seats(seats, leave, take, _seat_gain(seats, leave, take), stop)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of arange(start, start + count) for each (start, count)."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.repeat(starts - (ends - counts), counts) + np.arange(total)


def _checked(model: MatchModel, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The moved plan only when, in exact values, coverage is no lower, the rest no lower, and
    one of them higher."""
    cov_before, cov_after = coverage_of(model, before), coverage_of(model, after)
    rest_before, rest_after = rest_of(model, before), rest_of(model, after)
    if cov_after >= cov_before and rest_after >= rest_before and (cov_after, rest_after) > (cov_before, rest_before):
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
        self.most = p.d_room + p.pinned_count  # max_members
        self.coef = loads.model.pair_coef.astype(float)
        self.log: list[tuple[int, int]] = []  # (candidate index, +1 taken / -1 released)
        # demands no free member can join: moves only use up capacity, so this holds until undo
        self.no_sub: set[int] = set()

    def pair(self, d: int, m: int) -> int:
        lo, hi = int(self.first[d]), int(self.first[d + 1])
        return lo + int(np.nonzero(self.cand.pm[lo:hi] == m)[0][0])

    @cached_property
    def pairs_by_member(self) -> tuple[np.ndarray, np.ndarray]:
        """The candidates ordered by member, and where each member's pairs start in that order."""
        by_member = np.argsort(self.cand.pm, kind="stable")
        return by_member, np.searchsorted(self.cand.pm[by_member], np.arange(self.loads.p.M + 1))

    @cached_property
    def best_of_member(self) -> np.ndarray:
        """(M,) the best pair value of each member (-inf: no pair)."""
        best = np.full(self.loads.p.M, -np.inf)
        np.maximum.at(best, self.cand.pm, self.coef)
        return best

    @cached_property
    def sorted_pair_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' keys d x M + m, sorted, and the candidate index of each (pairs_of)."""
        keys = self.cand.pd * self.loads.p.M + self.cand.pm
        order = np.argsort(keys, kind="stable")
        return keys[order], order

    def pairs_of(self, d: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Candidate indices of the pairs (d, m), -1 where (d, m) is no candidate."""
        keys, order = self.sorted_pair_keys
        if not len(keys):
            return np.full(len(d), -1, dtype=np.int64)
        wanted = d * self.loads.p.M + m
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.where(keys[at] == wanted, order[at], -1)

    def coverage_change(self, d_out: int, d_in: int) -> int | None:
        """Coverage gained when a seat of d_out (-1: none) moves to d_in; None when a demand
        would be left with members but below min_members (nobody goes to a demand that stays
        short) or d_in would be over max_members."""
        if d_out == d_in:
            return 0  # a seat changes hands
        prio = self.loads.model.prio
        change = 0
        if d_out >= 0 and self.filled[d_out] - 1 < self.mins[d_out]:
            if self.filled[d_out] - 1 > self.loads.p.pinned_count[d_out]:
                return None
            change -= int(prio[d_out])  # staffed before (the plan is valid), not after
        after = self.filled[d_in] + 1
        if not self.mins[d_in] <= after <= self.most[d_in]:
            return None
        return change + (int(prio[d_in]) if after - 1 < self.mins[d_in] else 0)

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
