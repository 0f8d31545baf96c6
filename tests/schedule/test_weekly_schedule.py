"""The weekly schedule: the latest tick only, each period once, per district, on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.models import District, OptimizationRun, ScheduledPeriod
from app.services.runs.executor import SynchronousExecutor
from app.services.schedule import planned_week, run_due, tick

# Wednesday 2026-12-02 10:00 Beijing = 02:00 UTC; the latest Monday 06:00 tick is 2026-11-30.
WEDNESDAY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _districts(db, schedules: dict[str, dict | None]) -> None:
    with db.session() as s:
        for code, schedule in schedules.items():
            s.add(District(code=code, name=code, settings={"schedule": schedule} if schedule else {}))
        s.commit()


def test_each_period_runs_once_and_missed_ticks_run_once(db):
    monday_6 = {"enabled": True, "weekday": 0, "time": "06:00", "publish": False}
    _districts(db, {"d1": monday_6, "d2": {**monday_6, "time": "23:00"}, "d3": None})
    with db.session() as s:
        started = run_due(s, executor=SynchronousExecutor(), now=WEDNESDAY)
        s.commit()
        assert sorted(r.period for r in started) == ["2026-W50", "2026-W50"]  # d3 has no schedule
        runs = list(s.scalars(select(OptimizationRun).order_by(OptimizationRun.district_id)))
        assert [(r.week, r.created_by, r.status) for r in runs] == [("2026-W50", "weekly schedule", "queued")] * 2
    with db.session() as s:  # the same period again: nothing
        assert run_due(s, executor=SynchronousExecutor(), now=WEDNESDAY) == []
        s.commit()
    # the ticker was down for three weeks: one run, for the latest tick's week, not three
    later = datetime(2026, 12, 23, 2, 0, tzinfo=UTC)
    with db.session() as s:
        started = run_due(s, executor=SynchronousExecutor(), now=later)
        s.commit()
        assert [r.period for r in started] == ["2026-W53", "2026-W53"]
        assert s.scalar(select(func.count()).select_from(ScheduledPeriod)) == 4


def test_concurrent_tickers_start_a_period_once(db):
    _districts(db, {f"d{i}": {"enabled": True, "weekday": 0, "time": "06:00"} for i in range(3)})
    results: list[int] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(tick(db.url, SynchronousExecutor(), now=WEDNESDAY))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OptimizationRun)) == 3
        assert s.scalar(select(func.count()).select_from(ScheduledPeriod)) == 3
    assert sum(results) == 3, (results, errors)


def test_planned_week_is_the_coming_week():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert planned_week(datetime(2026, 11, 30, 6, 0, tzinfo=tz)) == "2026-W50"
    assert planned_week(datetime(2026, 12, 28, 6, 0, tzinfo=tz)) == "2027-W01"
