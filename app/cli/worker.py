"""``matcher worker``: executes optimization runs queued on PostgreSQL (procrastinate), delivers
webhooks, sends member notifications and starts/publishes automatic repair runs.

With SQLite there is no worker: the API process runs them on a thread of its own.
"""

from __future__ import annotations

import logging

import typer

from app.cli.common import fail
from app.db import is_sqlite
from app.logging import configure_logging
from app.settings import get_settings


def worker(
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="--no-wait: exit once the queue is empty (one-shot, for scripts and tests)."
    ),
    concurrency: int = typer.Option(1, min=1, max=8, help="Runs executed at once by this worker."),
) -> None:
    """Run the procrastinate worker for the optimization queue (PostgreSQL only)."""
    settings = get_settings()
    if is_sqlite(settings.database_url):
        fail(
            "matcher worker needs PostgreSQL (MATCHER_DATABASE_URL=postgresql+psycopg://...); "
            "with SQLite, runs execute inside the API process and need no worker.",
            code=2,
        )
    configure_logging(settings.log_level)
    from app.services.notifications.dispatcher import start_notifier
    from app.services.runs.executor import leave_the_api_its_cpu
    from app.services.webhooks import start_dispatcher
    from app.tasks import run_worker

    leave_the_api_its_cpu(settings)

    logging.getLogger("app.runs").info("worker starting (wait=%s, concurrency=%s)", wait, concurrency)
    stop_dispatcher = start_dispatcher(settings.database_url)  # webhook delivery also runs here
    stop_notifier = start_notifier(settings.database_url)  # member notifications, reminders, repair
    try:
        run_worker(settings.database_url, wait=wait, concurrency=concurrency)
    finally:
        stop_notifier()
        stop_dispatcher()
