"""Candidate generation: which (demand, member) pairs may appear in a plan at all.

Building the CP-SAT model in Python costs more than solving it when every member is paired with
every demand, so the hard rules that concern a single pair (active, skill, conflicts, declines,
cross-area consent and distance, blackout dates, weekly slots, overlap with already-accepted
work) are applied here with numpy masks over blocks of demands, and only the surviving pairs
become variables. Rules that couple pairs (capacity, overlaps between proposals, max_members)
stay in the model.

The checker deliberately re-implements these rules without importing this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from app.solver.types import Problem, SolverDemand, SolverMember, Weights

EARTH_RADIUS_KM = 6371.0088
OPEN_DEMAND_SCORE = 0.5  # neutral score: an open demand neither rewards nor punishes a member
DEFAULT_MAX_PAIRS = 200_000  # beyond this, keep only the best K members per demand


# ----------------------------------------------------------------------------- small helpers
def to_seconds(dt: datetime) -> float:
    """Seconds on one common axis; naive datetimes are read as wall-clock time."""
    if dt.tzinfo is None:
        return (dt - datetime(1970, 1, 1)).total_seconds()
    return dt.timestamp()


def demand_dates(start: datetime, end: datetime) -> list[date]:
    """Calendar dates a demand touches; ending exactly at midnight does not touch the next day."""
    last = end.date()
    if end.time() == datetime.min.time() and last > start.date():
        last -= timedelta(days=1)
    out, d = [], start.date()
    while d <= last:
        out.append(d)
        d += timedelta(days=1)
    return out


def haversine_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    dla = la[:, None] - la[None, :]
    dlo = lo[:, None] - lo[None, :]
    a = np.sin(dla / 2) ** 2 + np.cos(la)[:, None] * np.cos(la)[None, :] * np.sin(dlo / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def skill_score(member: SolverMember, demand: SolverDemand) -> tuple[tuple[str, ...], float]:
    """Half the best matching strength plus half the mean over all required skills.

    One strong holder of a single required skill scores its strength; holding every required
    skill beats holding one of them. Open demands get a neutral score.
    """
    if not demand.required_skills:
        return (), OPEN_DEMAND_SCORE
    req = sorted(demand.required_skills)
    vals = [float(member.skills.get(s, 0.0)) for s in req]
    overlap = tuple(s for s, v in zip(req, vals, strict=True) if v > 0)
    if not overlap:
        return (), 0.0
    return overlap, 0.5 * max(vals) + 0.5 * sum(vals) / len(vals)


def pair_value(
    w: Weights, score: float, home: bool, paired: bool, km: float, prev: bool, served: bool
) -> dict[str, float]:
    """Objective terms that belong to one pair (member-level terms live in the model)."""
    terms = {"quality": w.quality * score}
    if home:
        terms["home"] = w.home
    elif paired:
        terms["paired"] = w.paired
    if not home:
        terms["distance"] = -w.distance * km
    if prev:
        terms["stability"] = w.stability
    if served:
        terms["continuity"] = w.continuity
    return terms


# ----------------------------------------------------------------------------- prepared data
@dataclass
class Prepared:
    """Index maps and dense arrays shared by candidate generation, baselines and explanations."""

    problem: Problem
    m_pos: dict[int, int]
    d_pos: dict[int, int]
    areas: list[str]
    area_pos: dict[str, int]
    dist: np.ndarray  # (A, A) km
    home: np.ndarray  # (M,) area index
    paired: np.ndarray  # (M, A) bool
    active: np.ndarray  # (M,) bool
    cross_ok: np.ndarray  # (M, A) bool: home area, or consent and within distance limit
    skills: list[str]
    strength: np.ndarray  # (M, K+1) float32, last column is an all-zero pad
    req_pad: np.ndarray  # (D, L) int, padded with K (the zero column)
    n_req: np.ndarray  # (D,)
    d_area: np.ndarray  # (D,)
    d_start: np.ndarray  # (D,) seconds
    d_end: np.ndarray  # (D,)
    d_room: np.ndarray  # (D,) max_members - pinned
    blackout: np.ndarray  # (M, T) float32
    d_days: np.ndarray  # (T, D) float32
    has_slots: np.ndarray  # (M,) bool
    member_slots: np.ndarray  # (M, U) float32
    slot_fit: np.ndarray  # (U, D) float32
    block_m: np.ndarray  # flattened blocking intervals (busy + pinned) per member
    block_s: np.ndarray
    block_e: np.ndarray
    base_load: np.ndarray  # (M,) accepted work in the window (busy + pinned, counted once)
    cap_left: np.ndarray  # (M,)
    pinned_count: np.ndarray  # (D,)
    excl_d: np.ndarray  # conflicts + declines, sorted by demand index
    excl_m: np.ndarray
    pin_d: np.ndarray  # pinned pairs, sorted by demand index
    pin_m: np.ndarray
    prev_keys: np.ndarray  # sorted d*M+m
    served_keys: np.ndarray  # sorted m*C+community index
    d_comm: np.ndarray  # (D,) community index
    n_comm: int
    zero_activity: np.ndarray  # (M,) bool: no activity this year and nothing accepted yet

    @property
    def M(self) -> int:
        return len(self.m_pos)

    @property
    def D(self) -> int:
        return len(self.d_pos)


def prepare(problem: Problem) -> Prepared:
    """Index maps and dense arrays for the problem (see Prepared); checks ids, areas, datetimes."""
    members, demands = problem.members, problem.demands
    m_pos = {m.id: i for i, m in enumerate(members)}
    d_pos = {d.id: j for j, d in enumerate(demands)}
    if len(m_pos) != len(members) or len(d_pos) != len(demands):
        raise ValueError("member and demand ids must be unique")
    aware = {dt.tzinfo is not None for d in demands for dt in (d.start, d.end)}
    aware |= {dt.tzinfo is not None for m in members for iv in m.busy for dt in iv}
    if len(aware) > 1:
        raise ValueError("naive and timezone-aware datetimes are mixed")
    d_start = np.array([to_seconds(d.start) for d in demands], dtype=float)
    d_end = np.array([to_seconds(d.end) for d in demands], dtype=float)
    parts: dict = {"problem": problem, "m_pos": m_pos, "d_pos": d_pos, "d_start": d_start, "d_end": d_end}
    parts |= _area_arrays(problem)
    parts |= _skill_arrays(members, demands)
    parts |= _calendar_arrays(members, demands)
    parts |= _slot_arrays(members, demands)
    parts |= _accepted_work(problem, m_pos, d_pos, d_start, d_end)
    parts |= _exclusions_and_history(problem, m_pos, d_pos)
    parts["zero_activity"] = np.array([m.activities_this_year == 0 for m in members], dtype=bool)
    parts["zero_activity"] &= parts["base_load"] == 0
    return Prepared(**parts)


def _area_arrays(problem: Problem) -> dict:
    """Areas, distances, home and paired areas, and where each member may work (rule 6)."""
    members, demands = problem.members, problem.demands
    needed = {m.home_area for m in members} | {d.area for d in demands}
    missing = sorted(a for a in needed if a not in problem.area_coords)
    if missing:
        raise ValueError(f"area_coords lacks areas: {', '.join(missing)}")
    areas = sorted(set(problem.area_coords) | needed | {a for m in members for a in m.paired_areas})
    area_pos = {a: i for i, a in enumerate(areas)}
    lat = np.array([problem.area_coords.get(a, (np.nan, np.nan))[0] for a in areas], float)
    lon = np.array([problem.area_coords.get(a, (np.nan, np.nan))[1] for a in areas], float)
    dist = haversine_matrix(lat, lon) if areas else np.zeros((0, 0))
    np.fill_diagonal(dist, 0.0)
    A = len(areas)
    home = np.array([area_pos[m.home_area] for m in members], dtype=np.int64)
    paired = np.zeros((len(members), A), dtype=bool)
    for i, m in enumerate(members):
        for a in m.paired_areas:
            paired[i, area_pos[a]] = True
    accepts = np.array([m.accepts_cross_area for m in members], dtype=bool)
    maxd = np.array([np.inf if m.max_distance_km is None else m.max_distance_km for m in members], dtype=float)
    dm = dist[home] if len(members) else np.zeros((0, A))  # (M, A); NaN where coords unknown
    with np.errstate(invalid="ignore"):
        within = dm <= maxd[:, None]
    cross_ok = (home[:, None] == np.arange(A)[None, :]) | (accepts[:, None] & within)
    return {
        "areas": areas,
        "area_pos": area_pos,
        "dist": dist,
        "home": home,
        "paired": paired,
        "active": np.array([m.active for m in members], dtype=bool),
        "cross_ok": cross_ok,
        "d_area": np.array([area_pos[d.area] for d in demands], dtype=np.int64),
    }


def _skill_arrays(members, demands) -> dict:
    """Skill strengths per member and the padded required-skill lists per demand (rule 2)."""
    skills = sorted({s for m in members for s in m.skills} | {s for d in demands for s in d.required_skills})
    s_pos = {s: k for k, s in enumerate(skills)}
    K = len(skills)
    strength = np.zeros((len(members), K + 1), dtype=np.float32)
    for i, m in enumerate(members):
        for s, v in m.skills.items():
            if v > 0:
                strength[i, s_pos[s]] = v
    L = max([len(d.required_skills) for d in demands] + [1])
    req_pad = np.full((len(demands), L), K, dtype=np.int64)
    n_req = np.zeros(len(demands), dtype=np.int64)
    for j, d in enumerate(demands):
        ks = [s_pos[s] for s in sorted(d.required_skills)]
        req_pad[j, : len(ks)] = ks
        n_req[j] = len(ks)
    return {"skills": skills, "strength": strength, "req_pad": req_pad, "n_req": n_req}


def _calendar_arrays(members, demands) -> dict:
    """Blackout dates against the dates demands touch (rule 1)."""
    day_lists = [demand_dates(d.start, d.end) for d in demands]
    days = sorted({x for dl in day_lists for x in dl})
    t_pos = {x: t for t, x in enumerate(days)}
    d_days = np.zeros((len(days), len(demands)), dtype=np.float32)
    for j, dl in enumerate(day_lists):
        for x in dl:
            d_days[t_pos[x], j] = 1.0
    blackout = np.zeros((len(members), len(days)), dtype=np.float32)
    for i, m in enumerate(members):
        for t in (t_pos[x] for x in m.blackout_dates if x in t_pos):
            blackout[i, t] = 1.0
    return {"blackout": blackout, "d_days": d_days}


def _seconds_of_day(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _slot_arrays(members, demands) -> dict:
    """Weekly slots per member and which slot covers which demand (rule 1)."""
    slots = sorted({s for m in members for s in m.weekly_slots}, key=lambda s: (s.weekday, s.start, s.end))
    u_pos = {s: u for u, s in enumerate(slots)}
    member_slots = np.zeros((len(members), len(slots)), dtype=np.float32)
    for i, m in enumerate(members):
        for s in m.weekly_slots:
            member_slots[i, u_pos[s]] = 1.0
    slot_fit = np.zeros((len(slots), len(demands)), dtype=np.float32)
    if slots and demands:
        sw = np.array([s.weekday for s in slots])[:, None]
        ss = np.array([_seconds_of_day(s.start) for s in slots])[:, None]
        se = np.array([_seconds_of_day(s.end) for s in slots])[:, None]
        dw = np.array([d.start.weekday() for d in demands])[None, :]
        ds = np.array([_seconds_of_day(d.start.time()) for d in demands])[None, :]
        de = np.array([_seconds_of_day(d.end.time()) for d in demands])[None, :]
        same = np.array([d.start.date() == d.end.date() for d in demands])[None, :]
        slot_fit = ((sw == dw) & (ss <= ds) & (de <= se) & same).astype(np.float32)
    has_slots = member_slots.sum(axis=1) > 0 if slots else np.zeros(len(members), dtype=bool)
    return {"has_slots": has_slots, "member_slots": member_slots, "slot_fit": slot_fit}


def _accepted_work(problem: Problem, m_pos, d_pos, d_start: np.ndarray, d_end: np.ndarray) -> dict:
    """Pinned pairs, accepted load per member and the intervals it blocks (rules 4 and 5)."""
    members, demands = problem.members, problem.demands
    pins = sorted((d_pos[d], m_pos[m]) for d, m in problem.pinned if d in d_pos and m in m_pos)
    pin_d = np.array([p[0] for p in pins], dtype=np.int64)
    pin_m = np.array([p[1] for p in pins], dtype=np.int64)
    pinned_count = np.bincount(pin_d, minlength=len(demands)) if demands else np.zeros(0, np.int64)
    pinned_of: dict[int, list[int]] = {}
    for j, i in pins:
        pinned_of.setdefault(i, []).append(j)
    base_load = np.zeros(len(members), dtype=np.int64)
    bm: list[int] = []
    bs: list[float] = []
    be: list[float] = []
    for i, m in enumerate(members):
        pj = pinned_of.get(i, [])
        pin_iv = [(demands[j].start, demands[j].end) for j in pj]
        extra = 0
        for iv in m.busy:
            # an accepted assignment may be listed both as busy and as pinned: count it once
            if iv in pin_iv:
                pin_iv.remove(iv)
            else:
                extra += 1
            bm.append(i)
            bs.append(to_seconds(iv[0]))
            be.append(to_seconds(iv[1]))
        for j in pj:
            bm.append(i)
            bs.append(float(d_start[j]))
            be.append(float(d_end[j]))
        base_load[i] = extra + len(pj)
    cap = np.array([m.cap for m in members], dtype=np.int64)
    return {
        "block_m": np.array(bm, dtype=np.int64),
        "block_s": np.array(bs, dtype=float),
        "block_e": np.array(be, dtype=float),
        "base_load": base_load,
        "cap_left": np.maximum(cap - base_load, 0),
        "pinned_count": pinned_count,
        "d_room": np.array([d.max_members for d in demands], dtype=np.int64) - pinned_count,
        "pin_d": pin_d,
        "pin_m": pin_m,
    }


def _exclusions_and_history(problem: Problem, m_pos, d_pos) -> dict:
    """Conflicts and declines (rule 3); earlier proposals and served communities (objective)."""
    members, demands = problem.members, problem.demands
    excl = {(d_pos[d], m_pos[m]) for d, m in problem.forbidden if d in d_pos and m in m_pos}
    excl |= {(j, m_pos[mid]) for j, d in enumerate(demands) for mid in d.excluded_members if mid in m_pos}
    excl_s = sorted(excl)
    M = len(members)
    prev = sorted(d_pos[d] * M + m_pos[m] for d, m in problem.previous if d in d_pos and m in m_pos)
    comms = sorted({d.community for d in demands})
    c_pos = {c: k for k, c in enumerate(comms)}
    C = max(len(comms), 1)
    served = sorted(i * C + c_pos[c] for i, m in enumerate(members) for c in m.served_communities if c in c_pos)
    return {
        "excl_d": np.array([e[0] for e in excl_s], dtype=np.int64),
        "excl_m": np.array([e[1] for e in excl_s], dtype=np.int64),
        "prev_keys": np.array(prev, dtype=np.int64),
        "served_keys": np.array(served, dtype=np.int64),
        "d_comm": np.array([c_pos[d.community] for d in demands], dtype=np.int64),
        "n_comm": C,
    }


# ----------------------------------------------------------------------------- masks per block
@dataclass
class BlockMasks:
    """Stepwise masks for the demands `js` over the member rows `rows` (the members holding a
    required skill of at least one of those demands; nobody else can pass the skill filter).
    Each filter of the unmet-cause report is one field; all arrays are (len(rows), len(js))."""

    rows: np.ndarray
    holder: np.ndarray  # active and holds a required skill (or open demand)
    not_conflicted: np.ndarray
    cross_ok: np.ndarray
    available: np.ndarray  # blackout, weekly slot, overlap with accepted work
    score: np.ndarray  # skill score


def _scatter_false(
    mask: np.ndarray, row_pos: np.ndarray, col_pos: np.ndarray, m_idx: np.ndarray, d_idx: np.ndarray
) -> None:
    r, c = row_pos[m_idx], col_pos[d_idx]
    ok = (r >= 0) & (c >= 0)
    mask[r[ok], c[ok]] = False


def block_masks(p: Prepared, js: np.ndarray) -> BlockMasks:
    js = np.asarray(js, dtype=np.int64)
    B = len(js)
    nreq = p.n_req[js]
    if B and (p.req_pad[js] == p.req_pad[js[0]]).all():
        # one skill set for the whole block: compute per member once and broadcast
        g1 = p.strength[:, p.req_pad[js[0]]]  # (M, L)
        if nreq[0] == 0:
            h1 = p.active.copy()
            s1 = np.full(p.M, OPEN_DEMAND_SCORE)
        else:
            h1 = (g1 > 0).any(axis=1) & p.active
            s1 = 0.5 * g1.max(axis=1) + 0.5 * g1.sum(axis=1) / nreq[0]
        rows = np.nonzero(h1)[0]
        holder = np.ones((len(rows), B), dtype=bool)
        score = np.repeat(s1[rows][:, None], B, axis=1)
    else:
        g = p.strength[:, p.req_pad[js]]  # (M, B, L)
        open_ = nreq == 0
        held = (g > 0).any(axis=2) | open_[None, :]
        holder_all = held & p.active[:, None]
        rows = np.nonzero(holder_all.any(axis=1))[0]
        g = g[rows]
        holder = holder_all[rows]
        score = 0.5 * g.max(axis=2) + 0.5 * g.sum(axis=2) / np.maximum(nreq, 1)[None, :]
        score[:, open_] = OPEN_DEMAND_SCORE
    R = len(rows)
    row_pos = np.full(p.M, -1, dtype=np.int64)
    row_pos[rows] = np.arange(R)
    col_pos = np.full(p.D, -1, dtype=np.int64)
    col_pos[js] = np.arange(B)

    not_conf = np.ones((R, B), dtype=bool)
    _scatter_false(not_conf, row_pos, col_pos, p.excl_m, p.excl_d)

    cross = p.cross_ok[rows][:, p.d_area[js]]

    avail = np.ones((R, B), dtype=bool)
    if p.blackout.shape[1]:
        avail &= (p.blackout[rows] @ p.d_days[:, js]) < 0.5
    if p.member_slots.shape[1]:
        fits = (p.member_slots[rows] @ p.slot_fit[:, js]) > 0.5
        avail &= ~p.has_slots[rows][:, None] | fits
    if len(p.block_m):
        sel = row_pos[p.block_m] >= 0
        bs, be, br = p.block_s[sel], p.block_e[sel], row_pos[p.block_m[sel]]
        ov = (bs[:, None] < p.d_end[None, js]) & (p.d_start[None, js] < be[:, None])
        r, c = np.nonzero(ov)
        avail[br[r], c] = False
    return BlockMasks(rows=rows, holder=holder, not_conflicted=not_conf, cross_ok=cross, available=avail, score=score)


# ----------------------------------------------------------------------------- candidates
COVERAGE_SHARE = 0.75  # share of the top-K kept per demand by the coverage key
COARSE_K = 24  # members per demand kept once generation turns coarse (time is short)
BLOCK_CELLS = 10_000  # a block's fixed cost (masks, sorts), counted as this many cells of work
_COVERAGE_WEIGHTS = Weights()  # fixed: the pruning key must not follow per-run weights


def _coverage_key(score: np.ndarray, home: np.ndarray, paired: np.ndarray, km: np.ndarray) -> np.ndarray:
    """Weight-independent preference used to keep candidates for coverage: home, then paired
    areas, then nearby members, skill score as a tie-breaker (default pair weights, no duty)."""
    w = _COVERAGE_WEIGHTS
    key = w.quality * score + np.where(home, w.home, np.where(paired, w.paired, 0.0))
    return key - np.where(home, 0.0, w.distance * km)


def _top_of_columns(key: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the k largest finite entries of each column of key.

    The partition runs on a transposed float32 copy (rows contiguous): about 2.5x faster than
    partitioning float64 columns in place; ties may fall either way, deterministically."""
    k = min(k, key.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kt = np.ascontiguousarray(key.T, dtype=np.float32)  # (B, R)
    idx = np.argpartition(-kt, k - 1, axis=1)[:, :k]  # (B, k)
    cols = np.broadcast_to(np.arange(kt.shape[0])[:, None], idx.shape)
    ok = np.isfinite(kt[cols, idx])
    return idx[ok], cols[ok]


def _assignable(
    p: Prepared, bm: BlockMasks, js: np.ndarray, room_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which (member row, demand column) pairs of a block can take a new assignment: every
    hard-rule mask, capacity left on both sides, pinned pairs excluded. Also the maps from
    member / demand index to position in the block."""
    rows = bm.rows
    mask = bm.holder & bm.not_conflicted & bm.cross_ok & bm.available
    mask &= (p.cap_left[rows] > 0)[:, None] & room_ok[None, js]
    row_pos = np.full(p.M, -1, dtype=np.int64)
    row_pos[rows] = np.arange(len(rows))
    col_pos = np.full(p.D, -1, dtype=np.int64)
    col_pos[js] = np.arange(len(js))
    _scatter_false(mask, row_pos, col_pos, p.pin_m, p.pin_d)
    return mask, row_pos, col_pos


@dataclass
class Candidates:
    """Eligible (demand, member) pairs, grouped by demand and best-ranked first."""

    pd: np.ndarray  # demand index
    pm: np.ndarray  # member index
    score: np.ndarray
    km: np.ndarray
    home: np.ndarray
    paired: np.ndarray
    prev: np.ndarray
    served: np.ndarray
    value: np.ndarray  # pair objective value (float, unscaled)
    rank: np.ndarray  # value plus the annual-duty bonus: greedy order, part of the pruning
    eligible: np.ndarray  # (D,) eligible members per demand before pruning
    top_k: int | None  # K used for pruning, None when nothing was pruned
    complete: bool = True  # False: generation was stopped, some demands got no pairs
    coarse_k: int | None = None  # members per demand of the blocks generated after the coarse switch
    cells: int = 0  # the work generation did (cells scored, see generate): deterministic plans read it

    def __len__(self) -> int:
        return len(self.pd)

    def with_pairs(self, pd: np.ndarray, pm: np.ndarray) -> Candidates:
        """These pairs plus (pd, pm), the added ones with zero values (for bound networks,
        which read only pd and pm)."""
        n = len(pd)
        zeros, false = np.zeros(n), np.zeros(n, dtype=bool)
        cat = lambda a, b: np.concatenate([a, b])  # noqa: E731 - local shorthand
        return Candidates(
            pd=cat(self.pd, pd.astype(np.int64)),
            pm=cat(self.pm, pm.astype(np.int64)),
            score=cat(self.score, zeros),
            km=cat(self.km, zeros),
            home=cat(self.home, false),
            paired=cat(self.paired, false),
            prev=cat(self.prev, false),
            served=cat(self.served, false),
            value=cat(self.value, zeros),
            rank=cat(self.rank, zeros),
            eligible=self.eligible,
            top_k=self.top_k,
            complete=self.complete,
            coarse_k=self.coarse_k,
            cells=self.cells,
        )

    def subset(self, idx: np.ndarray) -> Candidates:
        """The pairs at `idx` (in that order), same eligibility counts and K."""
        return Candidates(
            pd=self.pd[idx],
            pm=self.pm[idx],
            score=self.score[idx],
            km=self.km[idx],
            home=self.home[idx],
            paired=self.paired[idx],
            prev=self.prev[idx],
            served=self.served[idx],
            value=self.value[idx],
            rank=self.rank[idx],
            eligible=self.eligible,
            top_k=self.top_k,
            complete=self.complete,
            coarse_k=self.coarse_k,
            cells=self.cells,
        )


def _blocks(p: Prepared) -> list[np.ndarray]:
    """Demands grouped by their exact set of required skills: a block then touches only the
    holders of that set, instead of every member.

    Blocks come in the greedy's order (highest priority first, then the earliest start), so a
    generation cut at the deadline leaves out the least valuable demands. Which pairs a
    demand gets does not depend on the order."""
    if not p.D:
        return []
    _, inverse = np.unique(p.req_pad, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    priority = np.array([d.priority for d in p.problem.demands], dtype=np.int64)
    order = np.lexsort((p.d_start, -priority, inverse))  # by skill set, best demands first
    cuts = np.flatnonzero(np.diff(inverse[order])) + 1
    chunk = int(max(1, min(512, 4_000_000 // max(p.M, 1))))
    out: list[np.ndarray] = []
    for grp in np.split(order, cuts):
        out.extend(grp[i : i + chunk] for i in range(0, len(grp), chunk))
    out.sort(key=lambda js: (-int(priority[js[0]]), float(p.d_start[js[0]]), int(js[0])))
    return out


def budget_k(p: Prepared, top_k: int | None, max_pairs: int | None) -> int | None:
    """Members kept per demand (None: no pruning): top_k if set, else max_pairs / D, never
    below 3 x the largest max_members, None when it reaches the number of members."""
    M, D = p.M, p.D
    if top_k is None and max_pairs:
        top_k = max(max_pairs // max(D, 1), 1)
    if top_k is not None and D:
        top_k = max(top_k, 3 * int(max(d.max_members for d in p.problem.demands)))
        if top_k >= M:
            top_k = None
    return top_k


def _top_per_demand(pd: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest keys of each demand (pd sorted or not)."""
    order = np.lexsort((-key, pd))
    sp = pd[order]
    first = np.searchsorted(sp, sp, side="left")
    pos = np.arange(len(order)) - first
    out = np.zeros(len(pd), dtype=bool)
    out[order[pos < k]] = True
    return out


def prune(cand: Candidates, top_k: int) -> np.ndarray:
    """Indices (sorted) of the pairs kept by the pruning rule of `candidates` (coverage key
    first, then the operator's ranking), applied to a wider candidate set `cand`."""
    if not len(cand):
        return np.zeros(0, dtype=np.int64)
    k_cov = min(top_k, max(1, math.ceil(COVERAGE_SHARE * top_k)))
    key = _coverage_key(cand.score, cand.home, cand.paired, cand.km)
    sel = _top_per_demand(cand.pd, key, k_cov)
    if top_k > k_cov:
        # cand is sorted by demand, best rank first (ties by member): so is any subset of it,
        # and the best of each demand are its first pairs (no second sort)
        rest = np.nonzero(~sel)[0]
        pd_rest = cand.pd[rest]
        pos = np.arange(len(rest)) - np.searchsorted(pd_rest, pd_rest, side="left")
        sel[rest[pos < top_k - k_cov]] = True
    return np.nonzero(sel)[0]


_PAIR_FIELDS = ("pd", "pm", "score", "km", "home", "paired", "value", "rank")


def candidates(
    p: Prepared,
    *,
    top_k: int | None = None,
    max_pairs: int | None = None,
    home_or_paired_only: bool = False,
    collect: EligibleCollector | None = None,
    stop: Callable[[], bool] | None = None,
    coarse_after: Callable[[int], bool] | None = None,
) -> Candidates:
    """All eligible pairs, or the best K per demand when the pair budget would be exceeded.

    ``top_k`` forces K; otherwise K = max_pairs / D (at least 3 x max_members) and demands
    with fewer eligible members keep all of them. `collect` gathers every eligible pair for
    the bound pass over left-out pairs. `stop` (the deadline, a cancel request) is read
    between blocks: demands of the blocks not reached get no pairs, their eligible count is
    set to the number of members (unknown, so bounds stay valid) and the result is marked
    incomplete. Once `coarse_after(cells)` is true (read between blocks; `cells` is the work
    done so far, member x demand cells scored plus BLOCK_CELLS per block, a measure that does
    not depend on the clock),
    the remaining blocks are generated at a coarser level, cheaper: their best COARSE_K
    members per demand and no collection (`collect.complete` turns false), so every demand
    still gets pairs for the greedy plan and the flows when time is short.
    """
    top_k = budget_k(p, top_k, max_pairs)
    out: dict[str, list[np.ndarray]] = {k: [] for k in _PAIR_FIELDS}
    eligible = np.zeros(p.D, dtype=np.int64)
    pruned, complete, coarse_k, cells = False, True, None, 0
    for js in _blocks(p):
        if stop is not None and (not complete or stop()):
            eligible[js], complete = p.M, False
            continue
        if coarse_k is None and coarse_after is not None and coarse_after(cells):
            coarse_k = 0
            if collect is not None:
                collect.complete = False
        k = top_k if coarse_k is None else _coarse_k(p, js, top_k)
        block = _block_pairs(p, js, k, home_or_paired_only, collect if coarse_k is None else None)
        if block is None:
            continue
        eligible[js], block_pruned, pairs, rows = block
        cells += rows * len(js) + BLOCK_CELLS
        pruned |= block_pruned
        if coarse_k is not None and block_pruned:
            coarse_k = max(coarse_k, k or 0)
        for name in _PAIR_FIELDS:
            out[name].append(pairs[name])
    cat = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in out.items()}
    # pruned at the coarse level only: report its K, so no bound over these pairs is taken
    # for a bound of the problem
    cand = _with_history(p, cat, eligible, (top_k or coarse_k or COARSE_K) if pruned else None)
    cand.complete, cand.coarse_k, cand.cells = complete, coarse_k or None, cells
    return cand


def _coarse_k(p: Prepared, js: np.ndarray, top_k: int | None) -> int:
    """Members per demand kept at the coarse level (enough for a team and its substitutes)."""
    need = 3 * int(max(p.problem.demands[j].max_members for j in js))
    return min(top_k or COARSE_K, max(COARSE_K, need))


def _block_pairs(
    p: Prepared, js: np.ndarray, top_k: int | None, home_or_paired_only: bool, collect: EligibleCollector | None
) -> tuple[np.ndarray, bool, dict[str, np.ndarray], int] | None:
    """The eligible pairs of one block of demands (eligible counts, pruned?, pair arrays,
    member rows scored)."""
    w = p.problem.weights
    bm = block_masks(p, js)
    rows = bm.rows
    if not len(rows):
        return None
    mask, _, _ = _assignable(p, bm, js, p.d_room > 0)
    areas = p.d_area[js]
    home = p.home[rows][:, None] == areas[None, :]
    paired = p.paired[rows][:, areas] & ~home
    km = p.dist[p.home[rows]][:, areas]
    value = _pair_values(w, bm.score, home, paired, km)
    if home_or_paired_only:
        if collect is not None:
            all_ri, all_ci = np.nonzero(mask)
            collect.add(js, rows, all_ri, all_ci, value)
        mask &= home | paired
    ri, ci = np.nonzero(mask)  # every eligible pair of the block, once
    if collect is not None and not home_or_paired_only:
        collect.add(js, rows, ri, ci, value)
    eligible = np.bincount(ci, minlength=len(js))
    duty = np.where(p.zero_activity[rows], w.duty, 0.0)
    pruned = top_k is not None and top_k < len(rows) and bool((eligible > top_k).any())
    if pruned:
        assert top_k is not None
        ri, ci = _keep_top(w, mask, value, duty, bm.score, home, paired, km, top_k)
    pairs = {
        "pd": js[ci],
        "pm": rows[ri],
        "score": bm.score[ri, ci],
        "km": np.where(home[ri, ci], 0.0, km[ri, ci]),
        "home": home[ri, ci],
        "paired": paired[ri, ci],
        "value": value[ri, ci],
        "rank": value[ri, ci] + duty[ri],
    }
    return eligible, pruned, pairs, len(rows)


def _pair_values(w: Weights, score: np.ndarray, home: np.ndarray, paired: np.ndarray, km: np.ndarray) -> np.ndarray:
    """The pair-level objective value (quality, home / paired area, distance) of a block."""
    value = w.quality * score + np.where(home, w.home, np.where(paired, w.paired, 0.0))
    value -= np.where(home, 0.0, w.distance * km)
    return value


def _keep_top(w: Weights, mask, value, duty, score, home, paired, km, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the pairs pruning keeps in a block.

    Coverage-relevant share first: a key that does not depend on the operator's weights
    (default quality/home/paired/distance, no duty), so the kept members of different demands
    stay spread out (locality) whatever the weights say. A key dominated by one member-level
    bonus (e.g. duty = 50) would put the same few members at the top of every demand, and
    their capacity runs out long before the demands are covered. The rest of K follows the
    operator's ranking (value plus the annual-duty bonus).
    """
    cw = _COVERAGE_WEIGHTS
    same = (w.quality, w.home, w.paired, w.distance) == (cw.quality, cw.home, cw.paired, cw.distance)
    key = value if same else _coverage_key(score, home, paired, km)
    cov_key = np.where(mask, key, -np.inf)
    k_cov = min(top_k, max(1, math.ceil(COVERAGE_SHARE * top_k)))
    ri, ci = _top_of_columns(cov_key, k_cov)
    if top_k <= k_cov:
        return ri, ci
    rank = np.where(mask, value + duty[:, None], -np.inf)
    rank[ri, ci] = -np.inf  # already kept
    r2, c2 = _top_of_columns(rank, top_k - k_cov)
    return np.concatenate([ri, r2]), np.concatenate([ci, c2])


def _with_history(p: Prepared, cat: dict[str, np.ndarray], eligible: np.ndarray, top_k: int | None) -> Candidates:
    """Add the stability and continuity terms and sort by demand, best-ranked first."""
    w = p.problem.weights
    pd_ = cat["pd"].astype(np.int64)
    pm_ = cat["pm"].astype(np.int64)
    prev = np.isin(pd_ * p.M + pm_, p.prev_keys) if len(p.prev_keys) else np.zeros(len(pd_), bool)
    served = np.isin(pm_ * p.n_comm + p.d_comm[pd_], p.served_keys) if len(p.served_keys) else np.zeros(len(pd_), bool)
    extra = np.where(prev, w.stability, 0.0) + np.where(served, w.continuity, 0.0)
    value = cat["value"] + extra
    rank = cat["rank"] + extra
    order = np.lexsort((pm_, -rank, pd_))
    return Candidates(
        pd=pd_[order],
        pm=pm_[order],
        score=cat["score"][order].astype(float),
        km=cat["km"][order].astype(float),
        home=cat["home"][order].astype(bool),
        paired=cat["paired"][order].astype(bool),
        prev=prev[order],
        served=served[order],
        value=value[order],
        rank=rank[order],
        eligible=eligible,
        top_k=top_k,
    )


# ----------------------------------------------------------------------------- unmet causes
def filter_counts(p: Prepared, j: int) -> dict[str, int]:
    """Members left after each eligibility filter, in the order of the cause report.

    Members already pinned to the demand are left out: they fill seats, they are not candidates.
    """
    bm = block_masks(p, np.array([j]))
    pinned = np.zeros(len(bm.rows), dtype=bool)
    pin_members = set(p.pin_m[p.pin_d == j].tolist())
    if pin_members:
        pinned = np.isin(bm.rows, list(pin_members))
    holders = bm.holder[:, 0] & ~pinned
    nc = holders & bm.not_conflicted[:, 0]
    cr = nc & bm.cross_ok[:, 0]
    av = cr & bm.available[:, 0]
    free = av & (p.cap_left[bm.rows] > 0)
    return {
        "holders": int(holders.sum()),
        "not_conflicted": int(nc.sum()),
        "cross_ok": int(cr.sum()),
        "available": int(av.sum()),
        "with_capacity": int(free.sum()),
    }


def distance_km(p: Prepared, member_idx: int, demand_idx: int) -> float:
    d = float(p.dist[p.home[member_idx], p.d_area[demand_idx]])
    return 0.0 if math.isnan(d) else d


# ----------------------------------------------------------------------------- pruned pairs
@dataclass
class EligiblePairs:
    """Every eligible pair in compact form (member index, scaled value upper estimate), grouped
    by demand; collected while the candidates are generated, so the bound over the pairs that
    pruning left out needs no second pass over the eligibility masks.

    Segment s holds the pairs of demand seg_demand[s] at pm[seg_start[s]:seg_start[s + 1]],
    members ascending. `coef` is rint(SCALE x value), the stability and continuity terms
    included exactly (the same value the model would give the pair).
    """

    seg_demand: np.ndarray  # (S,) int64
    seg_start: np.ndarray  # (S + 1,) int64
    pm: np.ndarray  # (N,) int32
    coef: np.ndarray  # (N,) float32

    def __len__(self) -> int:
        return len(self.pm)

    def without(self, cand: Candidates, n_members: int) -> EligiblePairs:
        """The pairs not in `cand` (the left-out ones), empty segments dropped."""
        lens = np.diff(self.seg_start)
        seg_of_demand = np.full(len(cand.eligible), -1, dtype=np.int64)
        seg_of_demand[self.seg_demand] = np.arange(len(self.seg_demand))
        key = np.repeat(np.arange(len(lens), dtype=np.int64) * n_members, lens) + self.pm
        seg = seg_of_demand[cand.pd]
        ck = seg[seg >= 0] * n_members + cand.pm[seg >= 0]
        pos = np.searchsorted(key, ck)
        pos = pos[(pos < len(key)) & (key[np.minimum(pos, len(key) - 1)] == ck)]
        left = np.ones(len(key), dtype=bool)
        left[pos] = False
        del key
        return self.keep(left)

    def keep(self, mask: np.ndarray) -> EligiblePairs:
        """The pairs where `mask` is true, empty segments dropped."""
        lens = np.diff(self.seg_start)
        counts = np.add.reduceat(mask, self.seg_start[:-1]) if len(lens) else np.zeros(0, dtype=np.int64)
        counts = np.where(lens > 0, counts, 0)
        nonempty = counts > 0
        start = np.concatenate([[0], np.cumsum(counts[nonempty])]).astype(np.int64)
        return EligiblePairs(self.seg_demand[nonempty], start, self.pm[mask], self.coef[mask])

    def demand_of_pairs(self) -> np.ndarray:
        return np.repeat(self.seg_demand, np.diff(self.seg_start))


class EligibleCollector:
    """Gathers the EligiblePairs block by block during candidate generation."""

    def __init__(self, p: Prepared, scale: int):
        self.p, self.scale = p, scale
        self.demands: list[np.ndarray] = []
        self.lens: list[np.ndarray] = []
        self.pm: list[np.ndarray] = []
        self.coef: list[np.ndarray] = []
        self.complete = True  # False: some blocks were generated without collecting their pairs

    def add(self, js: np.ndarray, rows: np.ndarray, ri: np.ndarray, ci: np.ndarray, value: np.ndarray) -> None:
        """The eligible pairs (ri, ci) of a block (row-major, as np.nonzero gives them)."""
        m, d = rows[ri], js[ci]
        v = np.nan_to_num(value[ri, ci]) + self._history(m, d)
        order = np.argsort(ci.astype(np.int16), kind="stable")  # radix sort: by demand, members ascending
        counts = np.bincount(ci, minlength=len(js))
        self.demands.append(js[counts > 0])
        self.lens.append(counts[counts > 0])
        self.pm.append(m[order].astype(np.int32))
        self.coef.append(np.rint(v[order] * self.scale).astype(np.float32))

    def _history(self, m: np.ndarray, d: np.ndarray) -> np.ndarray:
        """The stability and continuity terms of each pair, exactly (as _with_history)."""
        p, w = self.p, self.p.problem.weights
        extra = np.zeros(len(m))
        if len(p.prev_keys):
            extra += np.where(_in_sorted(p.prev_keys, d * p.M + m), w.stability, 0.0)
        if len(p.served_keys):
            extra += np.where(_in_sorted(p.served_keys, m * p.n_comm + p.d_comm[d]), w.continuity, 0.0)
        return extra

    def pairs(self) -> EligiblePairs:
        cat = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)  # noqa: E731 - local shorthand
        lens = cat(self.lens, np.int64)
        start = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        return EligiblePairs(cat(self.demands, np.int64), start, cat(self.pm, np.int32), cat(self.coef, np.float32))


def _in_sorted(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """query in keys, for sorted keys (a binary search per query, no sort of the queries)."""
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return keys[pos] == query


def left_out_violation(
    left: EligiblePairs,
    n_demands: int,
    pot: np.ndarray,
    dpot: np.ndarray,
    with_value: np.ndarray,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """For pruned candidates: per potential vector k and demand d, over the left-out pairs
    (m, d) (`left`, see EligiblePairs.without), the largest ``coef(m, d) - pot[k, m]`` (-inf
    where there is none) and the sum of ``min(0, pot[k, m] - dpot[k, d] - coef(m, d))`` (the
    reduced costs a flow with member potentials pot and demand potentials dpot would see).
    coef is the pair's scaled value when with_value[k], else 0.

    Vectorised over the stored pairs (segment reductions), it lets the flow bounds account
    exactly for every pair that pruning left out. None when `stop` (the deadline or a cancel
    request) cut it short.
    """
    P = pot.shape[0]
    out = np.full((P, n_demands), -np.inf)
    neg = np.zeros((P, n_demands))
    if not len(left):
        return out, neg
    starts, segs = left.seg_start[:-1], left.seg_demand
    lens = np.diff(left.seg_start)
    for k in range(P):
        if stop():
            return None
        v = -pot[k, left.pm]
        if with_value[k]:
            v += left.coef
        out[k, segs] = np.maximum.reduceat(v, starts)
        v += np.repeat(dpot[k, segs], lens)  # = -(reduced cost pot - dpot - coef)
        np.maximum(v, 0.0, out=v)
        neg[k, segs] = -np.add.reduceat(v, starts)
    return out, neg
