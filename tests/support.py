"""Checks and waits the tests share: problem+json answers, paging, uploads, runs to their end,
and the independent checker over a stored plan. Builders of data are in ``tests.factories``."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from app.api.main import create_app
from app.models import Assignment, OptimizationRun
from app.services.runs.problem_builder import build_problem
from app.settings import Settings, get_settings
from app.solver import check
from tests.factories import World, plan_of

PROBLEM_JSON = "application/problem+json"
#: Locale variables cleared for an in-process command (the caller's shell must not pick its language).
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "MATCHER_DISTRICT_CODE")
ENDED = ("succeeded", "failed", "cancelled")


def assert_problem(r, status: int, field: str | None = None) -> dict[str, Any]:
    """A problem+json response with this status, naming ``field`` among its errors when given."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status
    if field is not None:
        fields = [e["field"] for e in body.get("errors") or []]
        assert field in fields, (field, fields)
    return body


def list_all(client, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a list endpoint, following cursors."""
    items, cursor = [], None
    while True:
        q = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=q, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def upload(
    client,
    kind: str,
    data: bytes,
    headers: dict,
    *,
    name: str = "file.csv",
    ctype: str = "text/csv",
    dry_run: bool | None = None,
):
    """POST a file to /v1/{kind}:import, with ``dry_run`` in the query when given."""
    url = f"/v1/{kind}:import" + ("" if dry_run is None else f"?dry_run={'true' if dry_run else 'false'}")
    return client.post(url, files={"file": (name, data, ctype)}, headers=headers)


def bad_cells(response) -> set[tuple[int, str]]:
    return {(e["row"], e["field"]) for e in response.json()["errors"]}


def wait_for(client, world: World, run_id: int, statuses=ENDED, timeout: float = 60.0) -> dict:
    """Poll the run through the API until it reaches one of ``statuses``; its body."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/optimization-runs/{run_id}", headers=world.h("reader")).json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"run {run_id} still {body['status']} after {timeout}s"
        time.sleep(0.1)


def wait_db(db, run_id: int, statuses=ENDED, timeout: float = 60.0) -> str:
    """Poll the run's row until it reaches one of ``statuses``; the status."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            status = s.scalar(select(OptimizationRun.status).where(OptimizationRun.id == run_id))
        if status in statuses:
            return status
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {timeout}s"
        time.sleep(0.1)


def stored_plan_violations(db, run_id: int) -> list[str]:
    """Rebuild the run's problem from the database and check the stored proposals (plus the
    pinned pairs they sit beside) with the solver's independent checker."""
    with db.session() as s:
        built = build_problem(s, run=s.get_one(OptimizationRun, run_id))
        rows = s.execute(
            select(Assignment.demand_id, Assignment.member_id).where(
                Assignment.run_id == run_id, Assignment.status.in_(("proposed", "published"))
            )
        ).all()
    problem = built.problem
    proposed = [(d, m) for d, m in rows if (d, m) not in problem.pinned]
    return check(problem, plan_of(proposed, sorted(problem.pinned)))


@dataclass
class CommandResult:
    """What ``matcher ARGS`` returned, shaped like ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_matcher(args: list[str], url: str, **env: str) -> CommandResult:
    """``matcher ARGS`` in this process with ``MATCHER_DATABASE_URL=url`` (and ``env``).

    The same Typer app the binary runs, without the binary's 1-2 s start-up (imports of
    OR-Tools, FastAPI, ...); each CLI module keeps one subprocess test of the real binary. An
    exception that is not an exit is appended to stderr with its traceback, as Python prints it.
    """
    from typer.testing import CliRunner

    from app.cli import cli
    from app.settings import get_settings

    cleared: dict[str, str | None] = dict.fromkeys(LOCALE_VARS)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, args, env={**cleared, "MATCHER_DATABASE_URL": url, **env})
    finally:
        get_settings.cache_clear()
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        stderr += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return CommandResult(result.exit_code, result.stdout, stderr)


_SHARED_APPS: dict[tuple[object, ...], FastAPI] = {}


def app_for(settings: Settings) -> FastAPI:
    """The app for a test's settings. For the settings the fixtures make (``get_settings()``,
    from the environment) one app object per worker process and per middleware configuration
    serves every test: it reads its settings when each client starts it, as requests always
    do. Why: FastAPI builds its ~120 routes' models per app on the first request (50-450 ms),
    which every test paid again. Settings made by hand (``model_copy``) get an app of their own.
    """
    if settings is not get_settings():
        return create_app(settings)
    key = (
        settings.max_inflight_requests,
        settings.inflight_width,
        settings.inflight_patience_ms,
        settings.max_body_bytes,
        settings.log_level,
    )
    if key not in _SHARED_APPS:
        _SHARED_APPS[key] = create_app()
    return _SHARED_APPS[key]
