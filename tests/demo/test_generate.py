"""The demo world: deterministic, realistic in shape, and hard in the ways the matcher must explain.

Most checks run on the pure plan (fast); the ORM writer is checked on SQLite and once on
PostgreSQL, including that demand times survive the round trip on both.
"""

from __future__ import annotations

import math
import re
import shutil
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.demo import build_demo, data
from app.demo.plan import LOCAL_TZ, DemoPlan, MemberSpec, plan_demo
from app.errors import Problem
from app.models import Area, Community, Demand, DutyRecord, Group, Member, Skill
from app.services.api_keys import authenticate

WEEK = date(2026, 11, 30)  # a Monday (2026-W49)
KIND_TITLES = (
    "防范金融诈骗知识讲座",
    "业主与物业纠纷法律援助",
    "文艺队伍教学老师",
    "大学生社区实践",
    "饮用水水质检测与讲解",
    "流动儿童入学咨询",
    "养老助老服务",
    "垃圾分类宣传",
    "心理健康讲座",
    "义诊",
)


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return plan_demo(7, WEEK)


def holders(plan: DemoPlan, skills) -> list[MemberSpec]:
    return [m for m in plan.members if set(skills) & set(m.skills)]


def km(a, b) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_plan(plan):
    assert plan_demo(7, WEEK) == plan


def test_other_seed_gives_other_members_and_demands(plan):
    other = plan_demo(8, WEEK)
    assert [m.name for m in other.members] != [m.name for m in plan.members]
    assert [(d.title, d.starts_at) for d in other.demands] != [(d.title, d.starts_at) for d in plan.demands]
    assert len(other.members) == len(plan.members) and len(other.demands) == len(plan.demands)


def test_week_start_must_be_a_monday():
    with pytest.raises(ValueError, match="Monday"):
        plan_demo(7, WEEK + timedelta(days=1))


# ----------------------------------------------------------------------------- reference data
def test_areas_groups_communities(plan):
    assert len(plan.areas) == 43
    assert Counter(a.kind for a in plan.areas) == {"street": 24, "township": 19}
    codes = {a.code for a in plan.areas}
    assert len(plan.groups) == 22 and plan.groups[0][0] == "第一小组" and plan.groups[-1][0] == "第二十二小组"
    paired = [c for _, cs in plan.groups for c in cs]
    assert sorted(paired) == sorted(codes)  # every area paired with exactly one group
    assert all(1 <= len(cs) <= 3 for _, cs in plan.groups)
    assert len(plan.communities) == 150
    per_area = Counter(a for a, _ in plan.communities)
    assert set(per_area) == codes and set(per_area.values()) <= {3, 4}
    assert len(set(plan.communities)) == 150
    assert ("AYC", "绿色家园社区") in plan.communities and ("LGY", "清友园社区") in plan.communities


def test_liaison_officers(plan):
    for a in plan.areas:
        assert re.fullmatch(r"010-6\d{7}", a.liaison_phone), a.liaison_phone
        assert 2 <= len(a.liaison_name) <= 3
        assert 39.8 < a.lat < 40.1 and 116.3 < a.lon < 116.7
    assert len({a.liaison_phone for a in plan.areas}) == 43


def test_skill_catalogue():
    codes = [s[0] for s in data.SKILLS]
    assert 38 <= len(codes) <= 45 and len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[a-z_]{2,20}", c) for c in codes)
    assert {s[2] for s in data.SKILLS} == {"expertise", "interest", "resource"}
    by_code = {s[0]: s for s in data.SKILLS}
    assert by_code["law"][1] == "法律咨询" and {"律师", "法律援助"} <= set(by_code["law"][3])
    assert {"防金融诈骗", "理财"} <= set(by_code["finance"][3])
    words = [s[1] for s in data.SKILLS] + [w for s in data.SKILLS for w in s[3]]
    assert len(words) == len(set(words)), "a name or synonym must resolve to one skill"


