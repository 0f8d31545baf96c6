"""/metrics in Prometheus text format: admin-only by default, request and run figures."""

from __future__ import annotations

from tests.factories import add_run as make_run


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
