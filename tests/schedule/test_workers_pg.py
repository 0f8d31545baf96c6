"""Three districts' scheduled weeks on PostgreSQL (two created and scheduled with the CLI), executed
by two `matcher worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.models import District, OptimizationRun, ScheduledPeriod
from app.services.districts import create_district
from app.services.identity import NO_DISTRICT, Caller
from app.services.runs.executor import ProcrastinateExecutor
from app.services.schedule import tick
from tests.schedule.test_weekly_schedule import WEDNESDAY
from tests.support import run_matcher

MATCHER = str(Path(sys.executable).parent / "matcher")
PLATFORM = Caller(api_key_id=0, name="test", role="platform", district_id=NO_DISTRICT)


def test_two_workers_three_districts(pg_db, tmp_path):
    schedule = {"enabled": True, "weekday": 0, "time": "06:00", "publish": False}
    areas = tmp_path / "areas.csv"
    areas.write_text("code,name_zh,kind,lat_approx,lon_approx\nA1,一街道,street,39.9,116.4\n", encoding="utf-8")
    for code, name in (("dongcheng", "东城区"), ("xicheng", "西城区")):  # the way an operator does it
        created = run_matcher(["districts", "create", code, "--name", name, "--areas", str(areas)], pg_db.url)
        assert created.returncode == 0, created.stderr
        scheduled = run_matcher(
            ["schedule", "set", "--district", code, "--enabled", "--weekday", "0", "--time", "06:00", "--no-publish"],
            pg_db.url,
        )
        assert scheduled.returncode == 0, scheduled.stderr
    with pg_db.session() as s:
        for district in s.scalars(select(District)):
            district.settings = {**(district.settings or {}), "time_limit_s": 1}
        created = create_district(
            s, PLATFORM, code="fengtai", name="丰台区", areas=[{"code": "A1", "name": "一", "kind": "street"}]
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
