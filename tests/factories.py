"""Small builders for test data: the API world, rows written straight through the ORM, files.

Each builder writes (or returns) exactly what its name says, with defaults a test overrides by
keyword, so a test shows only the facts it asserts on. Fixtures that hand these out live in the
``conftest.py`` of the folder that needs them (``world`` and ``client`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.models import (
    Area,
    Assignment,
    Community,
    Demand,
    DutyRecord,
    Group,
    Member,
    MemberSkill,
    OptimizationRun,
    Skill,
)
from app.services.api_keys import create_api_key
from app.services.districts import ensure_district
from app.solver import Assignment as SolverAssignment
from app.solver import PairExplanation, PlanMetrics, Solution, SolveStats

# --------------------------------------------------------------------------- the API world

NEXT_MONDAY = (datetime.now(UTC) + timedelta(days=7 - datetime.now(UTC).weekday())).replace(
    hour=9, minute=0, second=0, microsecond=0
)
WEEK_START: date = NEXT_MONDAY.date()
WEEK = "{}-W{:02d}".format(*WEEK_START.isocalendar()[:2])
COMMUNITY_AREA = {"建外社区": "JW", "光华里社区": "JW", "朝外社区": "CW", "清友园社区": "LGY"}


@dataclass
class World:
    """Ids of the two districts' reference data, by code or name, and one API key per role."""

    district_id: int
    other_district_id: int
    keys: dict[str, str] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)  # ids in the other district

    def h(self, role: str) -> dict[str, str]:
        """Auth headers for a role: admin, reader, liaison_jw, liaison_cw, other_admin."""
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def w(self, role: str) -> dict[str, str]:
        """Headers for PATCH/DELETE that are not about ETags: auth plus ``If-Match: *`` (any version)."""
        return {**self.h(role), "If-Match": "*"}


def build_world(db) -> World:
    """朝阳区 with areas JW/CW/LGY, four communities, skills law/finance/teaching/venue, group
    第一小组 (paired with JW and CW) and members 张伟 (JW, law), 李娜 (CW, finance+teaching),
    王强 (LGY, venue); 海淀区 with one area and community; keys admin, reader, liaison_jw,
    liaison_cw (朝阳) and other_admin (海淀). Written through the ORM: fast."""
    with db.session() as s:
        d = ensure_district(s, code="chaoyang", name="朝阳区")
        o = ensure_district(s, code="haidian", name="海淀区")
        w = World(district_id=d.id, other_district_id=o.id)
        for code, name, kind, lat, lon in [
            ("JW", "建外街道", "street", 39.905, 116.45),
            ("CW", "朝外街道", "street", 39.922, 116.437),
            ("LGY", "来广营地区", "township", 40.02, 116.45),
        ]:
            a = Area(
                district_id=d.id,
                code=code,
                name=name,
                kind=kind,
                lat=lat,
                lon=lon,
                liaison_name="联络员" + code,
                liaison_phone="010-6500" + str(len(code)) + "000",
            )
            s.add(a)
            s.flush()
            w.areas[code] = a.id
        for name, area in COMMUNITY_AREA.items():
            c = Community(district_id=d.id, area_id=w.areas[area], name=name)
            s.add(c)
            s.flush()
            w.communities[name] = c.id
        for code, name, cat, syn in [
            ("law", "法律咨询", "expertise", ["律师", "法律援助"]),
            ("finance", "金融", "expertise", ["防金融诈骗"]),
            ("teaching", "教学", "interest", []),
            ("venue", "活动场地", "resource", ["场地"]),
        ]:
            k = Skill(district_id=d.id, code=code, name=name, category=cat, synonyms=syn)
            s.add(k)
            s.flush()
            w.skills[code] = k.id
        g = Group(district_id=d.id, name="第一小组")
        g.areas = [s.get_one(Area, w.areas["JW"]), s.get_one(Area, w.areas["CW"])]
        s.add(g)
        s.flush()
        w.groups["第一小组"] = g.id
        for name, area, skills in [
            ("张伟", "JW", ["law"]),
            ("李娜", "CW", ["finance", "teaching"]),
            ("王强", "LGY", ["venue"]),
        ]:
            m = Member(
                district_id=d.id,
                name=name,
                sector="社会福利和社会保障界",
                group_id=g.id,
                home_area_id=w.areas[area],
                phone="13800138000",
                external_id="M-" + name,
            )
            m.skills = [MemberSkill(skill_id=w.skills[k], level=2) for k in skills]
            s.add(m)
            s.flush()
            w.members[name] = m.id
        oa = Area(district_id=o.id, code="JW", name="海淀某街道", kind="street")
        s.add(oa)
        s.flush()
        w.other["area"] = oa.id
        oc = Community(district_id=o.id, area_id=oa.id, name="海淀社区")
        s.add(oc)
        s.flush()
        w.other["community"] = oc.id
        w.keys["admin"] = create_api_key(s, district_id=d.id, role="admin", name="test admin")
        w.keys["reader"] = create_api_key(s, district_id=d.id, role="reader", name="test reader")
        w.keys["liaison_jw"] = create_api_key(s, district_id=d.id, role="liaison", name="jw liaison", area_code="JW")
        w.keys["liaison_cw"] = create_api_key(s, district_id=d.id, role="liaison", name="cw liaison", area_code="CW")
        w.keys["other_admin"] = create_api_key(s, district_id=o.id, role="admin", name="other admin")
        s.commit()
    return w


