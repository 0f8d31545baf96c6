"""优化 pages over HTTP on both databases: start a run with scope and bounded weights, watch the
live fragment until it finishes, the baselines, the diff against the current plan, publish; roles."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from app.models import Assignment, OptimizationRun
from tests.console.support import sign_in


def _wait_finished(c: TestClient, run_id: int, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        live = c.get(f"/console/runs/{run_id}/live", headers={"HX-Request": "true"}).text
        status = re.search(r'data-status="(\w+)"', live).group(1)
        if status not in ("queued", "running"):
            assert "hx-trigger" not in live  # polling stops once the run is over
            return live
        assert 'hx-trigger="every 1s"' in live
        time.sleep(0.3)
    raise AssertionError("run did not finish")


def test_start_watch_diff_and_publish(db, cw, app, settings, monkeypatch):
    if db.kind == "postgresql":  # no worker process here: execute in-process on PostgreSQL too
        monkeypatch.setattr(settings, "run_executor", "inprocess")
    with TestClient(app) as c:
        csrf = sign_in(c, cw.w.keys["admin"])
        form = c.get("/console/runs", params={"week": cw.week}).text
        assert 'type="range"' in form and 'name="duty"' in form and 'max="100"' in form
        bad = c.post("/console/runs", data={"csrf_token": csrf, "week": cw.week, "distance": "99"})
        assert bad.status_code == 422
        r = c.post("/console/runs", data={"csrf_token": csrf, "week": cw.week, "time_limit_s": "5",
                                          "scope": ["JW", "CW", "LGY"], "quality": "20"}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
        run_id = int(r.headers["location"].rsplit("/", 1)[1])
        live = _wait_finished(c, run_id)
        assert "优化方案与基线对比" in live and "定点包片" in live and "贪心分配" in live
        assert "与当前方案的差异" in live and 'id="publish-run"' in live
        counts = {k: int(n) for k, n in re.findall(r'id="diff-(\w+)"><span class="n">(\d+)', live)}
        assert counts["untouched"] == 1  # 李娜's accepted assignment stays as it is
        assert sum(counts.values()) >= 1
        r = c.post(f"/console/runs/{run_id}/publish", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        assert "方案已发布" in c.get(r.headers["location"]).text
    with db.session() as s:
        run = s.get(OptimizationRun, run_id)
        assert run.status == "published" and run.weights == {"quality": 20.0}
        assert s.get(Assignment, cw.assignments["fin"]).status == "accepted"


def test_reader_and_liaison_cannot_manage_runs(db, cw, app):
    for role in ("reader", "liaison_jw"):
        with TestClient(app) as c:
            csrf = sign_in(c, cw.w.keys[role])
            page = c.get("/console/runs").text
            assert 'id="start-run"' not in page
            assert c.post("/console/runs", data={"csrf_token": csrf, "week": cw.week}).status_code == 403
            assert c.post(f"/console/runs/{cw.run_id}/cancel", data={"csrf_token": csrf}).status_code == 403
    with db.session() as s:
        assert s.query(OptimizationRun).count() == 1
