"""The dashboard of one ISO week (本周概览): what the office checks before and after publishing.

Needs by status, coverage of the current plan, unmet needs with their reason, members over their
weekly cap, members still without this year's community activity, and the week's latest run.
A liaison sees its own area only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import LIVE_ASSIGNMENT_STATUSES, DemandStatus, DutyKind
from app.models import Assignment, Demand, Member, OptimizationRun
from app.services.duty import duty_status
from app.services.identity import Caller
from app.services.reports.needs import _latest_causes
from app.services.runs.service import Window, parse_week
from app.services.week_plan import utc_bounds


@dataclass
class UnmetNeed:
    demand_id: int
    title: str
    area_name: str
    live: int
    min_members: int
    reason: str | None


@dataclass
class LoadedMember:
    member_id: int
    name: str
    load: int
    cap: int


@dataclass
class WeekOverview:
    window: Window
    by_status: dict[str, int]
    plannable: int  # demands of the week that are not cancelled
    covered: int
    unmet: list[UnmetNeed]
    over_cap: list[LoadedMember]
    members_total: int
    without_activity: list[tuple[int, str]] = field(default_factory=list)
    last_run: OptimizationRun | None = None

    @property
    def coverage(self) -> float | None:
        return self.covered / self.plannable if self.plannable else None


def _week_demands(session: Session, caller: Caller, window: Window) -> list[Demand]:
    start, end = utc_bounds(window)
    stmt = select(Demand).where(
        Demand.district_id == caller.district_id, Demand.starts_at >= start, Demand.starts_at < end
    )
    if caller.role == "liaison":
        stmt = stmt.where(Demand.area_id == caller.area_id)
    return list(session.scalars(stmt.order_by(Demand.starts_at, Demand.id)).unique())


def _live_counts(session: Session, demand_ids: list[int]) -> Counter[int]:
    if not demand_ids:
        return Counter()
    rows = session.execute(
        select(Assignment.demand_id, func.count())
        .where(Assignment.demand_id.in_(demand_ids), Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES))
        .group_by(Assignment.demand_id)
    )
    return Counter(dict(rows.all()))


def _over_cap(session: Session, demand_ids: list[int]) -> list[LoadedMember]:
    if not demand_ids:
        return []
    rows = session.execute(
        select(Member.id, Member.name, Member.weekly_cap, func.count(Assignment.id))
        .join(Assignment, Assignment.member_id == Member.id)
        .where(Assignment.demand_id.in_(demand_ids), Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES))
        .group_by(Member.id, Member.name, Member.weekly_cap)
    )
    return sorted(
        (LoadedMember(mid, name, int(n), cap) for mid, name, cap, n in rows if int(n) > cap),
        key=lambda m: (-m.load, m.name),
    )


def week_overview(session: Session, caller: Caller, *, week: str) -> WeekOverview:
    window = parse_week(week)
    demands = _week_demands(session, caller, window)
    plannable = [d for d in demands if d.status != DemandStatus.CANCELLED]
    ids = [d.id for d in plannable]
    live = _live_counts(session, ids)
    open_ones = [d for d in plannable if live.get(d.id, 0) < d.min_members and d.status != DemandStatus.CLOSED]
    causes = _latest_causes(session, caller.district_id, [d.id for d in open_ones])
    unmet = [
        UnmetNeed(d.id, d.title, d.area.name, live.get(d.id, 0), d.min_members, causes.get(d.id, (None, None))[1])
        for d in open_ones
    ]
    area_id = caller.area_id if caller.role == "liaison" else None
    duty = duty_status(session, district_id=caller.district_id, year=window.start.year, area_id=area_id)
    last_run = session.scalars(
        select(OptimizationRun)
        .where(
            OptimizationRun.district_id == caller.district_id,
            OptimizationRun.window_start <= window.end,
            OptimizationRun.window_end >= window.start,
        )
        .order_by(OptimizationRun.id.desc())
        .limit(1)
    ).first()
    return WeekOverview(
        window=window,
        by_status=dict(Counter(d.status for d in demands)),
        plannable=len(plannable),
        covered=len(plannable) - len(open_ones),
        unmet=unmet,
        over_cap=_over_cap(session, ids),
        members_total=len(duty),
        without_activity=[(m.member_id, m.name) for m in duty if m.counts[DutyKind.ACTIVITY] < 1],
        last_run=last_run,
    )
