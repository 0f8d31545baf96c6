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
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from sqlalchemy.engine import make_url

from app.services.runs.executor import QUEUE, TASK_NAME
from app.settings import get_settings

log = logging.getLogger("app.runs")

#: procrastinate's own worker heartbeat, and how old it may get before the worker counts as dead;
#: with the run heartbeat (app.services.runs.execute) a killed worker's run and job are dealt with
#: within about 13 s by any other worker's recovery pass.
WORKER_HEARTBEAT_S = 2.0
WORKER_STALLED_AFTER_S = 10.0


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


async def _recovery_pass(application: App, database_url: str) -> None:
    """Jobs of dead workers out of ``doing`` (marked failed), then their runs requeued (a new job)."""
    from app.services.runs.execute import recover_stale_runs
    from app.services.runs.executor import defer_job

    try:
        await _close_stalled_jobs(application, WORKER_STALLED_AFTER_S)
        await asyncio.to_thread(recover_stale_runs, database_url, defer_job)
    except Exception:  # noqa: BLE001 - try again next round
        log.warning("run recovery failed", exc_info=True)


async def _recovery_loop(application: App, database_url: str) -> None:
    from app.services.runs.execute import RECOVERY_EVERY_S

    while True:
        await asyncio.sleep(RECOVERY_EVERY_S)
        await _recovery_pass(application, database_url)


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
    """Work the optimization queue (until stopped, or until the queue is empty when ``wait`` is
    False) while recovering dead workers' jobs and runs every few seconds (first at start)."""
    application = make_app(database_url)
    options.setdefault("update_heartbeat_interval", WORKER_HEARTBEAT_S)
    options.setdefault("stalled_worker_timeout", WORKER_STALLED_AFTER_S)

    async def main() -> None:
        async with application.open_async():
            await _recovery_pass(application, database_url)  # before the first job (also with --no-wait)
            janitor = asyncio.create_task(_recovery_loop(application, database_url))
            try:
                await application.run_worker_async(
                    queues=[QUEUE, SCHEDULE_QUEUE],
                    wait=wait,
                    concurrency=concurrency,
                    listen_notify=wait,
                    install_signal_handlers=install_signal_handlers,
                    additional_context={"database_url": database_url},
                    **options,
                )
            finally:
                janitor.cancel()

    asyncio.run(main())