# ----------------------------------------------------------------------------- members
def test_members_shape(plan):
    ms = plan.members
    assert len(ms) == 410
    assert [m.external_id for m in ms] == [f"WY-{i:04d}" for i in range(1, 411)]
    names = [m.name for m in ms] + [a.liaison_name for a in plan.areas]
    assert len(names) == len(set(names)), "no duplicate names"
    assert not set(names) & data.RESERVED_NAMES
    assert len({m.phone for m in ms}) == 410 and all(re.fullmatch(r"1[3-9]\d{9}", m.phone) for m in ms)
    assert set(Counter(m.sector for m in ms)) == set(data.SECTORS)
    catalogue = {s[0] for s in data.SKILLS}
    for m in ms:
        assert 2 <= len(m.skills) <= 5, m
        assert set(m.skills) <= catalogue and set(m.skills.values()) <= {1, 2, 3}
    caps = Counter(m.weekly_cap for m in ms)
    assert set(caps) == {1, 2, 3} and caps[2] > 0.6 * 410
    refuse = sum(not m.accepts_cross_area for m in ms)
    assert 0.05 * 410 < refuse < 0.16 * 410
    limited = [m.max_distance_km for m in ms if m.max_distance_km is not None]
    assert 0.18 * 410 < len(limited) < 0.4 * 410 and all(5 <= k <= 15 for k in limited)


def test_member_availability_is_inside_the_week(plan):
    week = {(WEEK + timedelta(days=i)).isoformat() for i in range(7)}
    with_blackout = [m for m in plan.members if m.blackout_dates]
    with_slots = [m for m in plan.members if m.weekly_slots]
    assert 20 < len(with_blackout) < 140 and 20 < len(with_slots) < 120
    for m in with_blackout:
        assert set(m.blackout_dates) <= week
    for m in with_slots:
        for s in m.weekly_slots:
            assert 0 <= s["weekday"] <= 6 and time.fromisoformat(s["start"]) < time.fromisoformat(s["end"])
    weekend_only = [m for m in with_slots if {s["weekday"] for s in m.weekly_slots} == {5, 6}]
    assert weekend_only


def test_members_live_mostly_in_their_groups_areas(plan):
    paired = dict(plan.groups)
    sizes = Counter(m.group for m in plan.members)
    assert set(sizes) == set(paired) and set(sizes.values()) <= {18, 19}
    at_home = [m for m in plan.members if m.home_area in paired[m.group]]
    assert len(at_home) > 0.7 * 410
    for m in plan.members:  # the others are attached by where they work
        assert m.home_area in paired[m.group] or m.work_area in paired[m.group], m


def test_skills_follow_the_sector(plan):
    for m in plan.members:
        _, expertise, resources = data.SECTORS[m.sector]
        if m.sector != "文化艺术界":  # the puppet-theatre members keep their own profession
            assert set(m.skills) & (set(expertise) | set(resources)), m

    def share(sectors, skill):
        group = [m for m in plan.members if m.sector in sectors]
        return sum(skill in m.skills for m in group) / len(group)

    assert share({"民革", "特邀"}, "law") > 2 * share({"科技界", "医药卫生界", "文化艺术界"}, "law")
    assert share({"医药卫生界", "农工党"}, "medical") > 0.4


