"""Console fixtures: the API test world (areas JW/CW/LGY, skills law/finance/teaching/venue,
members 张伟 JW, 李娜 CW, 王强 LGY, one key per role) plus a week of demands with a published
plan, and a helper that signs a TestClient in the way a browser does (form + CSRF token)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.models import Assignment, Demand, OptimizationRun
from app.services.runs.service import parse_week
from app.services.week_plan import utc_bounds
from tests.api.conftest import NEXT_MONDAY, World, world  # noqa: F401  (fixture re-exported)

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def iso_week(day: datetime) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


WEEK = iso_week(NEXT_MONDAY)


@dataclass
class ConsoleWorld:
    w: World
    week: str = WEEK
    demands: dict[str, int] = field(default_factory=dict)
    assignments: dict[str, int] = field(default_factory=dict)
    run_id: int = 0


@pytest.fixture
def cw(db, world) -> ConsoleWorld:  # noqa: F811 - the imported fixture, requested by name
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
    return create_app(settings)


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def sign_in(client: TestClient, key: str) -> str:
    """Sign in through the form like a browser; returns the session's CSRF token."""
    form = client.get("/login")
    r = client.post("/login", data={"api_key": key, "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/console")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


@pytest.fixture
def browser_client(app):
    """A client that keeps cookies (one per role in a test: make more with TestClient(app))."""
    with TestClient(app) as c:
        yield c
