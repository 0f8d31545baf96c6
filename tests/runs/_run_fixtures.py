"""Small worlds for run tests, written through the ORM, and the checks every solving test
repeats: poll a run to its end, rebuild the problem and the stored plan, run the checker."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from sqlalchemy import select

from app.models import Assignment, Demand, Member, MemberSkill, OptimizationRun, Skill
from app.services.runs.problem_builder import build_problem
from app.solver import Assignment as SolverAssignment
from app.solver import PairExplanation, PlanMetrics, Solution, SolveStats, check
from tests.api.conftest import NEXT_MONDAY, World

WEEK_START: date = NEXT_MONDAY.date()
iso = WEEK_START.isocalendar()
WEEK = f"{iso.year}-W{iso.week:02d}"
COMMUNITY_AREA = {"建外社区": "JW", "光华里社区": "JW", "朝外社区": "CW", "清友园社区": "LGY"}


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
        d.required_skills = [s.get(Skill, world.skills[k]) for k in skills]
        d.excluded_members = [s.get(Member, world.members[n]) for n in excluded]
        s.commit()
        return d.id


def add_assignment(db, world: World, demand_id: int, member: str, status: str, run_id: int | None = None) -> int:
    with db.session() as s:
        demand = s.get(Demand, demand_id)
        a = Assignment(
            district_id=world.district_id,
            run_id=run_id,
            demand_id=demand_id,
            member_id=world.members[member],
            area_id=demand.area_id,
            status=status,
        )
        s.add(a)
        s.commit()
        return a.id


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
        skills = {k: s.get(Skill, v) for k, v in world.skills.items()}
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


def wait_for(
    client, world: World, run_id: int, statuses=("succeeded", "failed", "cancelled"), timeout: float = 60.0
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/optimization-runs/{run_id}", headers=world.h("reader")).json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"run {run_id} still {body['status']} after {timeout}s"
        time.sleep(0.1)


def wait_db(db, run_id: int, statuses=("succeeded", "failed", "cancelled"), timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            status = s.scalar(select(OptimizationRun.status).where(OptimizationRun.id == run_id))
        if status in statuses:
            return status
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {timeout}s"
        time.sleep(0.1)


_DUMMY_EXPL = PairExplanation((), 0.0, False, False, 0.0, 0, False, False, False, {}, "")
_DUMMY_STATS = SolveStats("FEASIBLE", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, "stored")
_DUMMY_METRICS = PlanMetrics(0, 0, 0.0, 0, 0.0, 0.0, 0.0, 0, 0.0, 0, 0)


def stored_plan_violations(db, run_id: int) -> list[str]:
    """Rebuild the run's problem from the database and check the stored proposals (plus the
    pinned pairs they sit beside) with the solver's independent checker."""
    with db.session() as s:
        run = s.get(OptimizationRun, run_id)
        built = build_problem(s, run)
        rows = s.execute(
            select(Assignment.demand_id, Assignment.member_id).where(
                Assignment.run_id == run_id, Assignment.status.in_(("proposed", "published"))
            )
        ).all()
    problem = built.problem
    pairs = [SolverAssignment(d, m, True, _DUMMY_EXPL) for d, m in sorted(problem.pinned)]
    pairs += [SolverAssignment(d, m, False, _DUMMY_EXPL) for d, m in rows if (d, m) not in problem.pinned]
    return check(problem, Solution(tuple(pairs), (), _DUMMY_STATS, _DUMMY_METRICS))
