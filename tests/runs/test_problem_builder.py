"""DB -> solver Problem: each rule of the builder, on both databases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.models import Demand, DutyRecord, Member, OptimizationRun
from app.services.runs.problem_builder import build_problem
from app.solver import TimeSlot
from tests.factories import WEEK_START, add_assignment, add_demand


def _run(db, world, *, mode="full", days=7, scope=None, weights=None) -> OptimizationRun:
    with db.session() as s:
        run = OptimizationRun(
            district_id=world.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=days - 1),
            mode=mode,
            scope_area_ids=[world.areas[c] for c in scope] if scope else None,
            weights=weights,
            time_limit_s=5,
            status="succeeded",
        )
        s.add(run)
        s.commit()
        return run


def _build(db, run):
    with db.session() as s:
        return build_problem(s, run=s.get(OptimizationRun, run.id))


def test_members_times_and_availability_are_local(db, world):
    with db.session() as s:
        m = s.get(Member, world.members["张伟"])
        m.blackout_dates = [WEEK_START.isoformat()]
        m.weekly_slots = [
            {"weekday": 1, "start": "14:00", "end": "21:00"},
            {"weekday": 6, "start": "20:00", "end": "24:00"},
        ]
        m.weekly_cap = 3
        m.accepts_cross_area = False
        s.get(Member, world.members["王强"]).active = False
        s.add(
            DutyRecord(
                district_id=world.district_id,
                member_id=world.members["李娜"],
                kind="activity",
                date=date(WEEK_START.year, 1, 5),
                title="今年的活动",
            )
        )
        s.add(
            DutyRecord(
                district_id=world.district_id,
                member_id=world.members["张伟"],
                kind="activity",
                date=date(WEEK_START.year - 1, 12, 30),
                title="去年的活动不算",
            )
        )
        s.add(
            DutyRecord(
                district_id=world.district_id,
                member_id=world.members["李娜"],
                kind="suggestion",
                date=date(WEEK_START.year, 2, 5),
                title="建议不算活动",
            )
        )
        s.commit()
    d = add_demand(db, world)  # 09:00 UTC + 1 h = 18:00 Asia/Shanghai
    built = _build(db, _run(db, world, days=14))
    members = {m.id: m for m in built.problem.members}
    assert set(members) == {world.members["张伟"], world.members["李娜"]}  # inactive 王强 left out
    zw = members[world.members["张伟"]]
    assert zw.blackout_dates == frozenset({WEEK_START})
    assert zw.weekly_slots == (TimeSlot(1, time(14), time(21)), TimeSlot(6, time(20), time.max))
    assert zw.cap == 6  # weekly_cap 3 x 2 weeks for a 14-day window
    assert zw.accepts_cross_area is False and zw.home_area == "JW"
    assert zw.paired_areas == frozenset({"JW", "CW"}) and zw.skills == {"law": 2 / 3}
    assert members[world.members["李娜"]].activities_this_year == 1 and zw.activities_this_year == 0
    (demand,) = built.problem.demands
    assert demand.id == d and demand.start.tzinfo is None
    assert demand.start == datetime.combine(WEEK_START, time(18)) and demand.end == demand.start + timedelta(hours=2)
    assert demand.required_skills == frozenset({"law"}) and demand.area == "JW"
    assert set(built.problem.area_coords) >= {"JW", "CW", "LGY"}


def test_window_scope_status_and_exclusions(db, world):
    inside = add_demand(db, world, excluded=("张伟",))
    add_demand(db, world, day=8)  # next week: outside the window
    add_demand(db, world, status="closed")
    add_demand(db, world, status="cancelled")
    cw = add_demand(db, world, community="朝外社区", skills=("finance",))
    assigned = add_demand(db, world, community="朝外社区", status="assigned")
    built = _build(db, _run(db, world))
    assert {d.id for d in built.problem.demands} == {inside, cw, assigned}
    excluded = {d.id: d.excluded_members for d in built.problem.demands}
    assert excluded[inside] == frozenset({world.members["张伟"]})
    scoped = _build(db, _run(db, world, scope=["CW"]))
    assert {d.id for d in scoped.problem.demands} == {cw, assigned}


def test_pinned_forbidden_previous_and_busy(db, world):
    a = add_demand(db, world, max_members=3, min_members=2)
    b = add_demand(db, world, community="朝外社区", day=1)
    c = add_demand(db, world, community="清友园社区", day=2, status="assigned")
    add_assignment(db, world, a, "张伟", "accepted")
    add_assignment(db, world, a, "李娜", "declined")
    add_assignment(db, world, a, "王强", "published")
    add_assignment(db, world, c, "李娜", "completed")
    add_assignment(db, world, b, "王强", "superseded")
    add_assignment(db, world, b, "张伟", "proposed")  # an unpublished proposal is nobody's load
    built = _build(db, _run(db, world, weights={"distance": 0.9, "lexicographic": False}))
    p = built.problem
    zw, ln, wq = world.members["张伟"], world.members["李娜"], world.members["王强"]
    assert p.pinned == {(a, zw), (c, ln)}
    assert p.forbidden == {(a, ln)}
    assert p.previous == {(a, wq)}
    members = {m.id: m for m in p.members}
    assert len(members[zw].busy) == 1 and len(members[ln].busy) == 1 and members[wq].busy == ()
    assert p.weights.distance == 0.9 and p.weights.lexicographic is False and p.weights.quality == 10.0
    assert built.kept_pairs == frozenset()


def test_repair_keeps_everything_but_what_was_declined(db, world):
    reopened = add_demand(db, world, max_members=2)  # a decline put it back to open
    covered = add_demand(db, world, community="朝外社区", day=1, status="assigned")
    add_assignment(db, world, reopened, "李娜", "declined")
    add_assignment(db, world, reopened, "王强", "published")
    add_assignment(db, world, covered, "张伟", "published")
    built = _build(db, _run(db, world, mode="repair"))
    p = built.problem
    zw, ln, wq = world.members["张伟"], world.members["李娜"], world.members["王强"]
    assert [d.id for d in p.demands] == [reopened]  # the covered demand is left out
    assert p.forbidden == {(reopened, ln)}
    assert p.pinned == {(reopened, wq)} and built.kept_pairs == {(reopened, wq)}
    assert p.previous == frozenset()
    members = {m.id: m for m in p.members}
    assert len(members[zw].busy) == 1  # its published row still occupies 张伟
    assert len(members[wq].busy) == 1
    full = _build(db, _run(db, world, days=8))
    assert {d.id for d in full.problem.demands} == {reopened, covered}
    assert full.problem.previous == {(reopened, wq), (covered, zw)}


def test_served_communities_from_completed_assignments(db, world):
    earlier = add_demand(db, world, community="光华里社区", day=-7)
    add_assignment(db, world, earlier, "张伟", "completed")
    add_demand(db, world)
    built = _build(db, _run(db, world))
    with db.session() as s:
        community = s.get(Demand, earlier).community_id
    members = {m.id: m for m in built.problem.members}
    assert members[world.members["张伟"]].served_communities == frozenset({community})
    assert members[world.members["张伟"]].busy == ()  # last week's work is not this week's load
