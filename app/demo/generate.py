"""Write the demo plan through the ORM, in the caller's transaction.

Demand windows are stored as UTC instants (SQLite keeps them naive, PostgreSQL as timestamptz;
both then read back as the same UTC wall time). Local (Beijing, UTC+8) time is what the plan
and the members' weekly slots speak.
"""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo import data
from app.demo.plan import DemoPlan, plan_demo
from app.demo.summary import DemoSummary, summarize
from app.domain.enums import DemandStatus, Role
from app.errors import Problem, msg
from app.models import Area, Community, Demand, DutyRecord, Group, Member, MemberSkill, Skill
from app.services.api_keys import create_api_key
from app.services.districts import ensure_district

CREATED_BY = "matcher demo"


def build_demo(session: Session, seed: int, week_start: date) -> DemoSummary:
    """Insert the 朝阳区 demo world for ``seed`` and the week starting Monday ``week_start``.

    The district must not hold any areas yet (the demo is meant for a fresh database). Only
    flushes: the caller owns the transaction, so a failure leaves nothing half-written.
    """
    plan = plan_demo(seed, week_start)
    district = ensure_district(session, code=data.DISTRICT_CODE, name=data.DISTRICT_NAME)
    if session.scalar(select(Area.id).where(Area.district_id == district.id).limit(1)) is not None:
        raise Problem(409, "demo_exists", msg("demo_exists", code=data.DISTRICT_CODE))
    write_plan(session, district.id, plan)
    key = create_api_key(session, district_id=district.id, role=Role.ADMIN, name="demo admin")
    session.flush()
    return summarize(session, district.id, data.DISTRICT_CODE, seed, week_start, key)


def write_plan(session: Session, district_id: int, plan: DemoPlan) -> None:
    """The plan's rows, in the order their references need (flushed after each kind, for ids)."""
    areas, communities, skills, groups = _write_reference_data(session, district_id, plan)
    members = _write_members(session, district_id, plan, areas=areas, skills=skills, groups=groups)
    _write_demands(session, district_id, plan, areas=areas, communities=communities, skills=skills, members=members)
    _write_duty(session, district_id, plan, areas=areas, members=members)


def _write_reference_data(
    session: Session, district_id: int, plan: DemoPlan
) -> tuple[dict[str, Area], dict[tuple[str, str], Community], dict[str, Skill], dict[str, Group]]:
    """Areas, communities, skills and groups, by code (communities by area code and name)."""
    areas = {
        a.code: Area(
            district_id=district_id,
            code=a.code,
            name=a.name,
            kind=a.kind,
            lat=a.lat,
            lon=a.lon,
            liaison_name=a.liaison_name,
            liaison_phone=a.liaison_phone,
        )
        for a in plan.areas
    }
    session.add_all(areas.values())
    communities = {
        (a, name): Community(district_id=district_id, area=areas[a], name=name) for a, name in plan.communities
    }
    session.add_all(communities.values())
    skills = {
        code: Skill(district_id=district_id, code=code, name=name, category=cat, synonyms=list(syn))
        for code, name, cat, syn in plan.skills
    }
    session.add_all(skills.values())
    groups = {
        name: Group(district_id=district_id, name=name, areas=[areas[c] for c in codes]) for name, codes in plan.groups
    }
    session.add_all(groups.values())
    session.flush()
    return areas, communities, skills, groups


def _write_members(
    session: Session,
    district_id: int,
    plan: DemoPlan,
    *,
    areas: dict[str, Area],
    skills: dict[str, Skill],
    groups: dict[str, Group],
) -> dict[str, Member]:
    """The members with their skills, by external id."""
    members: dict[str, Member] = {}
    for m in plan.members:
        members[m.external_id] = Member(
            district_id=district_id,
            external_id=m.external_id,
            name=m.name,
            sector=m.sector,
            group_id=groups[m.group].id,
            home_area_id=areas[m.home_area].id,
            work_area_id=areas[m.work_area].id if m.work_area else None,
            phone=m.phone,
            weekly_cap=m.weekly_cap,
            accepts_cross_area=m.accepts_cross_area,
            max_distance_km=m.max_distance_km,
            blackout_dates=list(m.blackout_dates),
            weekly_slots=[dict(s) for s in m.weekly_slots],
            skills=[MemberSkill(skill_id=skills[c].id, level=lv) for c, lv in sorted(m.skills.items())],
        )
    session.add_all(members.values())
    session.flush()

    return members


def _write_demands(
    session: Session,
    district_id: int,
    plan: DemoPlan,
    *,
    areas: dict[str, Area],
    communities: dict[tuple[str, str], Community],
    skills: dict[str, Skill],
    members: dict[str, Member],
) -> None:
    """The week's demands, open, with their required skills and excluded members."""
    demands: dict[str, Demand] = {}
    for x in plan.demands:
        demands[x.external_id] = Demand(
            district_id=district_id,
            external_id=x.external_id,
            community_id=communities[(x.area, x.community)].id,
            area_id=areas[x.area].id,
            title=x.title,
            description=x.description,
            channel=x.channel,
            priority=x.priority,
            min_members=x.min_members,
            max_members=x.max_members,
            starts_at=x.starts_at.astimezone(UTC),
            ends_at=x.ends_at.astimezone(UTC),
            status=DemandStatus.OPEN,
            created_by=CREATED_BY,
            required_skills=[skills[c] for c in sorted(x.skills, key=lambda c: skills[c].id)],
            excluded_members=[members[e] for e in x.excluded],
        )
    session.add_all(demands.values())
    session.flush()


def _write_duty(
    session: Session, district_id: int, plan: DemoPlan, *, areas: dict[str, Area], members: dict[str, Member]
) -> None:
    """The year's duty records so far."""
    session.add_all(
        DutyRecord(
            district_id=district_id,
            member_id=members[r.member].id,
            kind=r.kind,
            date=r.date,
            title=r.title,
            area_id=areas[r.area].id,
        )
        for r in plan.duty
    )
    session.flush()
