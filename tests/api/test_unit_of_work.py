"""The transaction rule: a request is one unit of work, committed after the handler returns.

A commit that fails must be answered as a failure (the client may never see a success that
was not stored), and nothing of the request may remain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.models import Demand
from tests.support import app_for

DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


def _demand(world, title: str) -> dict:
    return {
        "community_id": world.communities["清友园社区"],
        "title": title,
        "channel": "needs_collection",
        "starts_at": f"{DAY}T14:00:00",
        "ends_at": f"{DAY}T16:00:00",
    }


def _titles(client, world) -> list[str]:
    r = client.get("/v1/demands?limit=500", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return [d["title"] for d in r.json()["items"]]


DOOMED = "提交失败"


@pytest.fixture
def failing_commit():
    """Makes the commit of the transaction holding the demand titled DOOMED fail, as a lost
    connection or a deferred constraint would (other sessions, e.g. start-up recovery, commit as usual)."""

    class CommitFailed(RuntimeError):
        pass

    def _boom(session: Session) -> None:
        if session.in_nested_transaction():
            return
        if session.scalar(select(Demand.id).where(Demand.title == DOOMED)) is not None:  # flushed by this request
            raise CommitFailed("the database refused the commit")

    event.listen(Session, "before_commit", _boom)
    yield
    event.remove(Session, "before_commit", _boom)


def test_a_request_commits_its_work_once_the_handler_returned(client, world):
    r = client.post("/v1/demands", json=_demand(world, "提交后可见"), headers=world.h("admin"))
    assert r.status_code == 201, r.text
    assert "提交后可见" in _titles(client, world)


def test_a_failed_commit_is_answered_as_a_failure_and_stores_nothing(client, world, settings, failing_commit):
    # A server fault, not bad input: the app answers 500 problem+json (the test client must not re-raise it).
    with TestClient(app_for(settings), raise_server_exceptions=False) as raw:
        r = raw.post("/v1/demands", json=_demand(world, DOOMED), headers=world.h("admin"))
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert DOOMED not in _titles(client, world)


def test_a_problem_raised_after_a_flush_rolls_back_the_flushed_rows(client, world):
    # ends_at before starts_at: the service flushes nothing it keeps; the 422 leaves no row behind.
    bad = _demand(world, "窗口颠倒") | {"ends_at": f"{DAY}T13:00:00"}
    r = client.post("/v1/demands", json=bad, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert "窗口颠倒" not in _titles(client, world)
