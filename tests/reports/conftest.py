"""A hand-built district for the report tests (the ``rw`` fixture): every number the tests
assert is set up here.

Builds on the ``world`` fixture (areas JW/CW/LGY, skills law/finance/teaching/venue,
members 张伟 JW, 李娜 CW, 王强 LGY in 第一小组, keys per role) and adds through the ORM:

- 赵敏 (JW, law, 第二小组); skill medicine (医疗) that nobody holds.
- Duty records 2026: 张伟 all three kinds (2 activities), 李娜 suggestion+activity,
  王强 none, 赵敏 information (+ a 2025 suggestion that must not count).
- Demands in November 2026 (created 09:00 UTC on the day given):
  D1 JW law          created 11-02; 张伟 accepted 11-04, completed 11-06 home_visit, satisfaction 5 -> covered
  D2 CW finance      created 11-03; 李娜 accepted 11-04, completed 11-10 on_site, satisfaction 4;
                     张伟 published (cross-area JW->CW) -> covered
  D3 JW law+teaching min 2, created 11-01; 赵敏 accepted 11-05; 王强 declined -> unmet (holders_at_capacity)
  D4 LGY medicine    created 11-05 -> unmet (no_skill_holder)
  D5 CW medicine     created 11-05 -> unmet: run1 (published earlier) said conflicted, run2 (published
                     later) says no_skill_holder, run3 (newer, unpublished) says unavailable -> no_skill_holder
  D6 JW law in October (outside the window); D7 CW cancelled in November (left out)
- Runs: run1 published 11-01, run2 published 11-02 with stats and all the assignments above, run3 unpublished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from app.models import Assignment, Demand, DutyRecord, Group, Member, MemberSkill, OptimizationRun, Skill, UnmetDemand
from tests.factories import World

STATS = {
    "optimized": {
        "demands_total": 5,
        "demands_covered": 2,
        "weighted_coverage": 0.45,
        "assignments": 5,
        "mean_skill_score": 0.8,
        "cross_area_share": 0.2,
        "mean_distance_km": 1.5,
        "load_peak": 2,
        "load_std": 0.7,
        "zero_activity_members": 2,
        "zero_activity_members_served": 1,
    },
    "fixed_pairing": {
        "demands_total": 5,
        "demands_covered": 1,
        "weighted_coverage": 0.2,
        "assignments": 3,
        "mean_skill_score": 0.6,
        "cross_area_share": 0.0,
        "mean_distance_km": 0.0,
        "load_peak": 2,
        "load_std": 0.9,
        "zero_activity_members": 2,
        "zero_activity_members_served": 0,
    },
    "greedy": {
        "demands_total": 5,
        "demands_covered": 2,
        "weighted_coverage": 0.4,
        "assignments": 4,
        "mean_skill_score": 0.7,
        "cross_area_share": 0.25,
        "mean_distance_km": 2.0,
        "load_peak": 3,
        "load_std": 1.1,
        "zero_activity_members": 2,
        "zero_activity_members_served": 0,
    },
    "objectives": {"optimized": 9000.5, "fixed_pairing": 3000.0, "greedy": 8000.25},
    "solver": {"method": "cp-sat lexicographic"},
}


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


@dataclass
class ReportWorld:
    w: World
    demands: dict[str, int] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)

    def h(self, role: str) -> dict[str, str]:
        return self.w.h(role)


@pytest.fixture
def rw(db, world) -> ReportWorld:
    r = ReportWorld(w=world)
    with db.session() as s:
        did = world.district_id
        med = Skill(district_id=did, code="medicine", name="医疗", category="expertise", synonyms=[])
        s.add(med)
        g2 = Group(district_id=did, name="第二小组")
        s.add(g2)
        s.flush()
        zm = Member(district_id=did, name="赵敏", group_id=g2.id, home_area_id=world.areas["JW"], external_id="M-赵敏")
        zm.skills = [MemberSkill(skill_id=world.skills["law"], level=3)]
        s.add(zm)
        s.flush()
        r.members = {**world.members, "赵敏": zm.id}
        m = r.members
        for who, kind, day in [
            ("张伟", "suggestion", date(2026, 3, 1)),
            ("张伟", "information", date(2026, 4, 1)),
            ("张伟", "activity", date(2026, 5, 1)),
            ("张伟", "activity", date(2026, 6, 1)),
            ("李娜", "suggestion", date(2026, 3, 2)),
            ("李娜", "activity", date(2026, 7, 1)),
            ("赵敏", "information", date(2026, 2, 1)),
            ("赵敏", "suggestion", date(2025, 12, 31)),
        ]:
            s.add(
                DutyRecord(
                    district_id=did,
                    member_id=m[who],
                    kind=kind,
                    date=day,
                    title=f"{who}{kind}",
                    area_id=world.areas["JW"],
                )
            )
        skills = {**world.skills, "medicine": med.id}
        comm = {
            "JW": world.communities["建外社区"],
            "CW": world.communities["朝外社区"],
            "LGY": world.communities["清友园社区"],
        }

        def demand(key, area, skill_codes, created, start, min_members=1, max_members=1, status="open"):
            d = Demand(
                district_id=did,
                community_id=comm[area],
                area_id=world.areas[area],
                title=f"需求{key}",
                channel="liaison_station",
                priority=3,
                min_members=min_members,
                max_members=max_members,
                starts_at=start,
                ends_at=start.replace(hour=11),
                status=status,
                created_at=created,
                updated_at=created,
            )
            d.required_skills = [s.get(Skill, skills[c]) for c in skill_codes]
            s.add(d)
            s.flush()
            r.demands[key] = d.id
            return d

        demand("D1", "JW", ["law"], at(11, 2), at(11, 20))
        demand("D2", "CW", ["finance"], at(11, 3), at(11, 21), max_members=2)
        demand("D3", "JW", ["law", "teaching"], at(11, 1), at(11, 22), min_members=2, max_members=2)
        demand("D4", "LGY", ["medicine"], at(11, 5), at(11, 23))
        demand("D5", "CW", ["medicine"], at(11, 5), at(11, 24))
        demand("D6", "JW", ["law"], at(10, 1), at(10, 15))
        demand("D7", "CW", ["law"], at(11, 1), at(11, 25), status="cancelled")

        def run(key, published, stats=None):
            o = OptimizationRun(
                district_id=did,
                window_start=date(2026, 11, 16),
                window_end=date(2026, 11, 29),
                week="2026-W47",
                status="succeeded",
                solver_status="OPTIMAL",
                objective=9000.5,
                best_bound=9000.5,
                gap=0.0,
                stats=stats,
                published_at=published,
                finished_at=at(11, 1),
            )
            s.add(o)
            s.flush()
            r.runs[key] = o.id
            return o

        run1 = run("run1", at(11, 1))
        run2 = run("run2", at(11, 2), STATS)  # stats.plan is filled in below, once the demand ids exist
        run3 = run("run3", None)
        D = r.demands

        def unmet(o, key, cause):
            s.add(
                UnmetDemand(
                    district_id=did,
                    run_id=o.id,
                    demand_id=D[key],
                    cause=cause,
                    assigned=0,
                    detail={},
                    text=f"{key}未满足：{cause}",
                )
            )

        run2.stats = {**STATS, "plan": {"demand_ids": [D[k] for k in ("D1", "D2", "D3", "D4", "D5")], "kept_pairs": []}}
        unmet(run1, "D5", "only_conflicted_or_declined")
        unmet(run2, "D3", "holders_at_capacity")
        unmet(run2, "D4", "no_skill_holder")
        unmet(run2, "D5", "no_skill_holder")
        unmet(run3, "D5", "holders_unavailable")

        def assign(key, who, area, status, accepted=None, completed=None, method=None, satisfaction=None):
            s.add(
                Assignment(
                    district_id=did,
                    run_id=run2.id,
                    demand_id=D[key],
                    member_id=m[who],
                    area_id=world.areas[area],
                    status=status,
                    accepted_at=accepted,
                    completed_at=completed,
                    response_method=method,
                    satisfaction=satisfaction,
                    score=1.0,
                    explanation={"distance_km": 0.0},
                )
            )

        assign("D1", "张伟", "JW", "completed", at(11, 4), at(11, 6), "home_visit", 5)
        assign("D2", "李娜", "CW", "completed", at(11, 4), at(11, 10), "on_site", 4)
        assign("D2", "张伟", "CW", "published")
        assign("D3", "赵敏", "JW", "accepted", at(11, 5))
        assign("D3", "王强", "JW", "declined")
        s.commit()
    return r
