"""Database -> ``app.solver.Problem`` for one optimization run.

The solver knows nothing of rows, sessions or time zones, so every rule about *which* rows
make up a run lives here:

Members
    active members of the district; skills as code -> strength (level / 3); paired areas =
    their group's areas; ``cap`` = weekly_cap for a window of up to 7 days, scaled by the
    number of (started) weeks for a longer window (weekly_cap * ceil(days / 7));
    ``busy`` = intervals of their live assignments (accepted or completed, plus published ones
    this run must keep) that overlap the window; ``activities_this_year`` = their DutyRecords
    of kind ``activity`` in the window's calendar year; ``served_communities`` = communities of
    their completed assignments.
Demands (mode ``full``)
    open or assigned (not closed / cancelled) demands starting inside the window (and in the
    scope areas if given). A full run re-plans all of them: accepted/completed rows are
    pinned, published rows are ``previous`` (kept if still good; replaced at publish).
Demands (mode ``repair``)
    only open demands starting in the window: the ones a decline put back into the pool or
    that are still unmet. Every other live assignment is kept exactly as it is: published
    rows of the repaired demands are pinned (so only the missing members are added), and
    the live rows of all other demands are busy load of their members.
Pairs
    pinned = live accepted/completed (and, in repair, kept published) pairs of the run's
    demands; forbidden = declined pairs; previous = published pairs of the run's demands.

All datetimes are handed to the solver as naive Asia/Shanghai local time: the members'
weekly slots and blackout dates are local, while the database stores UTC.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.domain.enums import LIVE_ASSIGNMENT_STATUSES, AssignmentStatus, DemandStatus, DutyKind, RunMode
from app.domain.times import LOCAL_TZ, to_local_naive
from app.models import Area, Assignment, Demand, DutyRecord, Group, Member, OptimizationRun
from app.solver import Problem, SolverDemand, SolverMember, TimeSlot, Weights

# Rough centre of Chaoyang; used only for an area stored without coordinates.
FALLBACK_COORDS = (39.9219, 116.4436)
LIVE = LIVE_ASSIGNMENT_STATUSES


@dataclass
class BuiltProblem:
    """The Problem plus what storing and publishing its plan needs to know."""

    problem: Problem
    demand_area_ids: dict[int, int]  # demand id -> area id (assignment rows are area-scoped)
    kept_pairs: frozenset[tuple[int, int]]  # published pairs pinned (kept) by a repair run
    cap_weeks: int  # weekly_cap multiplier used for this window
    skill_names: dict[str, str] = field(default_factory=dict)  # code -> display name


def window_bounds_utc(window_start: date, window_end: date) -> tuple[datetime, datetime]:
    """[local midnight of the first day, local midnight after the last day) in UTC."""
    start = datetime.combine(window_start, time(), LOCAL_TZ).astimezone(UTC)
    end = datetime.combine(window_end + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC)
    return start, end


def cap_weeks(window_start: date, window_end: date) -> int:
    days = (window_end - window_start).days + 1
    return max(1, math.ceil(days / 7))


def _parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    text = str(value).strip()
    if text.startswith("24:"):  # "24:00" = end of the day
        return time.max
    return time.fromisoformat(text)


def _slots(raw: list[dict] | None) -> tuple[TimeSlot, ...]:
    out = []
    for s in raw or []:
        try:
            out.append(TimeSlot(int(s["weekday"]), _parse_time(s["start"]), _parse_time(s["end"])))
        except (KeyError, TypeError, ValueError):
            continue  # a malformed slot offers no time
    if raw and not out:
        # Only malformed slots: an empty tuple would mean "any time", so offer none instead.
        return (TimeSlot(0, time(0), time(0)),)
    return tuple(out)


def _blackouts(raw: list[str] | None) -> frozenset[date]:
    out = set()
    for v in raw or []:
        try:
            out.add(v if isinstance(v, date) else date.fromisoformat(str(v)[:10]))
        except ValueError:
            continue
    return frozenset(out)


def area_coords(session: Session, *, district_id: int) -> tuple[dict[str, tuple[float, float]], dict[int, str]]:
    areas = list(session.scalars(select(Area).where(Area.district_id == district_id)))
    known = [(a.lat, a.lon) for a in areas if a.lat is not None and a.lon is not None]
    centre = (
        (sum(x for x, _ in known) / len(known), sum(y for _, y in known) / len(known)) if known else FALLBACK_COORDS
    )
    coords = {a.code: ((a.lat, a.lon) if a.lat is not None and a.lon is not None else centre) for a in areas}
    return coords, {a.id: a.code for a in areas}


def run_solver_options(run: OptimizationRun) -> dict[str, Any]:
    """The options recorded on a run (runs created before they existed: the defaults)."""
    return {"deterministic": True, "seed": 0, **((run.stats or {}).get("solver_options") or {})}


def build_problem(session: Session, *, run: OptimizationRun, num_workers: int = 2) -> BuiltProblem:
    """Read everything the run needs in one session and return the solver's input."""
    coords, code_of = area_coords(session, district_id=run.district_id)
    ws_utc, we_utc = window_bounds_utc(run.window_start, run.window_end)
    weeks = cap_weeks(run.window_start, run.window_end)
    demands = _run_demands(session, run, ws_utc, we_utc)
    pairs = _existing_pairs(session, run, {d.id for d in demands}, ws_utc, we_utc)
    members = _active_members(session, run.district_id)
    activities = _activities_this_year(session, run.district_id, run.window_start.year)
    served = _served_communities(session, run.district_id)
    skill_names: dict[str, str] = {}
    solver_members = [
        _solver_member(m, code_of, weeks, pairs.busy.get(m.id, []), activities, served, skill_names) for m in members
    ]
    solver_demands = [_solver_demand(d, code_of, skill_names) for d in demands]
    member_ids = {m.id for m in members}

    def keep(found: Iterable[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        """Pairs with a member no longer active cannot be planned around; drop them."""
        return frozenset(p for p in found if p[1] in member_ids)

    options = run_solver_options(run)
    problem = Problem(
        members=tuple(solver_members),
        demands=tuple(solver_demands),
        area_coords=coords,
        pinned=keep(pairs.pinned),
        forbidden=keep(pairs.forbidden),
        previous=keep(pairs.previous) - keep(pairs.pinned),
        weights=Weights(**(run.weights or {})),
        time_limit_s=float(run.time_limit_s),
        num_workers=max(1, num_workers),
        deterministic=bool(options["deterministic"]),
        random_seed=int(options["seed"]),
    )
    return BuiltProblem(
        problem=problem,
        demand_area_ids={d.id: d.area_id for d in demands},
        kept_pairs=keep(pairs.kept),
        cap_weeks=weeks,
        skill_names=skill_names,
    )


def _run_demands(session: Session, run: OptimizationRun, ws_utc: datetime, we_utc: datetime) -> list[Demand]:
    """The demands the run plans (see the module docstring: full vs repair, scope areas)."""
    statuses = (DemandStatus.OPEN,) if run.mode == RunMode.REPAIR else (DemandStatus.OPEN, DemandStatus.ASSIGNED)
    query = (
        select(Demand)
        .where(
            Demand.district_id == run.district_id,
            Demand.status.in_(statuses),
            Demand.starts_at >= ws_utc,
            Demand.starts_at < we_utc,
        )
        .order_by(Demand.id)
    )
    if run.scope_area_ids:
        query = query.where(Demand.area_id.in_(run.scope_area_ids))
    return list(session.scalars(query).unique())


@dataclass
class _ExistingPairs:
    """What the live and declined assignments overlapping the window mean for the run."""

    busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=lambda: defaultdict(list))
    pinned: set[tuple[int, int]] = field(default_factory=set)
    forbidden: set[tuple[int, int]] = field(default_factory=set)
    previous: set[tuple[int, int]] = field(default_factory=set)
    kept: set[tuple[int, int]] = field(default_factory=set)


def _existing_pairs(
    session: Session, run: OptimizationRun, demand_ids: set[int], ws_utc: datetime, we_utc: datetime
) -> _ExistingPairs:
    """Every assignment whose demand overlaps the window (it may occupy a member's time), sorted
    into busy time, pinned, forbidden (declined), previous and kept pairs."""
    rows = session.execute(
        select(Assignment.demand_id, Assignment.member_id, Assignment.status, Demand.starts_at, Demand.ends_at)
        .join(Demand, Demand.id == Assignment.demand_id)
        .where(
            Assignment.district_id == run.district_id,
            Assignment.status.in_((*LIVE, AssignmentStatus.DECLINED)),
            Demand.starts_at < we_utc,
            Demand.ends_at > ws_utc,
        )
        .order_by(Assignment.id)
    ).all()
    out = _ExistingPairs()
    for d_id, m_id, status, starts, ends in rows:
        pair = (d_id, m_id)
        interval = (to_local_naive(starts), to_local_naive(ends))
        in_run = d_id in demand_ids
        if status == AssignmentStatus.DECLINED:
            if in_run:
                out.forbidden.add(pair)
            continue
        if status in (AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED):
            out.busy[m_id].append(interval)
            if in_run:
                out.pinned.add(pair)
        elif not in_run or run.mode == RunMode.REPAIR:  # a published row this run keeps
            out.busy[m_id].append(interval)
            if in_run:
                out.pinned.add(pair)
                out.kept.add(pair)
        else:  # published row of a demand a full run re-plans
            out.previous.add(pair)
    return out


def _active_members(session: Session, district_id: int) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .where(Member.district_id == district_id, Member.active.is_(True))
            .options(selectinload(Member.skills), selectinload(Member.group).selectinload(Group.areas))
            .order_by(Member.id)
        )
    )


