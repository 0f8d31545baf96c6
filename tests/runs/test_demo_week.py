"""The demo week, optimized for real: the plan must beat fixed pairing and leave no member
without this year's activity where a free seat could still take them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.cli.optimize import run_optimization
from app.demo.load import load_demo
from app.models import Assignment, OptimizationRun
from app.services.runs.problem_builder import build_problem
from app.solver import check
from tests.conftest import TestDatabase
from tests.factories import plan_of
from tests.support import stored_plan_violations

WEEK_START = date(2026, 11, 30)  # 2026-W49


def test_demo_week_plan_beats_fixed_pairing_and_serves_annual_duty(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    summary = load_demo(url, 7, WEEK_START)
    result = run_optimization(url, summary.district, week=summary.week, progress=False)
    stats = result.stats
    opt, fixed, greedy = stats["optimized"], stats["fixed_pairing"], stats["greedy"]
    assert result.run["status"] == "succeeded"
    assert opt["demands_covered"] > fixed["demands_covered"]
    assert opt["weighted_coverage"] >= greedy["weighted_coverage"]
    assert opt["zero_activity_members_served"] >= max(
        fixed["zero_activity_members_served"], greedy["zero_activity_members_served"]
    )

    db = TestDatabase("sqlite", url)
    run_id = result.run["id"]
    assert stored_plan_violations(db, run_id) == []

    # "Where capacity allows": no member still without an activity this year can be added to
    # a demand with a free seat without breaking a hard rule (the independent checker says so).
    with db.session() as s:
        problem = build_problem(s, run=s.get(OptimizationRun, run_id)).problem
        plan = s.execute(select(Assignment.demand_id, Assignment.member_id).where(Assignment.run_id == run_id)).all()
    load = {}
    for d, _ in plan:
        load[d] = load.get(d, 0) + 1
    served = {m for _, m in plan}
    waiting = [m for m in problem.members if m.activities_this_year == 0 and m.id not in served]
    free = [
        d
        for d in problem.demands
        if load.get(d.id, 0) < d.max_members and (load.get(d.id, 0) > 0 or d.min_members == 1)
    ]
    assert waiting, "the demo is meant to include members no need can reach"
    for member in waiting:
        for demand in free:
            trial = plan_of([*plan, (demand.id, member.id)])
            assert check(problem, trial), f"member {member.id} could still serve demand {demand.id}"
