"""A client generated from /openapi.json by openapi-python-client works against a live server:
cursor paging, an idempotent create, runs created through the typed week and window forms of the
body, a run, the duty report, and a 404 parsed as a Problem.

The client is generated once per module into a temporary directory and imported from there;
each test then talks to uvicorn serving a fresh database of each kind.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from tests.factories import add_run
from tests.live import serve_app
from tests.support import app_for

PACKAGE = "matcher_client"
DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, importable as ``matcher_client``."""
    root = tmp_path_factory.mktemp("client")
    spec = TestClient(create_app()).get("/openapi.json").json()  # no lifespan: the document only
    (root / "openapi.json").write_text(json.dumps(spec))
    (root / "config.yaml").write_text(
        f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n"
    )
    tool = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(tool), "generate", "--path", "openapi.json", "--output-path", f"src/{PACKAGE}", "--meta", "none"]
        + ["--config", "config.yaml"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr  # no schema dropped
    sys.path.insert(0, str(root / "src"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root / "src"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_works_against_a_live_server(generated, world, settings, db):
    demands_list = importlib.import_module(f"{PACKAGE}.api.demands.demands_list")
    demands_create = importlib.import_module(f"{PACKAGE}.api.demands.demands_create")
    demands_get = importlib.import_module(f"{PACKAGE}.api.demands.demands_get")
    runs_get = importlib.import_module(f"{PACKAGE}.api.optimization_runs.runs_get")
    runs_create = importlib.import_module(f"{PACKAGE}.api.optimization_runs.runs_create")
    reports_duty = importlib.import_module(f"{PACKAGE}.api.reports.reports_duty")
    models = importlib.import_module(f"{PACKAGE}.models")
    run_id = add_run(db, world)

    with serve_app(app_for(settings)) as url:
        client = generated.AuthenticatedClient(base_url=url, token=world.keys["admin"])

        # create with an Idempotency-Key; the replay returns the same demand
        body = models.DemandCreate.from_dict(
            {
                "community_id": world.communities["建外社区"],
                "title": "法律咨询进社区",
                "channel": "liaison_station",
                "starts_at": f"{DAY}T09:00:00+08:00",
                "ends_at": f"{DAY}T11:00:00+08:00",
            }
        )
        first = demands_create.sync_detailed(client=client, body=body, idempotency_key="gen-client-1")
        assert first.status_code == 201, first.content
        replay = demands_create.sync_detailed(client=client, body=body, idempotency_key="gen-client-1")
        assert replay.status_code == 201 and replay.parsed.id == first.parsed.id
        second = demands_create.sync(client=client, body=body, idempotency_key="gen-client-2")
        assert isinstance(second, models.DemandOut) and second.title == "法律咨询进社区"

        # list with a cursor
        seen, cursor = [], generated.types.UNSET
        while True:
            page = demands_list.sync(client=client, limit=1, cursor=cursor)
            assert isinstance(page, models.PageDemandOut), page
            seen += [d.id for d in page.items]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert seen == [first.parsed.id, second.id]

        # a run and the duty report parse into their models
        run = runs_get.sync(client=client, run_id=run_id)
        assert isinstance(run, models.RunOut) and run.id == run_id
        _runs_through_the_typed_body(client, models, runs_create, runs_get)
        report = reports_duty.sync(client=client, year=datetime.now().year)
        assert isinstance(report, models.DutyReportOut), report
        assert {m.name for m in report.members} == set(world.members)
        assert all(isinstance(m, models.DutyReportMember) for m in report.members)

        # a 404 is a Problem with its stable code
        missing = demands_get.sync_detailed(client=client, demand_id=999_999)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem) and missing.parsed.code == "not_found"


def _runs_through_the_typed_body(client, models, runs_create, runs_get) -> None:
    """The run-create body is ``oneOf`` a week form and a window form, each a typed model; a run
    is created through each (past windows with no demands, so there is nothing to solve)."""
    by_week = models.RunCreateWeek(week="2025-W02", time_limit_s=1)
    by_window = models.RunCreateWindow(window_start=date(2025, 1, 13), window_end=date(2025, 1, 15), time_limit_s=1)
    created = [runs_create.sync(client=client, body=body) for body in (by_week, by_window)]
    assert all(isinstance(r, models.RunOut) for r in created), created
    assert [(r.week, r.window_start, r.window_end) for r in created] == [
        ("2025-W02", date(2025, 1, 6), date(2025, 1, 12)),
        (None, date(2025, 1, 13), date(2025, 1, 15)),
    ]
    for run in created:
        stored = runs_get.sync(client=client, run_id=run.id)
        assert (stored.window_start, stored.time_limit_s) == (run.window_start, 1.0)
    # the typed forms cannot carry both (no additional properties); sent raw, both are refused
    both = {"week": "2025-W04", "window_start": "2025-01-20", "window_end": "2025-01-26"}
    assert "window_start" not in models.RunCreateWeek.from_dict(both).to_dict()
    refused = client.get_httpx_client().post("/v1/optimization-runs", json=both)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "week"  # the rule the schema states
