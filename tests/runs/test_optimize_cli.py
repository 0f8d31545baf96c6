"""``matcher optimize`` end to end on a temp SQLite file: once as the ops script runs it (the
installed binary in a subprocess), the other calls in process (``run_matcher``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.models import Assignment, OptimizationRun
from tests.factories import WEEK, add_demand
from tests.support import run_matcher, stored_plan_violations

MATCHER = os.path.join(os.path.dirname(sys.executable), "matcher")
SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def _in_process(db, *args: str, lang: str = "en_US.UTF-8"):
    return run_matcher(["optimize", "--week", WEEK, *args], db.url, MATCHER_DISTRICT_CODE="chaoyang", LANG=lang)


def _optimize(db, *args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess:
    env = {**os.environ, "MATCHER_DATABASE_URL": db.url, "MATCHER_DISTRICT_CODE": "chaoyang", "LANG": lang}
    for name in ("LC_ALL", "LC_MESSAGES"):
        env.pop(name, None)
    return subprocess.run(
        [MATCHER, "optimize", "--week", WEEK, *args], env=env, capture_output=True, text=True, timeout=180
    )


@SQLITE_ONLY
def test_optimize_json_publish(world, db, tmp_path):
    add_demand(db, world, skills=("law",))
    add_demand(db, world, community="朝外社区", skills=("finance",), day=1)
    add_demand(db, world, community="清友园社区", skills=("teaching",), day=2, min_members=2, max_members=2)
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"distance": 0.5, "lexicographic": True}))
    done = _optimize(db, "--json", "--time-limit", "3", "--weights", str(weights), "--publish")
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)  # exactly one JSON object on stdout
    assert {"run", "optimized", "fixed_pairing", "greedy", "load", "published"} <= set(out)
    assert out["run"]["status"] == "published" and out["run"]["weights"] == {"distance": 0.5, "lexicographic": True}
    assert out["optimized"]["demands_covered"] == 2 and out["optimized"]["demands_total"] == 3
    assert out["published"]["published"] == 2 and out["load"]["load_peak"] == 1
    assert "solving" in done.stderr  # the progress display goes to stderr
    run_id = out["run"]["id"]
    with db.session() as s:
        statuses = {a.status for a in s.scalars(select(Assignment).where(Assignment.run_id == run_id))}
    assert statuses == {"published"}
    assert stored_plan_violations(db, run_id) == []

    text = _in_process(db, "--time-limit", "2", lang="zh_CN.UTF-8")  # the table for people, in their language
    assert text.returncode == 0, text.stderr[-3000:]
    assert "定点包片" in text.stdout and "贪心" in text.stdout and "满足的需求" in text.stdout
    assert "批次" in text.stdout and "求解中" in text.stderr


@SQLITE_ONLY
def test_optimize_errors_exit_non_zero(world, db, tmp_path):
    bad = _in_process(db, "--scope", "JW,NOPE")
    assert bad.returncode == 2 and "scope" in bad.stderr
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"gravity": 1}))
    bad = _in_process(db, "--weights", str(weights))
    assert bad.returncode == 2 and "gravity" in bad.stderr
    with db.session() as s:
        assert s.scalars(select(OptimizationRun)).all() == []
