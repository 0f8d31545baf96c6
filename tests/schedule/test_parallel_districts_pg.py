"""Two districts' runs on two `matcher worker` processes (PostgreSQL): they execute at the same
time, and one district's long solve blocks neither the other district's run nor API requests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Assignment, Demand, Member, OptimizationRun
from app.settings import get_settings
from tests.factories import NEXT_MONDAY, WEEK, add_demands_bulk, add_members

MATCHER = str(Path(sys.executable).parent / "matcher")
PG_ONLY = pytest.mark.parametrize("db", ["postgresql"], indirect=True)
LONG_SOLVE_S = 3


def _small_week_in_the_other_district(db, world) -> None:
    with db.session() as s:
        s.add(Member(district_id=world.other_district_id, name="海淀委员", home_area_id=world.other["area"]))
        start = NEXT_MONDAY + timedelta(days=1, hours=2)
        s.add(
            Demand(
                district_id=world.other_district_id,
                community_id=world.other["community"],
                area_id=world.other["area"],
                title="社区议事会",
                channel="council_meeting",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                status="open",
            )
        )
        s.commit()


def _status(db, run_id: int) -> str:
    with db.session() as s:
        return s.get(OptimizationRun, run_id).status


def _wait(db, run_id: int, wanted: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _status(db, run_id) != wanted:
        assert time.monotonic() < deadline, f"run {run_id} is {_status(db, run_id)}, not {wanted}"
        time.sleep(0.05)


@PG_ONLY
def test_two_districts_solve_at_the_same_time_on_two_workers(db, world, client, monkeypatch):
    monkeypatch.setenv("MATCHER_RUN_EXECUTOR", "procrastinate")
    get_settings.cache_clear()
    add_members(db, world, 80)  # 朝阳: a hard packing instance that uses its whole time limit
    add_demands_bulk(db, world, 160, days=2, seats=(2, 3))
    _small_week_in_the_other_district(db, world)
    long = client.post(
        "/v1/optimization-runs", json={"week": WEEK, "time_limit_s": LONG_SOLVE_S}, headers=world.h("admin")
    )
    short = client.post("/v1/optimization-runs", json={"week": WEEK, "time_limit_s": 1}, headers=world.h("other_admin"))
    assert long.status_code == short.status_code == 202, (long.text, short.text)
    long_id, short_id = long.json()["id"], short.json()["id"]  # the long one is queued first

    env = {**os.environ, "MATCHER_DATABASE_URL": db.url, "MATCHER_SCHEDULER": "off"}
    env.pop("MATCHER_RUN_EXECUTOR", None)
    workers = [
        subprocess.Popen([MATCHER, "worker", "--no-wait"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    try:
        _wait(db, short_id, "succeeded")
        assert _status(db, long_id) == "running"  # the other district's run did not wait for it
        # API requests are answered meanwhile, a write in the solving district included.
        r = client.get(f"/v1/optimization-runs/{long_id}", headers=world.h("reader"))
        assert r.status_code == 200 and r.json()["status"] == "running"
        r = client.post(
            "/v1/demands",
            json={
                "community_id": world.communities["建外社区"],
                "title": "求解期间登记的民需",
                "channel": "reception_day",
                "starts_at": (NEXT_MONDAY + timedelta(days=3)).isoformat(),
                "ends_at": (NEXT_MONDAY + timedelta(days=3, hours=2)).isoformat(),
            },
            headers=world.h("admin"),
        )
        assert r.status_code == 201, r.text
        assert _status(db, long_id) == "running"
        outputs = [w.communicate(timeout=120)[0].decode() for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(timeout=30)
    assert all(w.returncode == 0 for w in workers), outputs
    with db.session() as s:
        a, b = s.get(OptimizationRun, long_id), s.get(OptimizationRun, short_id)
        assert (a.status, b.status) == ("succeeded", "succeeded"), (a.error, b.error)
        assert a.started_at < b.finished_at and b.started_at < a.finished_at  # the two solves overlapped
        assert b.finished_at < a.finished_at
        assert a.solver_status == "FEASIBLE"  # the long solve used its whole time limit
        # Neither plan saw the other district: its members and needs only.
        for run in (a, b):
            pairs = s.execute(
                select(Member.district_id, Demand.district_id)
                .join(Assignment, Assignment.member_id == Member.id)
                .join(Demand, Demand.id == Assignment.demand_id)
                .where(Assignment.run_id == run.id)
            ).all()
            assert pairs and set(pairs) == {(run.district_id, run.district_id)}, (run.id, set(pairs))
    # one run on each worker process (each worker logs the runs it finished)
    finished_by = [{rid for rid in (long_id, short_id) if f"run {rid} succeeded" in out} for out in outputs]
    assert sorted(map(sorted, finished_by)) == sorted([[long_id], [short_id]]), outputs
