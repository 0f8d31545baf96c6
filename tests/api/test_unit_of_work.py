"""The transaction rule: a request is one unit of work, committed after the handler returns.

A commit that fails must be answered as a failure (the client may never see a success that
was not stored), and nothing of the request may remain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.orm import Session

from app.db import get_engine
from app.models import ApiKey, Demand
from app.models.base import utcnow
from app.services.api_keys import hash_key
from app.settings import get_settings
from tests.factories import demand_body
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


# --------------------------------------------------------------------------- reads in autocommit

ON_POSTGRESQL = pytest.mark.parametrize("db", ["postgresql"], indirect=True)
_LOGGED = re.compile(r"\] LOG:  (?:statement|execute [^:]*): (.*)")


@pytest.fixture
def received(db, pg_server) -> Callable[[Callable[[], object]], list[str]]:
    """``received(action)``: the statements the PostgreSQL server logged while ``action`` ran,
    first line of each, as the server got them (``log_statement = all`` on the test's database;
    the app's pool is emptied so every connection it makes from now on logs)."""
    admin = create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE \"{db.url.rsplit('/', 1)[1]}\" SET log_statement = 'all'"))
    admin.dispose()
    get_engine(db.url).dispose()
    log = pg_server.tmp / "log"

    def run(action: Callable[[], object]) -> list[str]:
        start = log.stat().st_size
        action()
        with log.open(encoding="utf-8", errors="replace") as f:
            f.seek(start)
            return [m.group(1).strip() for line in f if (m := _LOGGED.search(line))]

    return run


def _alter_database(pg_server, db, setting: str) -> None:
    admin = create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{db.url.rsplit("/", 1)[1]}" SET {setting}'))
    admin.dispose()


def _age_last_use(db, raw: str, *, minutes: int) -> None:
    with db.session() as session, session.begin():
        old = utcnow() - timedelta(minutes=minutes)
        session.execute(update(ApiKey).where(ApiKey.key_hash == hash_key(raw)).values(last_used_at=old))


def _last_use(db, raw: str) -> datetime:
    with db.session() as session:
        return session.scalar(select(ApiKey.last_used_at).where(ApiKey.key_hash == hash_key(raw)))


@ON_POSTGRESQL
def test_a_read_on_postgresql_sends_its_selects_and_no_transaction_statement(client, world, received):
    demand = client.post("/v1/demands", json=demand_body(world), headers=world.h("admin")).json()
    client.get("/v1/demands", headers=world.h("admin"))  # the key is now known and used this minute
    for path in ("/v1/demands", f"/v1/demands/{demand['id']}"):
        sent = received(lambda path=path: client.get(path, headers=world.h("admin")).raise_for_status())
        # the key, the page (or the demand), its skills and exclusions: nothing else, no BEGIN,
        # COMMIT, ROLLBACK or SET, neither on checkout, nor at the end, nor on return to the pool
        assert [s.split()[0] for s in sent] == ["SELECT"] * 3, sent
        assert "api_keys" in sent[0] and "demands" in sent[1] and "kind, anon_1.sort_key" in sent[2]


@ON_POSTGRESQL
def test_a_write_after_reads_on_the_same_connection_is_one_transaction_again(client, world, received):
    client.get("/v1/demands", headers=world.h("admin"))
    sent = received(lambda: client.post("/v1/demands", json=demand_body(world), headers=world.h("admin")))
    verbs = [s.split()[0] for s in sent]
    assert verbs[0] == "BEGIN" and verbs[-1] == "COMMIT", sent  # BEGIN names the engine's level
    assert [v for v in verbs if v in ("BEGIN", "COMMIT", "ROLLBACK")] == ["BEGIN", "COMMIT"]


@ON_POSTGRESQL
def test_the_once_a_minute_touch_of_a_read_runs_in_a_transaction_and_persists(client, world, db, received):
    client.get("/v1/demands", headers=world.h("reader"))
    _age_last_use(db, world.keys["reader"], minutes=5)
    before = utcnow()
    sent = received(lambda: client.get("/v1/demands", headers=world.h("reader")).raise_for_status())
    assert [s.split()[0] for s in sent] == ["SELECT", "BEGIN", "UPDATE", "SELECT", "COMMIT"], sent
    assert _last_use(db, world.keys["reader"]) >= before


@ON_POSTGRESQL
def test_reads_keep_their_transaction_where_the_server_isolation_is_repeatable_read(
    db, world, pg_server, received, monkeypatch
):
    # One snapshot for all of a transaction's reads: autocommit would lose it, so it is not used.
    _alter_database(pg_server, db, "default_transaction_isolation = 'repeatable read'")
    url = f"{db.url}?application_name=repeatable"  # a new engine: it learns the level anew
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        with TestClient(app_for(get_settings())) as repeatable:
            repeatable.get("/v1/demands", headers=world.h("admin")).raise_for_status()
            sent = received(lambda: repeatable.get("/v1/demands", headers=world.h("admin")).raise_for_status())
    finally:
        get_engine(url).dispose()
    assert get_engine(url).dialect.default_isolation_level == "REPEATABLE READ"
    assert [s.split()[0] for s in sent] == ["BEGIN", "SELECT", "SELECT", "COMMIT"], sent


def test_a_read_that_fails_keeps_nothing_it_wrote(client, world, db):
    client.get("/v1/demands", headers=world.h("reader"))
    _age_last_use(db, world.keys["reader"], minutes=5)
    aged = _last_use(db, world.keys["reader"])
    assert client.get("/v1/demands/999999", headers=world.h("reader")).status_code == 404
    assert _last_use(db, world.keys["reader"]) == aged  # the touch was rolled back with the request
    assert client.get("/v1/demands", headers=world.h("reader")).status_code == 200
    assert _last_use(db, world.keys["reader"]) > aged
