"""/metrics in Prometheus text format: admin-only by default, request, run and notification figures;
its own unauthenticated port (MATCHER_METRICS_PORT) on a real `matcher serve`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.models import Notification, NotificationAttempt
from tests.factories import add_run as make_run
from tests.live import free_port
from tests.support import run_matcher

MATCHER = str(Path(sys.executable).parent / "matcher")


def test_metrics_needs_admin_and_counts_requests_and_runs(client, world, db):
    make_run(db, world)
    assert client.get("/v1/areas", headers=world.h("admin")).status_code == 200
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=world.h("reader")).status_code == 403
    r = client.get("/metrics", headers=world.h("admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    assert 'matcher_http_requests_total{method="GET",route="/v1/areas",status="200"}' in body
    assert 'matcher_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/areas"}' in body
    assert 'matcher_runs{status="succeeded"} 1.0' in body and "matcher_run_queue_depth 0.0" in body


def test_metrics_counts_notification_outcomes_by_channel_and_status(client, world, db):
    member_id = next(iter(world.members.values()))
    with db.session() as s:
        for i, (channel, status, attempts_ok) in enumerate(
            [
                ("email", "sent", [False, True]),
                ("email", "failed", [False]),
                ("webhook", "sent", [True]),
                ("log", "pending", []),
            ]
        ):
            n = Notification(
                district_id=world.district_id,
                member_id=member_id,
                event="proposal",
                channel=channel,
                status=status,
                idempotency_key=f"test:{i}",
            )
            s.add(n)
            s.flush()
            for attempt, ok in enumerate(attempts_ok, start=1):
                s.add(NotificationAttempt(notification_id=n.id, attempt=attempt, channel=channel, ok=ok))
        s.commit()
    body = client.get("/metrics", headers=world.h("admin")).text
    for line in (
        'matcher_notifications{channel="email",status="sent"} 1.0',
        'matcher_notifications{channel="email",status="failed"} 1.0',
        'matcher_notifications{channel="webhook",status="sent"} 1.0',
        'matcher_notifications{channel="log",status="pending"} 1.0',
        'matcher_notification_attempts{channel="email",result="error"} 2.0',
        'matcher_notification_attempts{channel="email",result="ok"} 1.0',
        'matcher_notification_attempts{channel="webhook",result="ok"} 1.0',
    ):
        assert line in body, line


def test_matcher_serve_binds_metrics_to_its_own_port(sqlite_template, tmp_path):
    """A real `matcher serve` with MATCHER_METRICS_PORT: /metrics there needs no key, the API's own
    /metrics still does, and the API's request counts show on the metrics port (one process)."""
    database = tmp_path / "serve.db"
    shutil.copy(sqlite_template, database)
    api_port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "MATCHER_DATABASE_URL": f"sqlite:///{database}",
        "MATCHER_METRICS_PORT": str(metrics_port),
        "MATCHER_SCHEDULER": "off",
        "MATCHER_NOTIFY_ENABLED": "false",
        "MATCHER_WEBHOOK_ENABLED": "false",
    }
    proc = subprocess.Popen(
        [MATCHER, "serve", "--port", str(api_port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        metrics = _get_when_up(f"http://127.0.0.1:{metrics_port}/metrics")
        assert metrics.status_code == 200 and "matcher_notifications" in metrics.text
        api = _get_when_up(f"http://127.0.0.1:{api_port}/metrics")
        assert api.status_code == 401  # the API port keeps its key check (MATCHER_METRICS=admin)
        body = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert 'matcher_http_requests_total{method="GET",route="/metrics",status="401"} 1.0' in body
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/v1/areas", timeout=5).status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode in (0, 130, -signal.SIGINT), output  # both listeners stopped: the process ended


def _get_when_up(url: str, timeout_s: float = 90.0) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.1)


def test_metrics_port_needs_a_single_worker(tmp_path):
    """Request counts live in the process that answered: N workers behind one metrics port would lie."""
    result = run_matcher(["serve", "--workers", "2"], f"sqlite:///{tmp_path / 'x.db'}", MATCHER_METRICS_PORT="9108")
    assert result.returncode == 2 and "MATCHER_METRICS_PORT" in result.stderr, result