# ----------------------------------------------------------------------------- demands
def test_demands_are_valid_and_inside_the_week(plan):
    ds = plan.demands
    assert len(ds) == 250
    assert len({d.external_id for d in ds}) == 250
    catalogue = {s[0] for s in data.SKILLS}
    members = {m.external_id for m in plan.members}
    communities = set(plan.communities)
    lo = datetime.combine(WEEK, time(0), LOCAL_TZ)
    hi = lo + timedelta(days=7)
    for d in ds:
        assert 1 <= len(d.skills) <= 2 and set(d.skills) <= catalogue, d
        assert 1 <= d.min_members <= d.max_members <= 3, d
        assert 1 <= d.priority <= 5 and d.channel in data.CHANNEL_WEIGHTS
        assert (d.area, d.community) in communities and d.title.startswith(d.community)
        assert lo <= d.starts_at < d.ends_at <= hi, d
        assert timedelta(minutes=90) <= d.ends_at - d.starts_at <= timedelta(hours=3)
        assert time(8) <= d.starts_at.timetz().replace(tzinfo=None) and d.ends_at.time() <= time(21, 30)
        assert set(d.excluded) <= members
    assert set(Counter(d.channel for d in ds)) == set(data.CHANNEL_WEIGHTS)
    assert set(Counter(d.priority for d in ds)) == {1, 2, 3, 4, 5}
    assert Counter(min(d.min_members, 2) for d in ds)[2] >= 10
    weekend = sum(d.starts_at.weekday() >= 5 for d in ds)
    assert 0.1 * 250 < weekend < 0.45 * 250
    excluded = sum(bool(d.excluded) for d in ds)
    assert 0.04 * 250 <= excluded <= 0.08 * 250
    for kind in KIND_TITLES:
        assert any(kind in d.title for d in ds), kind


def test_hard_demands_fail_for_distinct_reasons(plan):
    by = {}
    for d in plan.demands:
        by.setdefault(d.scenario, []).append(d)
    # Nobody holds the skill.
    for d in by["no_skill_holder"]:
        assert not holders(plan, d.skills)
    # Every holder has a conflict of interest.
    (d,) = by["only_conflicted_or_declined"]
    hs = holders(plan, d.skills)
    assert hs and {m.external_id for m in hs} <= set(d.excluded)
    # Holders exist but none is free at that time (weekly slots).
    (d,) = by["holders_unavailable"]
    for m in holders(plan, d.skills):
        assert m.weekly_slots and all(s["weekday"] != d.starts_at.weekday() for s in m.weekly_slots)
    # Holders exist but refuse to cross areas, or it is too far for them.
    rows = {a.code: a for a in plan.areas}
    for d in by["cross_area_blocked"]:
        hs = holders(plan, d.skills)
        assert hs
        for m in hs:
            assert m.home_area != d.area
            assert not m.accepts_cross_area or km(rows[m.home_area], rows[d.area]) > m.max_distance_km
    # More needs than the holders' weekly capacity.
    water = by["holders_at_capacity"]
    assert len(water) > sum(m.weekly_cap for m in holders(plan, ("water_quality",)))


def test_fixed_pairing_leaves_gaps_that_cross_area_matching_can_fill(plan):
    """定点包片 falls short: for many needs no member of the paired group holds a required skill,
    while members elsewhere do."""
    paired_groups = {}
    for name, codes in plan.groups:
        for c in codes:
            paired_groups[c] = name
    gaps = 0
    for d in plan.demands:
        hs = holders(plan, d.skills)
        if hs and not [m for m in hs if m.group == paired_groups[d.area]]:
            gaps += 1
    assert gaps >= 20
    # ... and demand is heavier where large residential areas are.
    per_area = Counter(d.area for d in plan.demands)
    assert per_area["WJ"] + per_area["LGY"] + per_area["CY"] > 3 * 250 / 43 * 2


def test_duty_records_leave_about_forty_percent_without_activity(plan):
    active = {r.member for r in plan.duty if r.kind == "activity"}
    assert len(active) == round(0.6 * 410)
    assert {r.kind for r in plan.duty} == {"suggestion", "information", "activity"}
    for r in plan.duty:
        assert date(WEEK.year, 1, 1) <= r.date < WEEK
    codes = {a.code for a in plan.areas}
    assert all(r.area in codes for r in plan.duty)


