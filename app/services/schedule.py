"""The weekly optimisation on a schedule, per district (``districts.settings.schedule``).

``run_due`` is the whole rule and every ticker calls it: procrastinate's periodic task in
``matcher worker`` (PostgreSQL) and the in-process ticker of ``matcher serve`` (SQLite). For each
active district with the schedule enabled it takes the *latest* tick not in the future (say
Monday 06:00 Asia/Shanghai) and the week that tick plans (the ISO week after the tick's week).
If no ``ScheduledPeriod`` row exists for that district and week, it inserts one and starts a
run. So:

* a period runs at most once: the unique (district, period) row is inserted in a SAVEPOINT and a
  concurrent ticker's insert fails there and backs off, on both databases;
* a missed period (no ticker alive at 06:00) runs once when one comes back, never once per
  missed tick, because only the latest tick is ever considered.

With ``publish: true`` a later tick publishes the run once it has succeeded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.enums import Role, RunStatus
from app.errors import Problem
from app.models import District, OptimizationRun, ScheduledPeriod
from app.models.base import utcnow
from app.schemas.district_settings import ScheduleSettings
from app.services.district_settings import effective
from app.services.identity import Caller
from app.services.runs.executor import Executor

log = logging.getLogger("app.schedule")


@dataclass(frozen=True)
class Due:
    tick: datetime  # aware, in the district's time zone
    period: str  # ISO week planned, e.g. 2026-W50


def latest_tick(schedule: ScheduleSettings, tz: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(tz)
    hh, mm = (int(x) for x in schedule.time.split(":"))
    day = local.date() - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    tick = datetime.combine(day, time(hh, mm), tzinfo=tz)
    return tick if tick <= local else tick - timedelta(days=7)


def planned_week(tick: datetime) -> str:
    """The coming week: the ISO week after the tick's own week (a week of lead time)."""
    monday = tick.date() - timedelta(days=tick.weekday()) + timedelta(days=7)
    year, week, _ = date.isocalendar(monday)
    return f"{year}-W{week:02d}"


def due(district: District, now: datetime) -> Due | None:
    schedule = effective(district).schedule
    if not district.active or not schedule.enabled:
        return None
    tick = latest_tick(schedule, ZoneInfo(district.timezone), now)
    return Due(tick=tick, period=planned_week(tick))


def run_due(session: Session, *, executor: Executor, now: datetime | None = None) -> list[ScheduledPeriod]:
    """Start every district's due weekly run (at most once per period); publish finished ones."""
    from app.services.runs.service import create_run

    now = now or utcnow()
    started: list[ScheduledPeriod] = []
    for district in session.scalars(select(District).where(District.active.is_(True)).order_by(District.id)):
        d = due(district, now)
        if d is None:
            continue
        settings = effective(district)
        row = ScheduledPeriod(district_id=district.id, period=d.period, publish=settings.schedule.publish)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue  # this period is started already (here or by another ticker)
        caller = Caller(api_key_id=0, name="weekly schedule", role=Role.ADMIN, district_id=district.id)
        data = {
            "week": d.period,
            "time_limit_s": min(300.0, max(1.0, settings.time_limit_s)),
            "weights": settings.weights.model_dump(exclude_none=True),
        }
        try:
            with session.begin_nested():
                row.run_id = create_run(session, caller, data=data, executor=executor).id
        except Problem as exc:  # e.g. a run for that week is already active: recorded, not retried
            row.error = (exc.detail or exc.code)[:500]
        session.flush()
        log.info("scheduled run for %s %s: run %s", district.code, d.period, row.run_id)
        started.append(row)
    _publish_finished(session)
    return started


def _publish_finished(session: Session) -> None:
    from app.services.runs.publish import publish_run

    rows = session.scalars(
        select(ScheduledPeriod)
        .join(OptimizationRun, OptimizationRun.id == ScheduledPeriod.run_id)
        .where(
            ScheduledPeriod.publish.is_(True),
            ScheduledPeriod.published.is_(False),
            OptimizationRun.status == RunStatus.SUCCEEDED,
        )
    )
    for row in rows:
        assert row.run_id is not None
        caller = Caller(api_key_id=0, name="weekly schedule", role=Role.ADMIN, district_id=row.district_id)
        try:
            with session.begin_nested():
                publish_run(session, caller, run_id=row.run_id)
        except Problem as exc:
            row.error = (exc.detail or exc.code)[:500]
        row.published = True
        session.flush()


def tick(database_url: str, executor: Executor, *, now: datetime | None = None) -> int:
    """One scheduler tick in its own transaction; returns how many periods it started."""
    from app.db import session_scope

    with session_scope(database_url) as session:
        return len(run_due(session, executor=executor, now=now))


def start_inprocess_scheduler(settings: object) -> Callable[[], None]:
    """The SQLite ticker of ``matcher serve`` (procrastinate's periodic task does it on PostgreSQL)."""
    from app.db import is_sqlite
    from app.services.runs.executor import get_executor
    from app.settings import Settings

    assert isinstance(settings, Settings)
    stop = threading.Event()
    mode = (settings.scheduler or "auto").lower()
    if mode == "off" or (mode == "auto" and not is_sqlite(settings.database_url)):
        return stop.set
    executor = get_executor(settings)

    def loop() -> None:
        while True:
            try:
                tick(settings.database_url, executor)
            except Exception:  # noqa: BLE001 - a failing tick is retried at the next one
                log.warning("weekly schedule tick failed", exc_info=True)
            if stop.wait(settings.scheduler_interval_s):
                return

    threading.Thread(target=loop, name="weekly-schedule", daemon=True).start()
    return stop.set
