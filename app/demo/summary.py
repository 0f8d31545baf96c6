"""What a freshly loaded demo contains, counted from the database itself (not from the plan),
so the summary also proves the rows are really there."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import Channel, DutyKind
from app.models import (
    ApiKey,
    Area,
    Community,
    Demand,
    DutyRecord,
    Group,
    Member,
    MemberSkill,
    Skill,
    demand_exclusions,
    demand_skills,
    group_areas,
)


@dataclass
class DemoSummary:
    district: str
    seed: int
    week: str  # ISO week, e.g. 2026-W49
    week_start: date
    week_end: date  # inclusive (Sunday)
    counts: dict[str, int]
    demands_by_channel: dict[Channel, int]
    demands_by_priority: dict[str, int]  # "1".."5"
    members_without_activity: int  # active members with no community activity this year
    admin_key: str
    database_url: str | None = None  # password hidden
    elapsed_s: float | None = None
    extra: dict = field(default_factory=dict)  # room for later steps (e.g. the demo week's run)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["week_start"], out["week_end"] = self.week_start.isoformat(), self.week_end.isoformat()
        out.update(out.pop("extra"))  # later steps' figures (optimized, fixed_pairing, greedy) at top level
        return out


def iso_week(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def summarize(
    session: Session, district_id: int, district_code: str, seed: int, week_start: date, admin_key: str
) -> DemoSummary:
    def count(model, *where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    mine = {
        m: m.district_id == district_id for m in (Area, Community, Group, Skill, Member, Demand, DutyRecord, ApiKey)
    }
    week_end = week_start + timedelta(days=6)
    counts = {
        "areas": count(Area, mine[Area]),
        "communities": count(Community, mine[Community]),
        "groups": count(Group, mine[Group]),
        "group_areas": count(group_areas, group_areas.c.group_id.in_(select(Group.id).where(mine[Group]))),
        "skills": count(Skill, mine[Skill]),
        "members": count(Member, mine[Member]),
        "member_skills": count(MemberSkill, MemberSkill.member_id.in_(select(Member.id).where(mine[Member]))),
        "demands": count(Demand, mine[Demand]),
        "demand_skills": count(demand_skills, demand_skills.c.demand_id.in_(select(Demand.id).where(mine[Demand]))),
        "demand_exclusions": count(
            demand_exclusions, demand_exclusions.c.demand_id.in_(select(Demand.id).where(mine[Demand]))
        ),
        "duty_records": count(DutyRecord, mine[DutyRecord]),
        "api_keys": count(ApiKey, mine[ApiKey]),
    }
    by_channel = dict(
        session.execute(
            select(Demand.channel, func.count())
            .where(mine[Demand])
            .group_by(Demand.channel)
            .order_by(func.count().desc(), Demand.channel)
        ).all()
    )
    by_priority = {
        str(p): n
        for p, n in session.execute(
            select(Demand.priority, func.count())
            .where(mine[Demand])
            .group_by(Demand.priority)
            .order_by(Demand.priority.desc())
        ).all()
    }
    year_start = date(week_start.year, 1, 1)
    with_activity = select(DutyRecord.member_id).where(
        mine[DutyRecord],
        DutyRecord.kind == DutyKind.ACTIVITY,
        DutyRecord.date >= year_start,
        DutyRecord.date <= date(week_start.year, 12, 31),
    )
    idle = count(Member, mine[Member], Member.active.is_(True), Member.id.not_in(with_activity))
    return DemoSummary(
        district=district_code,
        seed=seed,
        week=iso_week(week_start),
        week_start=week_start,
        week_end=week_end,
        counts=counts,
        demands_by_channel=by_channel,
        demands_by_priority=by_priority,
        members_without_activity=idle,
        admin_key=admin_key,
    )
