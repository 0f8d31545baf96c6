"""The in-process executor (SQLite) starts a run only once the transaction that queued it has
committed, in a child process it supervises: a killed child is noticed at once."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import text

from app.models import OptimizationRun
from app.services.runs.executor import InProcessExecutor
from app.settings import get_settings
from tests.factories import WEEK, add_demand, add_demands_bulk, add_members
from tests.support import wait_db, wait_for


class RecordingExecutor(InProcessExecutor):
    """The real executor with the thread start recorded instead of run (the hooks are what is tested)."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.started: list[int] = []

    def start(self, run_id: int):  # type: ignore[override]  # records instead of starting a thread
        self.started.append(run_id)


def test_a_released_savepoint_does_not_start_the_run_but_the_commit_does(db):
    executor = RecordingExecutor(db.url)
    with db.session() as s:
        s.execute(text("SELECT 1"))
        with s.begin_nested():  # e.g. the idempotent create wraps the run creation in a savepoint
            executor.enqueue(s, 41)
        assert executor.started == []  # SQLAlchemy fires after_commit for the savepoint too
        s.commit()
    assert executor.started == [41]


def test_a_rolled_back_transaction_never_starts_its_runs(db):
    executor = RecordingExecutor(db.url)
    with db.session() as s:
        s.execute(text("SELECT 1"))  # the transaction that queued the run
        executor.enqueue(s, 42)
        s.rollback()
        s.commit()
    assert executor.started == []


SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
RUNS = "/v1/optimization-runs"


def _solve_process(db, run_id: int, not_pid: int | None = None, timeout: float = 60.0) -> int:
    """The pid of the child solving the run (once it is running, and is not ``not_pid``)."""
    deadline = time.monotonic() + timeout
    while True:
        child = InProcessExecutor.children.get(db.url, {}).get(run_id)
        if child is not None and child.pid not in (None, not_pid) and wait_db(db, run_id, ("running",)) == "running":
            return int(child.pid)  # type: ignore[arg-type]  # checked not None just above
        assert time.monotonic() < deadline, f"run {run_id} never reached a solve process"
        time.sleep(0.05)


@SQLITE_ONLY
def test_a_run_is_solved_by_a_child_process_not_the_api(client, world, db):
    add_demand(db, world, skills=("law",))
    r = client.post(RUNS, json={"week": WEEK, "time_limit_s": 3}, headers=world.h("admin"))
    body = wait_for(client, world, r.json()["id"])
    assert body["status"] == "succeeded", body
    assert body["stats"]["executor_pid"] not in (None, os.getpid())
    deadline = time.monotonic() + 10  # the child exits just after it stored the run
    while InProcessExecutor.children[db.url] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert InProcessExecutor.children[db.url] == {}  # reaped by its supervisor


@SQLITE_ONLY
def test_a_killed_solve_process_is_noticed_at_once_requeued_then_failed_with_its_reason(client, world, db):
    add_members(db, world, 200)  # a packing instance the solver is still working on when it is killed
    add_demands_bulk(db, world, 300, days=2, seats=(2, 3))
    r = client.post(RUNS, json={"week": WEEK, "time_limit_s": 120}, headers=world.h("admin"))
    run_id = r.json()["id"]
    first = _solve_process(db, run_id)
    wanted = min(19, os.getpriority(os.PRIO_PROCESS, 0) + get_settings().solve_nice)
    assert os.getpriority(os.PRIO_PROCESS, first) == wanted  # the API keeps its CPU share meanwhile
    os.kill(first, signal.SIGKILL)
    killed = time.monotonic()
    second = _solve_process(db, run_id, not_pid=first)  # requeued at once and started again
    assert time.monotonic() - killed < 15
    with db.session() as s:
        assert s.get(OptimizationRun, run_id).attempts == 2
    os.kill(second, signal.SIGKILL)
    killed = time.monotonic()
    assert wait_db(db, run_id, timeout=15) == "failed"
    assert time.monotonic() - killed < 15
    with db.session() as s:
        error = s.get(OptimizationRun, run_id).error
    assert f"solve process {second} killed by SIGKILL" in error and "2 attempt(s)" in error, error
