"""Automatic repair: a decline or a changed/cancelled need re-plans its week by itself.

``mark_for_repair`` (called in the transaction of the decline or the change) sets the week's
``RepairMark.due_at`` to now + ``MATCHER_REPAIR_QUIET_S`` (pushing it back on every further
mark), so a burst of declines leads to one solve. ``scan`` (run by the notification dispatcher
in ``matcher worker`` and, with SQLite, in the API process) then

1. starts a ``mode=repair`` run for every due mark through the ordinary run service (the
   one-active-run rule holds: while another run of the week is active the mark waits a little
   and tries again). A repair run re-plans only the open demands and keeps every other
   proposal and every accepted assignment as it is (``problem_builder``); declined pairs are
   forbidden pairs.
2. publishes a repair run it started once it succeeded, if the district has
   ``auto_publish_repairs``; publishing queues the ``repair_proposal`` messages of the newly
   proposed members in the same transaction (``publish.py``).

Both steps are compare-and-set on the mark, so two dispatchers never start two runs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.enums import Role, RunMode, RunStatus
from app.domain.times import to_local_naive
from app.errors import Problem
from app.models import District, OptimizationRun, RepairMark
from app.models.base import utcnow
from app.services.audit import audited_update
from app.services.identity import Caller
from app.settings import NotifySettings

log = logging.getLogger("app.repair")

RETRY_BUSY_S = 3.0  # a week with an active run is tried again after this
REPAIR_CALLER_NAME = "automatic repair"


def week_of(moment: datetime) -> tuple[date, date]:
    """The local (Asia/Shanghai) ISO week of a stored timestamp: Monday .. Sunday."""
    day = to_local_naive(moment).date()
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def mark_for_repair(
    session: Session, *, district_id: int, starts_at: datetime, reason: str, cfg: NotifySettings | None = None
) -> RepairMark:
    """Ask for a repair of the week of ``starts_at`` after the quiet period (flushes, no commit)."""
    cfg = cfg or NotifySettings()
    start, end = week_of(starts_at)
    now = utcnow()
    due = now + timedelta(seconds=cfg.repair_quiet_s)
    where = (RepairMark.district_id == district_id, RepairMark.window_start == start, RepairMark.window_end == end)
    mark = session.scalar(select(RepairMark).where(*where))
    if mark is None:
        mark = RepairMark(district_id=district_id, window_start=start, window_end=end, marks=0)
        try:
            with session.begin_nested():
                session.add(mark)
                session.flush()
        except IntegrityError:  # a concurrent first mark of the same week won
            mark = session.scalars(select(RepairMark).where(*where)).one()
    if mark.due_at is None:
        mark.marked_at = now
    mark.due_at = due
    mark.marks = (mark.marks or 0) + 1
    mark.reason = reason[:200]
    session.flush()
    return mark


def _repair_caller(district_id: int) -> Caller:
    return Caller(api_key_id=0, name=REPAIR_CALLER_NAME, role=Role.ADMIN, district_id=district_id)


def _start_due(factory: sessionmaker[Session], now: datetime, cfg: NotifySettings, executor) -> int:
    from app.services.runs.service import create_run

    started = 0
    with factory() as s:
        due = list(s.scalars(select(RepairMark.id).where(RepairMark.due_at <= now).order_by(RepairMark.id)))
    for mark_id in due:
        with factory() as s:
            mark = s.get(RepairMark, mark_id)
            if mark is None or mark.due_at is None:
                continue
            seen_due = mark.due_at
            data = {
                "window_start": mark.window_start,
                "window_end": mark.window_end,
                "mode": RunMode.REPAIR.value,
                "time_limit_s": cfg.repair_time_limit_s,
            }
            try:
                run = create_run(s, _repair_caller(mark.district_id), data=data, executor=executor)
            except Problem as exc:
                s.rollback()
                if exc.code != "run_already_active":
                    raise
                audited_update(
                    s,
                    RepairMark,
                    RepairMark.id == mark_id,
                    RepairMark.due_at == seen_due,
                    values={"due_at": now + timedelta(seconds=RETRY_BUSY_S)},
                )
                s.commit()
                continue
            claimed = audited_update(
                s,
                RepairMark,
                RepairMark.id == mark_id,
                RepairMark.due_at == seen_due,
                values={"due_at": None, "run_id": run.id, "marks": 0, "updated_at": now},
            )
            if len(claimed) != 1:  # marked again meanwhile, or another dispatcher took it
                s.rollback()
                continue
            s.commit()
            started += 1
            log.info("repair run %s started for %s..%s", run.id, mark.window_start, mark.window_end)
    return started


def _publish_finished(factory: sessionmaker[Session]) -> int:
    from app.services.runs.publish import publish_run

    published = 0
    with factory() as s:
        ready = s.execute(
            select(OptimizationRun.id, OptimizationRun.district_id)
            .join(RepairMark, RepairMark.run_id == OptimizationRun.id)
            .join(District, District.id == OptimizationRun.district_id)
            .where(
                OptimizationRun.status == RunStatus.SUCCEEDED,
                OptimizationRun.mode == RunMode.REPAIR,
                District.auto_publish_repairs.is_(True),
            )
        ).all()
    for run_id, district_id in ready:
        with factory() as s:
            try:
                _, summary = publish_run(s, _repair_caller(district_id), run_id=run_id)
                s.commit()
            except Problem as exc:  # e.g. a newer run was published meanwhile: leave it to the office
                s.rollback()
                log.warning("repair run %s not published: %s", run_id, exc.detail)
                audited_update(s, RepairMark, RepairMark.run_id == run_id, values={"run_id": None})
                s.commit()
                continue
        published += 1
        log.info("repair run %s published: %s", run_id, summary)
    return published


def executor_for(url: str):
    """The run executor of this process (settings), bound to the database it dispatches for."""
    from app.services.runs.executor import get_executor
    from app.settings import get_settings

    return get_executor(get_settings().model_copy(update={"database_url": url}))


def scan(factory: sessionmaker[Session], *, now: datetime, cfg: NotifySettings, executor=None) -> dict[str, int]:
    """One repair pass: start the due runs, publish the finished ones."""
    if executor is None:
        executor = executor_for(str(factory.kw["bind"].url.render_as_string(hide_password=False)))
    return {"repairs_started": _start_due(factory, now, cfg, executor), "repairs_published": _publish_finished(factory)}
