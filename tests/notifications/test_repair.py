"""Automatic repair rules, the dispatcher driven by hand: one run per burst, the district switch,
and what a cancelled or moved need does to its members' messages and links."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from app.models import Assignment, District, MemberLink, Notification, OptimizationRun, RepairMark
from app.services.notifications.links import mint_task_link
from tests.notifications.conftest import add_lawyer, cfg, dispatch, publish_plan


def _decline(client, world, assignment_id: int, reason: str = "时间冲突") -> None:
    r = client.post(f"/v1/assignments/{assignment_id}/decline", json={"reason": reason}, headers=world.h("admin"))
    assert r.status_code == 200, r.text


def _repair_runs(db) -> list[OptimizationRun]:
    with db.session() as s:
        return list(s.scalars(select(OptimizationRun).where(OptimizationRun.mode == "repair")))


def _wait_repair(db, config, statuses=("published",), timeout=60.0) -> OptimizationRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatch(db, config)
        runs = _repair_runs(db)
        if runs and runs[-1].status in statuses:
            return runs[-1]
        time.sleep(0.2)
    raise AssertionError(f"no repair run reached {statuses}: {[(r.id, r.status) for r in _repair_runs(db)]}")


def test_a_burst_of_declines_is_one_repair_run_after_the_quiet_period(db, world, client, monkeypatch):
    monkeypatch.setenv("MATCHER_REPAIR_QUIET_S", "30")
    plan = publish_plan(db, world, client)
    add_lawyer(db, world)
    _decline(client, world, plan.assignments["张伟"])
    with db.session() as s:
        first_due = s.scalars(select(RepairMark)).one().due_at
    _decline(client, world, plan.assignments["李娜"], "身体原因")  # the same week: pushes the mark back
    with db.session() as s:
        mark = s.scalars(select(RepairMark)).one()
        assert mark.marks == 2 and mark.due_at >= first_due
    config = cfg()
    assert dispatch(db, config).scanned["repairs_started"] == 0  # still quiet
    later = mark.due_at + timedelta(seconds=1)
    assert dispatch(db, config, now=later).scanned["repairs_started"] == 1
    assert dispatch(db, config, now=later).scanned["repairs_started"] == 0  # one run, not two
    run = _wait_repair(db, config)
    with db.session() as s:
        new = s.execute(
            select(Assignment.demand_id, Assignment.member_id).where(
                Assignment.run_id == run.id, Assignment.status == "published"
            )
        ).all()
        assert (plan.demands["law"], world.members["赵律师"]) in new
        assert all(m not in (world.members["张伟"], world.members["李娜"]) for _, m in new)  # declined pairs
        events = {(n.event, n.member_id) for n in s.scalars(select(Notification))}
    assert ("repair_proposal", world.members["赵律师"]) in events


def test_without_auto_publish_the_repair_waits_for_the_office(db, world, client, monkeypatch):
    monkeypatch.setenv("MATCHER_REPAIR_QUIET_S", "0")
    with db.session() as s:
        s.get(District, world.district_id).auto_publish_repairs = False
        s.commit()
    plan = publish_plan(db, world, client)
    add_lawyer(db, world)
    _decline(client, world, plan.assignments["张伟"])
    run = _wait_repair(db, cfg(), statuses=("succeeded",))
    dispatch(db, cfg())
    assert _repair_runs(db)[-1].status == "succeeded"  # proposed, not published
    with db.session() as s:
        assert not s.scalars(select(Notification).where(Notification.event == "repair_proposal")).all()
    r = client.post(f"/v1/optimization-runs/{run.id}/publish", headers=world.h("admin"))
    assert r.status_code == 200 and r.json()["published"] >= 1


def test_cancelled_and_moved_needs_tell_their_members(db, world, client):
    plan = publish_plan(db, world, client)
    with db.session() as s:
        link = mint_task_link(s, assignment=s.get(Assignment, plan.assignments["张伟"]))
        s.commit()
    h = world.h("admin")
    demand = client.get(f"/v1/demands/{plan.demands['finance']}", headers=h)
    moved = (demand.json()["starts_at"][:11] + "15:00:00+08:00", demand.json()["starts_at"][:11] + "17:00:00+08:00")
    r = client.patch(
        f"/v1/demands/{plan.demands['finance']}",
        json={"starts_at": moved[0], "ends_at": moved[1]},
        headers={**h, "If-Match": demand.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    demand = client.get(f"/v1/demands/{plan.demands['law']}", headers=h)
    r = client.delete(f"/v1/demands/{plan.demands['law']}", headers={**h, "If-Match": demand.headers["etag"]})
    assert r.status_code in (200, 204), r.text
    with db.session() as s:
        events = {(n.event, n.member_id) for n in s.scalars(select(Notification))}
        revoked = s.get(MemberLink, link.link.id).revoked_at
        marks = s.scalars(select(RepairMark)).all()
    assert ("changed", world.members["李娜"]) in events and ("cancelled", world.members["张伟"]) in events
    assert revoked is not None and marks  # the link is dead, the week marked for repair
