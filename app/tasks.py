"""procrastinate (PostgreSQL job queue) wiring for optimization runs.

The API defers a job in the same transaction that inserts the run row (see
``app.services.runs.executor.defer_job``); ``matcher worker`` runs procrastinate's worker on
the ``optimization`` queue, and each job executes the run with the same code path as every
other executor. The job carries only the run id: the worker passes the database URL it
serves through the job context, so no connection string is ever stored in the jobs table.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from sqlalchemy.engine import make_url

from app.services.runs.executor import QUEUE, TASK_NAME
from app.settings import get_settings

log = logging.getLogger("app.runs")

RECOVERY_EVERY_S = 30.0


def conninfo(database_url: str) -> str:
    """libpq connection string from our SQLAlchemy URL (postgresql+psycopg:// -> postgresql://)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        return ""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run_optimization(context: JobContext, run_id: int) -> str:
    """Execute one run (its solve runs on a separate thread inside ``execute_run``)."""
    from app.services.runs.execute import execute_run

    url = (context.additional_context or {}).get("database_url") or get_settings().database_url
    status = execute_run(url, int(run_id))
    log.info("job for run %s finished: %s", run_id, status)
    return status


SCHEDULE_TASK = "weekly_schedule_tick"
SCHEDULE_QUEUE = "schedule"


def weekly_schedule_tick(context: JobContext, timestamp: int) -> int:
    """Start the districts' due weekly runs (app.services.schedule.run_due)."""
    from app.services.runs.executor import ProcrastinateExecutor
    from app.services.schedule import tick

    url = (context.additional_context or {}).get("database_url") or get_settings().database_url
    return tick(url, ProcrastinateExecutor(), now=datetime.fromtimestamp(timestamp, UTC))


def make_app(database_url: str) -> App:
    """A procrastinate App bound to one database, with our task registered."""
    application = App(connector=PsycopgConnector(conninfo=conninfo(database_url)))
    application.task(name=TASK_NAME, queue=QUEUE, pass_context=True)(run_optimization)
    # Every worker defers the same periodic job; procrastinate keeps one job per minute, and the
    # (district, period) row in run_due keeps each week from starting twice whatever happens.
    application.periodic(cron="* * * * *", periodic_id="weekly-schedule")(
        application.task(name=SCHEDULE_TASK, queue=SCHEDULE_QUEUE, pass_context=True)(weekly_schedule_tick)
    )
    return application


# For procrastinate's own CLI (``procrastinate --app=app.tasks.app ...``).
app = make_app(get_settings().database_url)


def _recovery_loop(database_url: str, stop: threading.Event) -> None:
    from app.services.runs.execute import recover_stale_runs
    from app.services.runs.executor import defer_job

    while not stop.wait(RECOVERY_EVERY_S):
        try:
            recover_stale_runs(database_url, defer_job)
        except Exception:  # noqa: BLE001 - try again next round
            log.warning("periodic run recovery failed", exc_info=True)


async def _close_stalled_jobs(application: App, seconds_since_heartbeat: float) -> list[int]:
    """Jobs a dead worker left in ``doing`` are marked failed (the run itself is requeued or
    failed by ``recover_stale_runs``, which defers a fresh job), so procrastinate's own
    table tells the truth too."""
    from procrastinate.jobs import Status

    stalled = await application.job_manager.get_stalled_jobs(
        queue=QUEUE, task_name=TASK_NAME, seconds_since_heartbeat=seconds_since_heartbeat
    )
    ids = [job.id for job in stalled if job.id is not None]
    for job_id in ids:
        await application.job_manager.finish_job_by_id_async(job_id, Status.FAILED, delete_job=False)
    if ids:
        log.warning("marked stalled procrastinate job(s) %s failed (their worker died)", ids)
    return ids


def close_stalled_jobs(database_url: str, seconds_since_heartbeat: float = 60.0) -> list[int]:
    application = make_app(database_url)

    async def main() -> list[int]:
        async with application.open_async():
            return await _close_stalled_jobs(application, seconds_since_heartbeat)

    return asyncio.run(main())


def run_worker(
    database_url: str, *, wait: bool = True, concurrency: int = 1, install_signal_handlers: bool = True, **options: Any
) -> None:
    """Recover stale runs, then work the optimization queue (until stopped, or until the
    queue is empty when ``wait`` is False). Recovery repeats every 30 s while it runs."""
    from app.services.runs.execute import recover_stale_runs
    from app.services.runs.executor import defer_job

    recover_stale_runs(database_url, defer_job)
    application = make_app(database_url)
    stop = threading.Event()
    janitor = threading.Thread(target=_recovery_loop, args=(database_url, stop), name="run-recovery", daemon=True)
    janitor.start()

    async def main() -> None:
        async with application.open_async():
            try:
                await _close_stalled_jobs(application, 60.0)
            except Exception:  # noqa: BLE001 - housekeeping must not keep the worker from starting
                log.warning("could not check for stalled jobs", exc_info=True)
            await application.run_worker_async(
                queues=[QUEUE, SCHEDULE_QUEUE],
                wait=wait,
                concurrency=concurrency,
                listen_notify=wait,
                install_signal_handlers=install_signal_handlers,
                additional_context={"database_url": database_url},
                **options,
            )

    try:
        asyncio.run(main())
    finally:
        stop.set()
