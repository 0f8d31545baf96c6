"""Console fixtures: the API test world (areas JW/CW/LGY, skills law/finance/teaching/venue,
members 张伟 JW, 李娜 CW, 王强 LGY, one key per role) plus a week of demands with a published
plan, and a helper that signs a TestClient in the way a browser does (form + CSRF token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.models import Assignment, Demand, OptimizationRun
from app.services.runs.service import parse_week
from app.services.week_plan import utc_bounds
from tests.console.support import WEEK
from tests.factories import World
from tests.support import app_for


@dataclass
class ConsoleWorld:
    w: World
    week: str = WEEK
    demands: dict[str, int] = field(default_factory=dict)
    assignments: dict[str, int] = field(default_factory=dict)
    run_id: int = 0


@pytest.fixture
def cw(db, world) -> ConsoleWorld:
    """Next week: D-law (JW) with 张伟 published, D-fin (CW) with 李娜 accepted, D-venue (LGY) open."""
    out = ConsoleWorld(w=world)
    start, _ = utc_bounds(parse_week(WEEK))
    with db.session() as s:
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=parse_week(WEEK).start,
            window_end=parse_week(WEEK).end,
            week=WEEK,
            mode="full",
            status="published",
            time_limit_s=5,
            created_by="test",
        )
        s.add(run)
        s.flush()
        out.run_id = run.id
        for key, community, area, title, day, hour in [
            ("law", "建外社区", "JW", "物业纠纷法律咨询", 0, 9),
            ("fin", "朝外社区", "CW", "防范金融诈骗讲座", 1, 14),
            ("venue", "清友园社区", "LGY", "社区文艺汇演场地", 2, 10),
        ]:
            d = Demand(
                district_id=world.district_id,
                community_id=world.communities[community],
                area_id=world.areas[area],
                title=title,
                channel="liaison_station",
                priority=3,
                min_members=1,
                max_members=1,
                starts_at=start + timedelta(days=day, hours=hour),
                ends_at=start + timedelta(days=day, hours=hour + 2),
                status="open" if key == "venue" else "assigned",
                created_by="test",
            )
            s.add(d)
            s.flush()
            out.demands[key] = d.id
        for key, member, status in [("law", "张伟", "published"), ("fin", "李娜", "accepted")]:
            demand = s.get(Demand, out.demands[key])
            a = Assignment(
                district_id=world.district_id,
                run_id=run.id,
                demand_id=demand.id,
                member_id=world.members[member],
                area_id=demand.area_id,
                status=status,
                score=1.0,
                explanation={"skill_overlap": [key], "home_area": True},
                explanation_text="持有相关技能; 本片",
            )
            s.add(a)
            s.flush()
            out.assignments[key] = a.id
        s.commit()
    return out


@pytest.fixture
def app(settings):
    return app_for(settings)


@pytest.fixture
def browser_client(app):
    """A client that keeps cookies (one per role in a test: make more with TestClient(app))."""
    with TestClient(app) as c:
        yield c