def _activities_this_year(session: Session, district_id: int, year: int) -> Counter[int]:
    """Member id -> activity duty records in the calendar year (the duty term's input)."""
    return Counter(
        dict(
            session.execute(
                select(DutyRecord.member_id, func.count())
                .where(
                    DutyRecord.district_id == district_id,
                    DutyRecord.kind == DutyKind.ACTIVITY,
                    DutyRecord.date >= date(year, 1, 1),
                    DutyRecord.date <= date(year, 12, 31),
                )
                .group_by(DutyRecord.member_id)
            ).all()
        )
    )


def _served_communities(session: Session, district_id: int) -> dict[int, set[int]]:
    """Member id -> communities of their completed assignments (the continuity term's input)."""
    served: dict[int, set[int]] = defaultdict(set)
    for m_id, community_id in session.execute(
        select(Assignment.member_id, Demand.community_id)
        .join(Demand, Demand.id == Assignment.demand_id)
        .where(Assignment.district_id == district_id, Assignment.status == AssignmentStatus.COMPLETED)
    ):
        served[m_id].add(community_id)
    return served


def _solver_member(
    m: Member,
    code_of: dict[int, str],
    weeks: int,
    busy: list[tuple[datetime, datetime]],
    activities: Counter[int],
    served: dict[int, set[int]],
    skill_names: dict[str, str],
) -> SolverMember:
    """One member as the solver sees it (records the names of its skills in ``skill_names``)."""
    skills = {}
    for ms in m.skills:
        skills[ms.skill.code] = max(0.05, min(1.0, (ms.level or 2) / 3))
        skill_names[ms.skill.code] = ms.skill.name
    paired = frozenset(code_of[a.id] for a in (m.group.areas if m.group and m.group.active else []) if a.id in code_of)
    return SolverMember(
        id=m.id,
        home_area=code_of[m.home_area_id],
        paired_areas=paired,
        skills=skills,
        cap=max(0, m.weekly_cap) * weeks,
        busy=tuple(sorted(busy)),
        activities_this_year=int(activities.get(m.id, 0)),
        blackout_dates=_blackouts(m.blackout_dates),
        weekly_slots=_slots(m.weekly_slots),
        accepts_cross_area=bool(m.accepts_cross_area),
        max_distance_km=m.max_distance_km,
        active=True,
        served_communities=frozenset(served.get(m.id, ())),
    )


def _solver_demand(d: Demand, code_of: dict[int, str], skill_names: dict[str, str]) -> SolverDemand:
    """One demand as the solver sees it, in Beijing local time."""
    for skill in d.required_skills:
        skill_names.setdefault(skill.code, skill.name)
    return SolverDemand(
        id=d.id,
        area=code_of[d.area_id],
        community=d.community_id,
        priority=d.priority,
        required_skills=frozenset(skill.code for skill in d.required_skills),
        min_members=d.min_members,
        max_members=d.max_members,
        start=to_local_naive(d.starts_at),
        end=to_local_naive(d.ends_at),
        excluded_members=frozenset(m.id for m in d.excluded_members),
    )
