"""Small hand-made instances for the solver tests.

Times are naive wall-clock datetimes in ISO week 2026-W48 (Monday 2026-11-23).
Areas: A and B are 2.2 km apart, C is ~11 km from A.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.solver import Problem, SolverDemand, SolverMember, Weights
from app.solver.types import Assignment, PairExplanation, Solution

MONDAY = datetime(2026, 11, 23)
COORDS = {"A": (39.90, 116.40), "B": (39.92, 116.40), "C": (39.90, 116.53)}


def at(day: int, hour: int, minutes: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minutes)


def member(id: int, home: str = "A", skills: dict | None = None, **kw) -> SolverMember:
    return SolverMember(id=id, home_area=home, skills=skills if skills is not None else {"law": 1.0}, **kw)


def demand(
    id: int,
    area: str = "A",
    skills=("law",),
    *,
    day: int = 0,
    hour: int = 10,
    hours: int = 2,
    min_members: int = 1,
    max_members: int = 1,
    priority: int = 3,
    community: int = 1,
    **kw,
) -> SolverDemand:
    return SolverDemand(
        id=id,
        area=area,
        community=community,
        priority=priority,
        required_skills=frozenset(skills),
        min_members=min_members,
        max_members=max_members,
        start=at(day, hour),
        end=at(day, hour) + timedelta(hours=hours),
        **kw,
    )


def problem(members, demands, **kw) -> Problem:
    kw.setdefault("time_limit_s", 5.0)
    return Problem(members=tuple(members), demands=tuple(demands), area_coords=dict(COORDS), **kw)


def pairs(solution) -> set[tuple[int, int]]:
    return {(a.demand_id, a.member_id) for a in solution.assignments}


def with_extra(solution: Solution, demand_id: int, member_id: int, pinned: bool = False) -> Solution:
    """The same plan plus one hand-made assignment (to feed the checker a violation)."""
    expl = PairExplanation(
        skill_overlap=(),
        skill_score=0.0,
        home_area=False,
        paired_area=False,
        distance_km=0.0,
        load_after=0,
        first_activity_this_year=False,
        kept_from_previous=False,
        served_community_before=False,
        terms={},
        text="",
    )
    extra = Assignment(demand_id=demand_id, member_id=member_id, pinned=pinned, explanation=expl)
    return Solution(
        assignments=solution.assignments + (extra,),
        unmet=solution.unmet,
        stats=solution.stats,
        metrics=solution.metrics,
    )


@pytest.fixture
def weights() -> Weights:
    return Weights()
