"""The PostgreSQL path: a run is a procrastinate job deferred in the run's own transaction and
executed by ``matcher worker`` (a real subprocess, one-shot with --no-wait)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text

from app.models import OptimizationRun
from app.services.identity import Caller
from app.services.runs.execute import recover_stale_runs
from app.services.runs.executor import TASK_NAME, ProcrastinateExecutor, defer_job
from app.services.runs.service import create_run
from app.settings import get_settings
from app.tasks import close_stalled_jobs
from tests.factories import WEEK, WEEK_START, add_demand, add_demands_bulk, add_members, lost_run
from tests.support import stored_plan_violations, wait_db

MATCHER = os.path.join(os.path.dirname(sys.executable), "matcher")
PG_ONLY = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def _jobs(db) -> list[tuple]:
    with db.session() as s:
        return s.execute(text("SELECT queue_name, task_name, args, status FROM procrastinate_jobs ORDER BY id")).all()


def _worker(db) -> subprocess.CompletedProcess:
    env = {**os.environ, "MATCHER_DATABASE_URL": db.url}
    env.pop("MATCHER_RUN_EXECUTOR", None)
    return subprocess.run([MATCHER, "worker", "--no-wait"], env=env, capture_output=True, text=True, timeout=180)


@PG_ONLY
def test_post_defers_a_job_in_the_same_commit_and_the_worker_runs_it(client, world, db, monkeypatch):
    monkeypatch.setenv("MATCHER_RUN_EXECUTOR", "auto")  # PostgreSQL -> procrastinate
    get_settings.cache_clear()
    add_demand(db, world, skills=("law",))
    add_demand(db, world, community="朝外社区", skills=("finance",), day=1)
    r = client.post("/v1/optimization-runs", json={"week": WEEK, "time_limit_s": 3}, headers=world.h("admin"))
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert _jobs(db) == [("optimization", "run_optimization", {"run_id": run_id}, "todo")]
    with db.session() as s:
        assert s.get(OptimizationRun, run_id).status == "queued"  # nobody executes it in the API process

    done = _worker(db)
    assert done.returncode == 0, done.stderr[-2000:]
    body = client.get(f"/v1/optimization-runs/{run_id}", headers=world.h("reader")).json()
    assert body["status"] == "succeeded" and body["counts"]["proposals"] == 2, body
    assert _jobs(db)[0][3] == "succeeded"
    assert stored_plan_violations(db, run_id) == []


@PG_ONLY
def test_a_rolled_back_run_insert_leaves_no_job(world, db):
    caller = Caller(api_key_id=0, name="test", role="admin", district_id=world.district_id)
    with db.session() as s:
        run = create_run(s, caller, data={"week": WEEK}, executor=ProcrastinateExecutor())
        assert run.id is not None
        seen_inside = s.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one()
        s.rollback()
    assert seen_inside == 1
    assert _jobs(db) == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OptimizationRun)) == 0


@PG_ONLY
def test_recovery_requeues_a_lost_run_as_a_new_job(world, db):
    add_demand(db, world, skills=("law",))
    with db.session() as s:
        run = lost_run(world.district_id, WEEK_START, attempts=1, minutes_ago=3)
        s.add(run)
        s.commit()
    assert recover_stale_runs(db.url, defer_job) == [(run.id, "requeued")]
    assert [j[2] for j in _jobs(db)] == [{"run_id": run.id}]
    done = _worker(db)  # the worker's own start-up recovery finds nothing more to do
    assert done.returncode == 0, done.stderr[-2000:]
    with db.session() as s:
        again = s.get(OptimizationRun, run.id)
        assert again.status == "succeeded" and again.attempts == 2
    assert stored_plan_violations(db, run.id) == []


def _workers_alive(db) -> int:
    with db.session() as s:
        return s.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one()


@PG_ONLY
def test_a_worker_killed_mid_run_leaves_a_run_that_recovery_requeues(world, db):
    add_members(db, world, 200)  # a hard packing instance: the solve is still going when the worker dies
    add_demands_bulk(db, world, 300, days=2, seats=(2, 3))
    caller = Caller(api_key_id=0, name="test", role="admin", district_id=world.district_id)
    with db.session() as s:  # no API process here: only the workers can notice the dead one
        run_id = create_run(s, caller, data={"week": WEEK, "time_limit_s": 120}, executor=ProcrastinateExecutor()).id
        s.commit()
    env = {**os.environ, "MATCHER_DATABASE_URL": db.url}
    doomed = subprocess.Popen([MATCHER, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    survivor = None
    try:
        assert wait_db(db, run_id, statuses=("running", "succeeded", "failed", "cancelled")) == "running"
        with db.session() as s:
            s.get(OptimizationRun, run_id).time_limit_s = 2  # the retry (read at its claim) stays short
            s.commit()
        survivor = subprocess.Popen([MATCHER, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until = time.monotonic() + 60
        while _workers_alive(db) < 2:
            assert time.monotonic() < wait_until, "the second worker never registered"
            time.sleep(0.2)
        doomed.kill()  # SIGKILL: no chance to clean up
        killed = time.monotonic()
        doomed.wait(timeout=30)
        while True:  # the survivor's recovery pass requeues the run and fails the dead job
            with db.session() as s:
                attempts = s.scalar(select(OptimizationRun.attempts).where(OptimizationRun.id == run_id))
                doing = s.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")).scalar_one()
            if attempts == 2:
                break
            assert time.monotonic() - killed < 15, "the dead worker's run was not noticed within 15 s"
            time.sleep(0.1)
        noticed = time.monotonic() - killed
        assert noticed < 15 and doing <= 1, (noticed, doing)  # at most the retry's own job is running
        assert wait_db(db, run_id, timeout=90) == "succeeded"
    finally:
        for proc in (doomed, survivor):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    with db.session() as s:
        run_jobs = text("SELECT status FROM procrastinate_jobs WHERE task_name = :task ORDER BY id")
        jobs = list(s.scalars(run_jobs, {"task": TASK_NAME}))
    assert jobs == ["failed", "succeeded"]  # the dead worker's job is not left in doing
    assert stored_plan_violations(db, run_id) == []


@PG_ONLY
def test_close_stalled_jobs_fails_only_jobs_of_dead_workers(world, db):
    with db.session() as s:
        defer_job(s, 99)
        s.commit()
    assert close_stalled_jobs(db.url, seconds_since_heartbeat=0) == []  # todo, not doing: nobody's job
    with db.session() as s:
        s.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL"))
        s.commit()
    (job,) = close_stalled_jobs(db.url, seconds_since_heartbeat=10)  # its worker is gone
    assert _jobs(db)[0][3] == "failed" and job > 0


def test_worker_refuses_sqlite(tmp_path):
    env = {**os.environ, "MATCHER_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run([MATCHER, "worker", "--no-wait"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "needs PostgreSQL" in done.stderr
