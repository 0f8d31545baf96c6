"""Demands, runs and assignments written straight through the ORM, as the runs/publish
code would leave them, so assignment and duty tests do not depend on the solver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Assignment, Demand, OptimizationRun
from tests.api.conftest import NEXT_MONDAY, World

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


def make_run(db, world: World) -> int:
    with db.session() as s:
        start = NEXT_MONDAY.date()
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=start,
            window_end=start + timedelta(days=6),
            status="succeeded",
            published_at=datetime.now(UTC),
        )
        s.add(run)
        s.commit()
        return run.id


def make_demand(
    db,
    world: World,
    *,
    community: str = "建外社区",
    title: str = "物业纠纷法律咨询",
    min_members: int = 1,
    max_members: int = 1,
    status: str = "assigned",
) -> int:
    with db.session() as s:
        area_id = {"建外社区": "JW", "光华里社区": "JW", "朝外社区": "CW", "清友园社区": "LGY"}[community]
        d = Demand(
            district_id=world.district_id,
            community_id=world.communities[community],
            area_id=world.areas[area_id],
            title=title,
            channel="liaison_station",
            priority=3,
            min_members=min_members,
            max_members=max_members,
            starts_at=NEXT_MONDAY,
            ends_at=NEXT_MONDAY + timedelta(hours=2),
            status=status,
        )
        s.add(d)
        s.commit()
        return d.id


def make_assignment(
    db,
    world: World,
    demand_id: int,
    member: str,
    *,
    status: str = "published",
    run_id: int | None = None,
    explanation: dict | None = EXPLANATION,
    text: str | None = "持有 法律咨询; 跨片 3.2 km; 本年度首次活动",
) -> int:
    with db.session() as s:
        demand = s.get(Demand, demand_id)
        a = Assignment(
            district_id=world.district_id,
            run_id=run_id,
            demand_id=demand_id,
            member_id=world.members[member],
            area_id=demand.area_id,
            status=status,
            score=12.5,
            explanation=explanation,
            explanation_text=text,
        )
        s.add(a)
        s.commit()
        return a.id
