"""Seeded synthetic instances shaped like the Chaoyang programme (see shared/domain.md).

Areas: the 43 real streets/townships (coordinates from app/data/chaoyang_areas.csv) for the
district size; larger sizes add synthetic areas over the same ~30 x 30 km square. Skills have
Zipf-like popularity, and demand popularity is deliberately not the same as supply popularity,
so some needs are hard to staff. Everything is drawn from one numpy Generator: same seed, same
instance.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from app.solver.types import Problem, SolverDemand, SolverMember, TimeSlot, Weights

AREAS_CSV = Path(__file__).resolve().parents[1] / "app" / "data" / "chaoyang_areas.csv"
CENTER = (39.95, 116.48)
KM_PER_DEG_LAT = 111.0

SKILLS = [
    "law",
    "finance_fraud",
    "medicine",
    "education",
    "culture_arts",
    "elderly_care",
    "psychology",
    "housing",
    "property_mgmt",
    "employment",
    "social_security",
    "env_protection",
    "urban_planning",
    "traffic",
    "food_safety",
    "it_digital",
    "youth_work",
    "sports",
    "music",
    "calligraphy",
    "painting",
    "dance",
    "venue",
    "media",
    "mediation",
    "tax",
    "accounting",
    "architecture",
    "fire_safety",
    "volunteer_org",
    "disability_aid",
    "child_care",
    "nutrition",
    "tcm",
    "heritage",
    "tourism",
    "business",
    "agriculture",
    "veterans",
    "women_rights",
]

WEEK_START = date(2026, 11, 23)  # Monday of ISO week 2026-W48

SLOT_TEMPLATES = [
    tuple(TimeSlot(wd, time(18, 0), time(21, 30)) for wd in range(5)),  # weekday evenings
    (TimeSlot(5, time(8, 0), time(18, 0)), TimeSlot(6, time(8, 0), time(18, 0))),  # weekends
    tuple(TimeSlot(wd, time(8, 0), time(12, 0)) for wd in range(7)),  # mornings
    tuple(TimeSlot(wd, time(13, 0), time(21, 0)) for wd in (1, 3, 5)),  # some afternoons
]


def _areas(n: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    coords: dict[str, tuple[float, float]] = {}
    if AREAS_CSV.exists():
        with open(AREAS_CSV, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                coords[row["code"]] = (float(row["lat_approx"]), float(row["lon_approx"]))
                if len(coords) >= n:
                    break
    km_per_deg_lon = KM_PER_DEG_LAT * np.cos(np.radians(CENTER[0]))
    k = 0
    while len(coords) < n:
        dy, dx = rng.uniform(-15, 15, size=2)
        coords[f"X{k:03d}"] = (round(CENTER[0] + dy / KM_PER_DEG_LAT, 5), round(CENTER[1] + dx / km_per_deg_lon, 5))
        k += 1
    return coords


def _zipf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def generate(
    n_members: int,
    n_demands: int,
    seed: int = 0,
    *,
    n_areas: int | None = None,
    n_groups: int | None = None,
    weights: Weights | None = None,
    time_limit_s: float = 10.0,
    num_workers: int = 2,
    mismatch: float = 0.0,
) -> Problem:
    """`mismatch` in [0, 1] blends demand skill popularity towards a shuffled Zipf, so that
    some skills are much more wanted than offered (harder instances)."""
    rng = np.random.default_rng(seed)
    if n_areas is None:
        n_areas = max(43, n_members // 70)
    if n_groups is None:
        n_groups = max(22, n_members // 19)
    coords = _areas(n_areas, rng)
    codes = list(coords)
    area_weight = rng.gamma(2.0, 1.0, size=len(codes))
    area_weight /= area_weight.sum()

    # communities: 5-20 per area, globally numbered
    comm_of_area: dict[str, list[int]] = {}
    next_comm = 1
    for a in codes:
        k = int(rng.integers(5, 21))
        comm_of_area[a] = list(range(next_comm, next_comm + k))
        next_comm += k

    # groups paired with 1-3 areas each
    group_areas = [frozenset(rng.choice(codes, size=int(rng.integers(1, 4)), replace=False)) for _ in range(n_groups)]

    supply_p = _zipf(len(SKILLS), 1.1)
    shuffled = _zipf(len(SKILLS), 0.9)[rng.permutation(len(SKILLS))]
    demand_p = mismatch * shuffled + (1.0 - mismatch) * supply_p

    week_days = [WEEK_START + timedelta(days=i) for i in range(7)]
    members: list[SolverMember] = []
    busy_windows = []
    for i in range(n_members):
        home = codes[int(rng.choice(len(codes), p=area_weight))]
        ns = int(rng.integers(2, 6))
        sk = rng.choice(len(SKILLS), size=ns, replace=False, p=supply_p)
        skills = {SKILLS[k]: float(round(rng.uniform(0.4, 1.0), 2)) for k in sk}
        cap = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        blackout: frozenset[date] = frozenset()
        if rng.random() < 0.15:
            blackout = frozenset(week_days[int(x)] for x in rng.choice(7, size=int(rng.integers(1, 3)), replace=False))
        slots: tuple[TimeSlot, ...] = ()
        if rng.random() < 0.2:
            slots = SLOT_TEMPLATES[int(rng.integers(len(SLOT_TEMPLATES)))]
        busy: tuple[tuple[datetime, datetime], ...] = ()
        if cap >= 2 and rng.random() < 0.1:
            day = week_days[int(rng.integers(7))]
            s = datetime.combine(day, time(int(rng.integers(8, 19))))
            busy = ((s, s + timedelta(hours=2)),)
        limit = float(rng.integers(5, 16)) if rng.random() < 0.4 else None
        served = frozenset(int(c) for c in rng.choice(comm_of_area[home], size=int(rng.integers(0, 3))))
        members.append(
            SolverMember(
                id=i + 1,
                home_area=home,
                paired_areas=group_areas[int(rng.integers(n_groups))] - {home},
                skills=skills,
                cap=cap,
                busy=busy,
                activities_this_year=0 if rng.random() < 0.35 else int(rng.integers(1, 7)),
                blackout_dates=blackout,
                weekly_slots=slots,
                accepts_cross_area=bool(rng.random() < 0.85),
                max_distance_km=limit,
                active=bool(rng.random() > 0.03),
                served_communities=served,
            )
        )
        busy_windows.append(busy)

    demands: list[SolverDemand] = []
    forbidden = set()
    for j in range(n_demands):
        area = codes[int(rng.choice(len(codes), p=area_weight))]
        if rng.random() < 0.08:
            req: frozenset[str] = frozenset()
        else:
            nr = 1 if rng.random() < 0.65 else 2
            req = frozenset(SKILLS[k] for k in rng.choice(len(SKILLS), size=nr, replace=False, p=demand_p))
        mn = 1 if rng.random() < 0.7 else 2
        mx = min(3, mn + int(rng.integers(0, 2)))
        day = week_days[int(rng.choice(7, p=[0.12, 0.12, 0.12, 0.12, 0.12, 0.2, 0.2]))]
        start = datetime.combine(day, time(int(rng.integers(8, 20)), int(rng.choice([0, 30]))))
        end = start + timedelta(minutes=int(rng.choice([60, 90, 120, 180])))
        excluded: frozenset[int] = frozenset()
        if rng.random() < 0.05:
            excluded = frozenset(int(x) for x in rng.integers(1, n_members + 1, size=int(rng.integers(1, 4))))
        if rng.random() < 0.02:
            forbidden.add((j + 1, int(rng.integers(1, n_members + 1))))
        demands.append(
            SolverDemand(
                id=j + 1,
                area=area,
                community=int(rng.choice(comm_of_area[area])),
                priority=int(rng.choice([1, 2, 3, 4, 5], p=[0.1, 0.25, 0.35, 0.2, 0.1])),
                required_skills=req,
                min_members=mn,
                max_members=mx,
                start=start,
                end=end,
                excluded_members=excluded,
            )
        )
    return Problem(
        members=tuple(members),
        demands=tuple(demands),
        area_coords=coords,
        forbidden=frozenset(forbidden),
        weights=weights or Weights(),
        time_limit_s=time_limit_s,
        num_workers=num_workers,
    )


# ----------------------------------------------------------------------------- hard families
FAMILIES = ("overlap", "teams", "scarce", "local", "caps", "unreachable")


def generate_family(family: str, n_members: int, n_demands: int, seed: int = 0, **kw) -> Problem:
    """The base instance reshaped into one hard family (seeded, like `generate`):

    - overlap: 90 % of demands on one Saturday, starting 9:00-13:00, 1-3 hours long (heavy overlap);
    - teams: 80 % of demands need 2-3 members (min_members 2 or 3, max one more);
    - scarce: 60 % of demands ask for one of four skills that only ~3 % of members hold;
    - local: 85 % of members opted out of cross-area work;
    - caps: 40 % of members have cap 0, the rest cap 1 (tight capacity);
    - unreachable: a quarter of demands ask for a skill no member holds.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose from {FAMILIES}")
    base = generate(n_members, n_demands, seed=seed, **kw)
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    members, demands = list(base.members), list(base.demands)
    reshape = {
        "overlap": _overlap,
        "teams": _teams,
        "scarce": _scarce,
        "local": _local,
        "caps": _caps,
        "unreachable": _unreachable,
    }[family]
    members, demands = reshape(rng, members, demands)
    return replace(base, members=tuple(members), demands=tuple(demands))


