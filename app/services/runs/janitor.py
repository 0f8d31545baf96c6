"""Run recovery for the in-process executor (SQLite, the embedded default).

A process that dies mid-run leaves its runs in ``running`` with a stale heartbeat; the next
API process to start requeues or fails them (``recover_stale_runs``), restarts queued ones,
and keeps checking every 3 s (a stale heartbeat is 10 s old). A solve process that dies while
this API runs is noticed at once by its supervisor (``InProcessExecutor``). At shutdown the
API ends its solve processes. With procrastinate, ``matcher worker`` does all this instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.services.runs.execute import RECOVERY_EVERY_S, queued_run_ids, recover_stale_runs
from app.services.runs.executor import InProcessExecutor, executor_kind
from app.settings import Settings

log = logging.getLogger("app.runs")


def start_run_recovery(settings: Settings, interval_s: float = RECOVERY_EVERY_S) -> Callable[[], None]:
    """Recover now, then periodically on a daemon thread; returns ``stop``."""
    stop = threading.Event()
    try:
        if executor_kind(settings) != "inprocess":
            return stop.set
        executor = InProcessExecutor(settings.database_url, solver_workers=settings.solver_workers)
        recover_stale_runs(settings.database_url, executor.enqueue)
        for run_id in queued_run_ids(settings.database_url):
            executor.start(run_id)
    except Exception:  # noqa: BLE001 - the API must come up even if recovery cannot run now
        log.warning("startup run recovery failed", exc_info=True)
        return stop.set

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                recover_stale_runs(settings.database_url, executor.enqueue)
            except Exception:  # noqa: BLE001 - the loop must outlive a failed pass
                log.warning("periodic run recovery failed", exc_info=True)

    threading.Thread(target=loop, name="run-recovery", daemon=True).start()

    def stop_all() -> None:
        stop.set()
        InProcessExecutor.stop_children(settings.database_url)

    return stop_all
