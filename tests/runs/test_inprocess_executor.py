"""The in-process executor starts a run only once the transaction that queued it has committed."""

from __future__ import annotations

from sqlalchemy import text

from app.services.runs.executor import InProcessExecutor


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
