"""Where a queued run gets executed: one small interface, two implementations.

``enqueue(session, run_id)`` is called inside the unit of work that inserts (or requeues) the
run row, so the hand-off shares that transaction's fate:

* ``InProcessExecutor`` (SQLite, the embedded default) starts the run on a background thread
  of this process, but only *after* the session commits; a rollback starts nothing.
* ``ProcrastinateExecutor`` (PostgreSQL) inserts a procrastinate job with the SQL function
  procrastinate itself uses (``procrastinate_defer_jobs_v1``) on the session's own connection,
  so a commit always has its job and a rollback leaves none. ``matcher worker`` executes it.
"""

from __future__ import annotations

import json
import logging
import threading
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
    """A thread per run, at most ``max_concurrent`` solving at once in this process."""

    name = "inprocess"
    _slots: threading.Semaphore | None = None
    _lock = threading.Lock()

    def __init__(self, database_url: str, max_concurrent: int = 2):
        self.database_url = database_url
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
        thread = threading.Thread(target=self._run, args=(run_id,), name=f"run-{run_id}", daemon=True)
        thread.start()
        return thread

    def _run(self, run_id: int) -> None:
        from app.services.runs.execute import execute_run

        assert InProcessExecutor._slots is not None
        with InProcessExecutor._slots:
            try:
                execute_run(self.database_url, run_id)
            except Exception:  # noqa: BLE001 - a background thread must log, never die silently
                log.exception("run %s failed in the in-process executor", run_id)


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
    return InProcessExecutor(settings.database_url, max_concurrent=2)
