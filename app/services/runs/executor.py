"""Where a queued run gets executed: one small interface, two implementations.

``enqueue(session, run_id)`` is called inside the unit of work that inserts (or requeues) the
run row, so the hand-off shares that transaction's fate:

* ``InProcessExecutor`` (SQLite, the embedded default) starts the run, only *after* the session
  commits (a rollback starts nothing), in a child process this process supervises: the solve's
  memory and CPU never sit in the API process, whose reads keep their latency meanwhile. The
  child opens its own engine on the same SQLite file and runs ``execute_run``; the parent's
  supervisor thread reaps it, and a child that dies (killed, out of memory) has its run
  requeued or failed with the reason at once, without waiting for the stale heartbeat.
* ``ProcrastinateExecutor`` (PostgreSQL) inserts a procrastinate job with the SQL function
  procrastinate itself uses (``procrastinate_defer_jobs_v1``) on the session's own connection,
  so a commit always has its job and a rollback leaves none. ``matcher worker`` executes it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Protocol

from sqlalchemy import event, text
from sqlalchemy.orm import Session
from typing_extensions import override

from app.db import is_sqlite
from app.settings import Settings

log = logging.getLogger("app.runs")

QUEUE = "optimization"
TASK_NAME = "run_optimization"
_PENDING_KEY = "matcher_inprocess_pending_runs"


class Executor(Protocol):
    name: str

    def enqueue(self, session: Session, run_id: int) -> None:
        """Hand the run over, within the caller's transaction."""


class SynchronousExecutor(Executor):
    """Hands nothing over: the caller (``matcher optimize``) executes the run itself."""

    name = "synchronous"

    @override
    def enqueue(self, session: Session, run_id: int) -> None:
        return None


class InProcessExecutor:
    """A supervised child process per run, at most ``max_concurrent`` solving at once."""

    name = "inprocess"
    _slots: threading.Semaphore | None = None
    _lock = threading.Lock()
    #: database URL -> run id -> the child solving it (read by ``stop_children`` and the tests).
    children: dict[str, dict[int, BaseProcess]] = {}
    _stopping: set[str] = set()

    def __init__(self, database_url: str, max_concurrent: int = 2, solver_workers: int | None = None):
        self.database_url = database_url
        self.solver_workers = solver_workers
        with InProcessExecutor._lock:
            if InProcessExecutor._slots is None:
                InProcessExecutor._slots = threading.Semaphore(max_concurrent)

    def enqueue(self, session: Session, run_id: int) -> None:
        pending = session.info.setdefault(_PENDING_KEY, [])
        if not pending and not session.info.get(_PENDING_KEY + "_hooked"):
            session.info[_PENDING_KEY + "_hooked"] = True
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_soft_rollback", self._after_rollback)
        pending.append(run_id)

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT was released (SQLAlchemy fires after_commit for it too): not committed yet
        pending = session.info.pop(_PENDING_KEY, [])
        for run_id in pending:
            self.start(run_id)

    @staticmethod
    def _after_rollback(session: Session, _previous_transaction: object) -> None:
        session.info.pop(_PENDING_KEY, None)

    def start(self, run_id: int) -> threading.Thread:
        """Start a committed, queued run now (also used by recovery at app start)."""
        InProcessExecutor._stopping.discard(self.database_url)
        thread = threading.Thread(target=self._supervise, args=(run_id,), name=f"run-{run_id}", daemon=True)
        thread.start()
        return thread

    def _supervise(self, run_id: int) -> None:
        """Start the child, wait for it, and deal with a child that did not end its run."""
        assert InProcessExecutor._slots is not None
        with InProcessExecutor._slots:
            try:
                child = _solve_context().Process(
                    target=solve_in_child,
                    args=(self.database_url, run_id, dict(os.environ), self.solver_workers),
                    name=f"solve-{run_id}",
                    daemon=True,  # multiprocessing terminates it if this process exits
                )
                child.start()
            except Exception:  # noqa: BLE001 - a background thread must log, never die silently
                log.exception("run %s: could not start its solve process", run_id)
                return
            running = InProcessExecutor.children.setdefault(self.database_url, {})
            running[run_id] = child
            log.info("run %s: solving in child process %s", run_id, child.pid)
            child.join()
            running.pop(run_id, None)
        if child.exitcode != 0 and self.database_url not in InProcessExecutor._stopping:
            self._child_died(run_id, child)

    def _child_died(self, run_id: int, child: BaseProcess) -> None:
        from app.services.runs.execute import abandon_run

        code = child.exitcode or 0
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        reason = f"solve process {child.pid} {how}"
        try:
            action = abandon_run(self.database_url, run_id, reason=reason, enqueue=self.enqueue)
        except Exception:  # noqa: BLE001 - the periodic recovery still finds the run by its heartbeat
            log.exception("run %s: could not give up the run of dead process %s", run_id, child.pid)
            return
        log.warning("run %s: %s; run %s", run_id, reason, action or "already ended")

    @staticmethod
    def stop_children(database_url: str) -> None:
        """At API shutdown: end this database's solve processes. Their runs stay ``running``
        and the next API start's recovery requeues them once the heartbeat is stale."""
        InProcessExecutor._stopping.add(database_url)
        for child in list(InProcessExecutor.children.get(database_url, {}).values()):
            child.terminate()
        for child in list(InProcessExecutor.children.get(database_url, {}).values()):
            child.join(10)