# ----------------------------------------------------------------------------- through the ORM
def _check_database(db) -> None:
    with db.session() as s:
        summary = build_demo(s, 7, WEEK)
        s.commit()
    assert summary.counts["areas"] == 43 and summary.counts["members"] == 410
    assert summary.counts["demands"] == 250 and summary.counts["communities"] == 150
    assert summary.counts["groups"] == 22 and summary.counts["group_areas"] == 43
    assert summary.members_without_activity == 410 - round(0.6 * 410)
    assert sum(summary.demands_by_channel.values()) == 250
    assert sum(summary.demands_by_priority.values()) == 250
    assert summary.week == "2026-W49" and summary.week_end == date(2026, 12, 6)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Skill)) == len(data.SKILLS)
        assert s.scalar(select(func.count()).select_from(DutyRecord)) == summary.counts["duty_records"]
        caller = authenticate(s, raw=summary.admin_key)
        assert caller.role == "admin"
        groups = s.scalars(select(Group)).all()
        assert {a.code for g in groups for a in g.areas} == {a.code for a in s.scalars(select(Area))}
        member = s.scalar(select(Member).where(Member.external_id == "WY-0001"))
        expected = plan_demo(7, WEEK).members[0]
        assert member.name == expected.name and {ms.skill.code for ms in member.skills} == set(expected.skills)
        lo = datetime.combine(WEEK, time(0), LOCAL_TZ)
        for d in s.scalars(select(Demand)):
            start = d.starts_at if d.starts_at.tzinfo else d.starts_at.replace(tzinfo=UTC)
            assert lo <= start < lo + timedelta(days=7)
            assert d.required_skills and d.community.area_id == d.area_id
        first = s.scalar(select(Demand).order_by(Demand.starts_at, Demand.id).limit(1))
        planned = plan_demo(7, WEEK).demands[0]
        start = first.starts_at if first.starts_at.tzinfo else first.starts_at.replace(tzinfo=UTC)
        assert start == planned.starts_at  # same instant on both databases
        assert s.scalar(select(func.count()).select_from(Community)) == 150


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_build_demo_on_sqlite(db):
    _check_database(db)


def test_build_demo_on_postgresql(pg_db):
    _check_database(pg_db)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_build_demo_refuses_a_district_that_has_data(db):
    with db.session() as s:
        build_demo(s, 7, WEEK)
        s.commit()
    with db.session() as s:
        with pytest.raises(Problem) as exc:
            build_demo(s, 8, WEEK)
        assert exc.value.status == 409
        s.rollback()
        assert s.scalar(select(func.count()).select_from(Member)) == 410


def _dump(url_session) -> list:
    s = url_session
    return [
        [(a.code, a.liaison_name, a.liaison_phone) for a in s.scalars(select(Area).order_by(Area.code))],
        [
            (
                m.external_id,
                m.name,
                m.sector,
                m.group.name,
                m.home_area.code,
                m.phone,
                m.weekly_cap,
                m.blackout_dates,
                m.weekly_slots,
                sorted((x.skill.code, x.level) for x in m.skills),
            )
            for m in s.scalars(select(Member).order_by(Member.external_id))
        ],
        [
            (
                d.external_id,
                d.title,
                d.channel,
                d.priority,
                d.min_members,
                d.max_members,
                d.starts_at,
                d.ends_at,
                [k.code for k in d.required_skills],
                sorted(m.external_id for m in d.excluded_members),
            )
            for d in s.scalars(select(Demand).order_by(Demand.external_id))
        ],
        sorted((r.kind, r.date, r.title) for r in s.scalars(select(DutyRecord))),
    ]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_database_contents_are_deterministic(db, sqlite_template, tmp_path):
    from app.db import get_sessionmaker

    shutil.copy(sqlite_template, tmp_path / "second.db")
    second = f"sqlite:///{tmp_path / 'second.db'}"
    dumps = []
    for url in (db.url, second):
        with get_sessionmaker(url)() as s:
            build_demo(s, 11, WEEK)
            s.commit()
            dumps.append(_dump(s))
    assert dumps[0] == dumps[1]


@pytest.mark.parametrize("week_start", [date(2027, 1, 4), date(2029, 1, 1), date(2025, 12, 29)])
def test_duty_never_falls_in_or_after_the_week(week_start):
    duty = plan_demo(7, week_start).duty
    assert all(date(week_start.year, 1, 1) <= r.date < week_start for r in duty)
    assert (not duty) == (week_start == date(week_start.year, 1, 1))
