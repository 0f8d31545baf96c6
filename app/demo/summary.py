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
    """What the demo wrote: row counts, the week's demands by channel and priority, and how many
    active members have no activity on record this year (the ones the duty bonus is for)."""
    mine = {
        m: m.district_id == district_id for m in (Area, Community, Group, Skill, Member, Demand, DutyRecord, ApiKey)
    }
    return DemoSummary(
        district=district_code,
        seed=seed,
        week=iso_week(week_start),
        week_start=week_start,
        week_end=week_start + timedelta(days=6),
        counts=_row_counts(session, mine),
        demands_by_channel=_demands_by(session, Demand.channel, mine[Demand], func.count().desc(), Demand.channel),
        demands_by_priority={
            str(p): n for p, n in _demands_by(session, Demand.priority, mine[Demand], Demand.priority.desc()).items()
        },
        members_without_activity=_members_without_activity(session, mine, year=week_start.year),
        admin_key=admin_key,
    )


def _count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _row_counts(session: Session, mine: dict) -> dict[str, int]:
    """Rows per table, the district's only (link tables through their owners)."""
    demand_ids = select(Demand.id).where(mine[Demand])
    return {
        "areas": _count(session, Area, mine[Area]),
        "communities": _count(session, Community, mine[Community]),
        "groups": _count(session, Group, mine[Group]),
        "group_areas": _count(session, group_areas, group_areas.c.group_id.in_(select(Group.id).where(mine[Group]))),
        "skills": _count(session, Skill, mine[Skill]),
        "members": _count(session, Member, mine[Member]),
        "member_skills": _count(session, MemberSkill, MemberSkill.member_id.in_(select(Member.id).where(mine[Member]))),
        "demands": _count(session, Demand, mine[Demand]),
        "demand_skills": _count(session, demand_skills, demand_skills.c.demand_id.in_(demand_ids)),
        "demand_exclusions": _count(session, demand_exclusions, demand_exclusions.c.demand_id.in_(demand_ids)),
        "duty_records": _count(session, DutyRecord, mine[DutyRecord]),
        "api_keys": _count(session, ApiKey, mine[ApiKey]),
    }


def _demands_by(session: Session, column, where, *order_by) -> dict:
    """Demand counts per value of ``column``, in ``order_by``'s order."""
    return dict(session.execute(select(column, func.count()).where(where).group_by(column).order_by(*order_by)).all())


def _members_without_activity(session: Session, mine: dict, *, year: int) -> int:
    with_activity = select(DutyRecord.member_id).where(
        mine[DutyRecord],
        DutyRecord.kind == DutyKind.ACTIVITY,
        DutyRecord.date >= date(year, 1, 1),
        DutyRecord.date <= date(year, 12, 31),
    )
    return _count(session, Member, mine[Member], Member.active.is_(True), Member.id.not_in(with_activity))