def _solve_context() -> ForkServerContext:
    """forkserver: each child forks from a small server process that imported the solver
    once (a spawned interpreter would spend seconds importing per run), and never from the
    API process itself, whose threads and open connections a plain fork would copy."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["app.services.runs.execute"])
    return context


def leave_the_api_its_cpu(settings: Settings) -> None:
    """A process that solves lowers its priority by ``MATCHER_SOLVE_NICE``, so reads of an API on
    the same host do not wait behind a city-size solve (the solver keeps its wall-clock limit)."""
    if settings.solve_nice:
        os.nice(settings.solve_nice)


def solve_in_child(url: str, run_id: int, environ: dict[str, str], solver_workers: int | None) -> None:
    """The child's whole life: the parent's settings, its own engine, one run executed."""
    os.environ.clear()
    os.environ.update(environ)  # the fork server was started with the environment of its day
    from app.logging import configure_logging
    from app.services.runs.execute import execute_run
    from app.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    leave_the_api_its_cpu(settings)
    configure_logging(settings.log_level)
    log.info("run %s: executing in process %s", run_id, os.getpid())
    execute_run(url, run_id, num_workers=solver_workers)


class ProcrastinateExecutor:
    name = "procrastinate"

    def enqueue(self, session: Session, run_id: int) -> None:
        defer_job(session, run_id)


def defer_job(session: Session, run_id: int) -> int:
    """Insert the procrastinate job for a run on the session's connection (same transaction)."""
    job_id = (
        session.connection()
        .execute(
            text(
                "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
                "CAST(:queue AS varchar), CAST(:task AS varchar), 0, NULL::text, NULL::text, "
                "CAST(:args AS jsonb), NULL::timestamptz)]::procrastinate_job_to_defer_v1[])) AS id"
            ),
            {"queue": QUEUE, "task": TASK_NAME, "args": json.dumps({"run_id": run_id})},
        )
        .scalar_one()
    )
    log.info("deferred procrastinate job %s for run %s", job_id, run_id)
    return int(job_id)


def executor_kind(settings: Settings) -> str:
    kind = (settings.run_executor or "auto").lower()
    if kind == "auto":
        return "inprocess" if is_sqlite(settings.database_url) else "procrastinate"
    if kind not in ("inprocess", "procrastinate"):
        raise ValueError(f"MATCHER_RUN_EXECUTOR must be auto, inprocess or procrastinate, not {kind!r}")
    if kind == "procrastinate" and is_sqlite(settings.database_url):
        raise ValueError("the procrastinate executor needs PostgreSQL; use MATCHER_RUN_EXECUTOR=inprocess")
    return kind


def get_executor(settings: Settings) -> Executor:
    if executor_kind(settings) == "procrastinate":
        return ProcrastinateExecutor()
    return InProcessExecutor(settings.database_url, max_concurrent=2, solver_workers=settings.solver_workers)
