"""The office's member directory (委员): search by name (characters, pinyin or initials), group,
area and skill; and one member's page: profile, this week's and this year's assignments, duty
progress, and this week's load against the weekly cap.

Phones are shown to admins only (as in the API); a liaison sees the whole directory but only
its own area's assignments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import LIVE_ASSIGNMENT_STATUSES, AssignmentStatus, DutyKind
from app.domain.times import stored_utc
from app.models import Assignment, Demand, DutyRecord, Group, Member, MemberSkill
from app.services.areas import area_by_code
from app.services.identity import Caller
from app.services.members import get_member
from app.services.pinyin_match import best_rank, pinyin_forms
from app.services.runs.service import Window, parse_week
from app.services.skills import normalize_token, token_index
from app.services.week_plan import utc_bounds

_SHOWN = [*LIVE_ASSIGNMENT_STATUSES, AssignmentStatus.DECLINED]


@dataclass
class MemberPage:
    rows: list[Member]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_members(
    session: Session,
    caller: Caller,
    *,
    q: str | None = None,
    group_id: int | None = None,
    area: str | None = None,
    skill: str | None = None,
    page: int = 1,
    per_page: int = 30,
) -> MemberPage:
    stmt = select(Member).where(Member.district_id == caller.district_id, Member.active.is_(True))
    if group_id:
        stmt = stmt.where(Member.group_id == group_id)
    if area:
        stmt = stmt.where(
            Member.home_area_id == area_by_code(session, district_id=caller.district_id, code=area, field="area").id
        )
    if skill:
        found = token_index(session, district_id=caller.district_id).get(normalize_token(skill))
        skill_id = found.id if found is not None else -1
        stmt = stmt.where(Member.id.in_(select(MemberSkill.member_id).where(MemberSkill.skill_id == skill_id)))
    members = list(session.scalars(stmt).unique())
    if q and q.strip():
        ranked = [(r, m) for m in members if (r := best_rank(q, [m.name, m.external_id or ""])) is not None]
        members = [m for _, m in sorted(ranked, key=lambda x: (x[0], pinyin_forms(x[1].name)[0], x[1].id))]
    else:
        members.sort(key=lambda m: (pinyin_forms(m.name)[0], m.id))
    page = max(1, page)
    start = (page - 1) * per_page
    return MemberPage(rows=members[start : start + per_page], total=len(members), page=page, per_page=per_page)


def groups_of(session: Session, caller: Caller) -> list[Group]:
    return list(session.scalars(select(Group).where(Group.district_id == caller.district_id).order_by(Group.id)))


@dataclass
class MemberProfile:
    member: Member
    window: Window
    show_phone: bool
    week_assignments: list[Assignment] = field(default_factory=list)
    year_assignments: list[Assignment] = field(default_factory=list)
    duty_counts: dict[str, int] = field(default_factory=dict)
    week_load: int = 0

    @property
    def over_cap(self) -> bool:
        return self.week_load > self.member.weekly_cap


def member_profile(session: Session, caller: Caller, *, member_id: int, week: str) -> MemberProfile:
    member = get_member(session, caller, member_id=member_id)
    window = parse_week(week)
    year = window.start.year
    stmt = (
        select(Assignment)
        .join(Demand, Demand.id == Assignment.demand_id)
        .where(Assignment.member_id == member.id, Assignment.status.in_(_SHOWN))
        .order_by(Demand.starts_at)
    )
    if caller.role == "liaison":
        stmt = stmt.where(Assignment.area_id == caller.area_id)
    assignments = list(session.scalars(stmt).unique())
    start, end = utc_bounds(window)
    year_start, year_end = utc_bounds(Window(date(year, 1, 1), date(year, 12, 31), None))
    in_week = [a for a in assignments if start <= stored_utc(a.demand.starts_at) < end]
    counts = dict.fromkeys([k.value for k in DutyKind], 0)
    for kind, n in session.execute(
        select(DutyRecord.kind, func.count())
        .where(
            DutyRecord.member_id == member.id,
            DutyRecord.date >= date(year, 1, 1),
            DutyRecord.date <= date(year, 12, 31),
        )
        .group_by(DutyRecord.kind)
    ):
        counts[kind] = int(n)
    return MemberProfile(
        member=member,
        window=window,
        show_phone=caller.can_read_phones,
        week_assignments=in_week,
        year_assignments=[a for a in assignments if year_start <= stored_utc(a.demand.starts_at) < year_end],
        duty_counts=counts,
        week_load=sum(1 for a in in_week if a.status in LIVE_ASSIGNMENT_STATUSES),
    )


def member_choices(session: Session, caller: Caller) -> list[Member]:
    """Active members by pinyin, for the duty form's member list."""
    members = list(
        session.scalars(
            select(Member).where(Member.district_id == caller.district_id, Member.active.is_(True))
        ).unique()
    )
    return sorted(members, key=lambda m: (pinyin_forms(m.name)[0], m.id))