# --------------------------------------------------------------------------- rows in the world

EXPLANATION = {
    "skill_overlap": ["法律咨询"],
    "skill_score": 1.0,
    "home_area": False,
    "paired_area": False,
    "distance_km": 3.2,
    "load_after": 1,
    "first_activity_this_year": True,
    "kept_from_previous": False,
    "served_community_before": False,
    "terms": {"quality": 10.0, "distance": -0.96},
}
EXPLANATION_TEXT = "持有 法律咨询; 跨片 3.2 km; 本年度首次活动"


def add_demand(
    db,
    world: World,
    *,
    community: str = "建外社区",
    title: str = "物业纠纷法律咨询",
    skills: tuple[str, ...] = ("law",),
    day: int = 0,
    hour: int = 1,
    hours: int = 2,
    min_members: int = 1,
    max_members: int = 1,
    priority: int = 3,
    status: str = "open",
    excluded: tuple[str, ...] = (),
) -> int:
    """A demand on day ``day`` of next week, starting ``hour`` hours after 09:00 UTC."""
    with db.session() as s:
        start = NEXT_MONDAY + timedelta(days=day, hours=hour)
        d = Demand(
            district_id=world.district_id,
            community_id=world.communities[community],
            area_id=world.areas[COMMUNITY_AREA[community]],
            title=title,
            channel="liaison_station",
            priority=priority,
            min_members=min_members,
            max_members=max_members,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            status=status,
        )
        s.add(d)
        s.flush()
        d.required_skills = [s.get_one(Skill, world.skills[k]) for k in skills]
        d.excluded_members = [s.get_one(Member, world.members[n]) for n in excluded]
        s.commit()
        return d.id


def add_assigned_demand(db, world: World, **kw: Any) -> int:
    """A demand as publishing leaves it (status assigned, no skills), next Monday 09:00-11:00."""
    return add_demand(db, world, **{"skills": (), "hour": 0, "status": "assigned", **kw})


def add_run(db, world: World) -> int:
    """A succeeded run of next week, published now."""
    with db.session() as s:
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=6),
            status="succeeded",
            published_at=datetime.now(UTC),
        )
        s.add(run)
        s.commit()
        return run.id


def add_assignment(
    db,
    world: World,
    demand_id: int,
    member: str,
    status: str = "published",
    *,
    run_id: int | None = None,
    score: float | None = None,
    explanation: dict | None = None,
    text: str | None = None,
) -> int:
    """``member`` (a world member's name) on the demand, in ``status``; bare unless told more."""
    with db.session() as s:
        demand = s.get_one(Demand, demand_id)
        a = Assignment(
            district_id=world.district_id,
            run_id=run_id,
            demand_id=demand_id,
            member_id=world.members[member],
            area_id=demand.area_id,
            status=status,
            score=score,
            explanation=explanation,
            explanation_text=text,
        )
        s.add(a)
        s.commit()
        return a.id


def add_explained_assignment(db, world: World, demand_id: int, member: str, **kw: Any) -> int:
    """An assignment as a run proposes it: a score, the explanation and its text."""
    return add_assignment(
        db, world, demand_id, member, **{"score": 12.5, "explanation": EXPLANATION, "text": EXPLANATION_TEXT, **kw}
    )


def add_members(db, world: World, n: int, *, seed: int = 7) -> list[int]:
    """n more members with random skills in the three areas (a bigger instance)."""
    rng = random.Random(seed)
    ids = []
    with db.session() as s:
        for i in range(n):
            area = rng.choice(["JW", "CW", "LGY"])
            m = Member(
                district_id=world.district_id,
                name=f"委员{i:03d}",
                home_area_id=world.areas[area],
                weekly_cap=rng.choice([1, 2, 3]),
                external_id=f"GEN-{i}",
            )
            m.skills = [
                MemberSkill(skill_id=world.skills[k], level=rng.randint(1, 3))
                for k in rng.sample(["law", "finance", "teaching", "venue"], rng.randint(1, 2))
            ]
            s.add(m)
            s.flush()
            ids.append(m.id)
        s.commit()
    return ids