def _overlap(rng, members, demands):
    out = []
    for d in demands:
        if rng.random() < 0.9:
            start = datetime.combine(WEEK_START + timedelta(days=5), time(9)) + timedelta(
                minutes=30 * int(rng.integers(0, 9))
            )
            d = replace(d, start=start, end=start + timedelta(hours=int(rng.integers(1, 4))))
        out.append(d)
    return members, out


def _teams(rng, members, demands):
    out = []
    for d in demands:
        if rng.random() < 0.8:
            mn = int(rng.integers(2, 4))
            d = replace(d, min_members=mn, max_members=mn + int(rng.integers(0, 2)))
        out.append(d)
    return members, out


def _scarce(rng, members, demands):
    rare = ["heritage", "tcm", "disability_aid", "veterans"]
    holders = rng.random(len(members)) < 0.03
    members = [
        replace(m, skills={**m.skills, rare[int(rng.integers(len(rare)))]: 0.8}) if h else m
        for m, h in zip(members, holders, strict=True)
    ]
    members = [
        replace(m, skills={s: v for s, v in m.skills.items() if s in rare and h or s not in rare})
        for m, h in zip(members, holders, strict=True)
    ]
    out = [
        replace(d, required_skills=frozenset({rare[int(rng.integers(len(rare)))]})) if rng.random() < 0.6 else d
        for d in demands
    ]
    return members, out


def _local(rng, members, demands):
    return [replace(m, accepts_cross_area=False) if rng.random() < 0.85 else m for m in members], demands


def _caps(rng, members, demands):
    return [replace(m, cap=0 if rng.random() < 0.4 else 1, busy=()) for m in members], demands


def _unreachable(rng, members, demands):
    out = [replace(d, required_skills=frozenset({"no_such_skill"})) if rng.random() < 0.25 else d for d in demands]
    return members, out
