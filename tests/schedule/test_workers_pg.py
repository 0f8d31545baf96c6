"""Three districts' scheduled weeks on PostgreSQL, executed by two `matcher worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.models import OptimizationRun, ScheduledPeriod
from app.services.districts import create_district
from app.services.identity import NO_DISTRICT, Caller
from app.services.runs.executor import ProcrastinateExecutor
from app.services.schedule import tick
from tests.schedule.test_weekly_schedule import WEDNESDAY

MATCHER = str(Path(sys.executable).parent / "matcher")
PLATFORM = Caller(api_key_id=0, name="test", role="platform", district_id=NO_DISTRICT)


def test_two_workers_three_districts(pg_db):
    schedule = {"enabled": True, "weekday": 0, "time": "06:00", "publish": False}
    with pg_db.session() as s:
        for code in ("dongcheng", "xicheng", "fengtai"):
            created = create_district(
                s, PLATFORM, code=code, name=code, areas=[{"code": "A1", "name": "一", "kind": "street"}]
            )
            created.district.settings = {"schedule": schedule, "time_limit_s": 1}
        s.commit()
    assert tick(pg_db.url, ProcrastinateExecutor(), now=WEDNESDAY) == 3
    assert tick(pg_db.url, ProcrastinateExecutor(), now=WEDNESDAY) == 0  # a second ticker: nothing new
    env = {**os.environ, "MATCHER_DATABASE_URL": pg_db.url, "MATCHER_SCHEDULER": "off"}
    env.pop("MATCHER_RUN_EXECUTOR", None)
    workers = [
        subprocess.Popen([MATCHER, "worker", "--no-wait"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=240)[0].decode() for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    with pg_db.session() as s:
        runs = list(s.scalars(select(OptimizationRun).order_by(OptimizationRun.district_id)))
        assert [r.status for r in runs] == ["succeeded"] * 3, [(r.status, r.error) for r in runs]
        assert len({r.district_id for r in runs}) == 3
        periods = list(s.scalars(select(ScheduledPeriod)))
        assert sorted((p.district_id, p.period) for p in periods) == sorted((r.district_id, "2026-W50") for r in runs)