def add_demands_bulk(
    db, world: World, n: int, *, seed: int = 11, days: int = 7, seats: tuple[int, ...] = (1, 1, 2)
) -> list[int]:
    """n open demands over the first ``days`` days of the week; min_members drawn from ``seats``."""
    rng = random.Random(seed)
    ids = []
    with db.session() as s:
        skills = {k: s.get_one(Skill, v) for k, v in world.skills.items()}
        for i in range(n):
            community = rng.choice(list(COMMUNITY_AREA))
            start = NEXT_MONDAY + timedelta(days=rng.randint(0, days - 1), hours=rng.randint(-8, 4))
            lo = rng.choice(seats)
            d = Demand(
                district_id=world.district_id,
                community_id=world.communities[community],
                area_id=world.areas[COMMUNITY_AREA[community]],
                title=f"需求{i}",
                channel="liaison_station",
                priority=rng.randint(1, 5),
                min_members=lo,
                max_members=lo + rng.randint(0, 1),
                starts_at=start,
                ends_at=start + timedelta(hours=rng.choice([1, 2, 3])),
                status="open",
            )
            d.required_skills = [skills[k] for k in rng.sample(sorted(skills), rng.randint(0, 2))]
            s.add(d)
            s.flush()
            ids.append(d.id)
        s.commit()
    return ids


# --------------------------------------------------------------------------- unsaved ORM objects
# For tests that write them in their own session (the change feed records what a commit did).

FEED_START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def new_demand(district_id: int, area_id: int, community_id: int, title: str = "防金融诈骗讲座") -> Demand:
    return Demand(
        district_id=district_id,
        area_id=area_id,
        community_id=community_id,
        title=title,
        channel="liaison_station",
        starts_at=FEED_START,
        ends_at=FEED_START + timedelta(hours=2),
    )


def new_run(district_id: int, status: str = "succeeded") -> OptimizationRun:
    return OptimizationRun(
        district_id=district_id,
        window_start=date(2026, 12, 7),
        window_end=date(2026, 12, 13),
        week="2026-W50",
        status=status,
    )


def lost_run(district_id: int, week_start: date, *, attempts: int, minutes_ago: int) -> OptimizationRun:
    """A run left ``running`` by a worker that stopped heartbeating ``minutes_ago`` (for recovery)."""
    stale = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return OptimizationRun(
        district_id=district_id,
        window_start=week_start,
        window_end=week_start + timedelta(days=6),
        status="running",
        attempts=attempts,
        time_limit_s=2,
        started_at=stale,
        heartbeat_at=stale,
    )


def new_assignment(district_id: int, demand: Demand, member_id: int, run_id: int | None) -> Assignment:
    return Assignment(
        district_id=district_id,
        run_id=run_id,
        demand_id=demand.id,
        member_id=member_id,
        area_id=demand.area_id,
        status="proposed",
        score=1.0,
    )


def new_duty_record(district_id: int, member_id: int, area_id: int | None) -> DutyRecord:
    return DutyRecord(
        district_id=district_id,
        member_id=member_id,
        kind="activity",
        date=date(2026, 12, 7),
        title="社区普法活动",
        area_id=area_id,
    )


# --------------------------------------------------------------------------- solver plans

_NO_EXPLANATION = PairExplanation((), 0.0, False, False, 0.0, 0, False, False, False, {}, "")
_NO_STATS = SolveStats("FEASIBLE", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, "stored")
_NO_METRICS = PlanMetrics(0, 0, 0.0, 0, 0.0, 0.0, 0.0, 0, 0.0, 0, 0)


def plan_of(proposed: Iterable[tuple[int, int]], pinned: Iterable[tuple[int, int]] = ()) -> Solution:
    """A solver Solution holding just these (demand id, member id) pairs, for the checker."""
    pairs = [SolverAssignment(d, m, True, _NO_EXPLANATION) for d, m in pinned]
    pairs += [SolverAssignment(d, m, False, _NO_EXPLANATION) for d, m in proposed]
    return Solution(tuple(pairs), (), _NO_STATS, _NO_METRICS)


# --------------------------------------------------------------------------- files

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(rows: list[list[Any]], bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "委员名册"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def demand_body(world: World, **over: Any) -> dict[str, Any]:
    """A valid POST /v1/demands body in 建外社区, ten days from today (override any field)."""
    day = (datetime.now() + timedelta(days=10)).date().isoformat()
    body: dict[str, Any] = {
        "community_id": world.communities["建外社区"],
        "title": "法律咨询进社区",
        "channel": "liaison_station",
        "starts_at": f"{day}T09:00:00+08:00",
        "ends_at": f"{day}T11:00:00+08:00",
    }
    body.update(over)
    return body
