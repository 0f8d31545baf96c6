"""The office's demand table: filter, sort and page through needs (民需), plus the choices the
demand form offers. A liaison sees and may pick only its own area.

Offset pages (page numbers) suit a person; the API keeps its keyset cursors for machines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.errors import invalid, msg
from app.i18n.format import LOCAL_TZ
from app.models import Area, Community, Demand, Skill, demand_skills
from app.services.crud import in_scope
from app.services.demands import DemandFilter, filtered_demands
from app.services.identity import Caller
from app.services.skills import skill_for_filter

SORTS: dict[str, Any] = {
    "starts_at": Demand.starts_at,
    "priority": Demand.priority,
    "created_at": Demand.created_at,
    "title": Demand.title,
    "status": Demand.status,
}
PAGE_SIZES = (20, 50, 100)


@dataclass(frozen=True)
class DemandFilters:
    area: str | None = None
    community_id: int | None = None
    status: str | None = None
    channel: str | None = None
    priority: int | None = None
    skill: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    q: str | None = None


@dataclass
class DemandPage:
    rows: list[Demand]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ)


def _shared_filter(filters: DemandFilters) -> DemandFilter:
    """The filters the table shares with ``GET /v1/demands`` (a blank form field filters
    nothing; the dates are whole Beijing days, ``date_to`` inclusive)."""
    return DemandFilter(
        area=filters.area or None,
        community_id=filters.community_id or None,
        status=filters.status or None,
        priority=filters.priority or None,
        starts_after=_local_midnight(filters.date_from) if filters.date_from else None,
        starts_before=_local_midnight(filters.date_to + timedelta(days=1)) if filters.date_to else None,
    )


def search_demands(
    session: Session,
    caller: Caller,
    *,
    filters: DemandFilters,
    sort: str = "starts_at",
    descending: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> DemandPage:
    if sort not in SORTS:
        raise invalid("sort", msg("one_of", values=", ".join(SORTS)))
    stmt = in_scope(select(Demand), caller, district=Demand.district_id, area=Demand.area_id)
    stmt = filtered_demands(session, caller, stmt, _shared_filter(filters))
    f = filters
    if f.channel:
        stmt = stmt.where(Demand.channel == f.channel)
    if f.skill:
        skill = skill_for_filter(session, district_id=caller.district_id, token=f.skill)
        stmt = stmt.where(Demand.id.in_(select(demand_skills.c.demand_id).where(demand_skills.c.skill_id == skill.id)))
    if f.q:
        like = f"%{f.q.strip()}%"
        stmt = stmt.where(or_(Demand.title.ilike(like), Demand.description.ilike(like)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = SORTS[sort]
    order = [column.desc() if descending else column.asc(), Demand.id.desc() if descending else Demand.id.asc()]
    page = max(1, page)
    rows = list(session.scalars(stmt.order_by(*order).offset((page - 1) * per_page).limit(per_page)).unique())
    return DemandPage(rows=rows, total=total, page=page, per_page=per_page)


@dataclass
class FormChoices:
    areas: list[Area]
    communities: list[Community]
    skills: list[Skill]


def form_choices(session: Session, caller: Caller) -> FormChoices:
    """Areas, active communities and active skills a caller may pick (a liaison: its area only)."""
    areas = in_scope(select(Area).where(Area.active.is_(True)), caller, district=Area.district_id, area=Area.id)
    communities = in_scope(
        select(Community).where(Community.active.is_(True)),
        caller,
        district=Community.district_id,
        area=Community.area_id,
    )
    skills = select(Skill).where(Skill.district_id == caller.district_id, Skill.active.is_(True))
    return FormChoices(
        areas=list(session.scalars(areas.order_by(Area.id))),
        communities=list(session.scalars(communities.order_by(Community.area_id, Community.id)).unique()),
        skills=list(session.scalars(skills.order_by(Skill.id))),
    )
