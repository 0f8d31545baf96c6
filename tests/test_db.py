"""app.db: SQLite writers of one process take turns (none fails, none keeps the turn); pooled
PostgreSQL connections are pinged only when in doubt, and one the server dropped is replaced."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, event, text

from app import db as app_db
from app.db import _WRITE_LOCKS, CHECKIN_AT, PING_IDLE_S, get_engine


def test_sqlite_writers_take_turns_and_release_them(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER)"))
    errors: list[BaseException] = []

    def writer(who: int) -> None:
        try:
            for _ in range(15):
                with engine.begin() as conn:
                    conn.execute(text("SELECT count(*) FROM t")).scalar()
                    conn.execute(text("INSERT INTO t (who) VALUES (:w)"), {"w": who})
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert not _WRITE_LOCKS[engine].locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 90
        conn.execute(text("INSERT INTO t (who) VALUES (99)"))
        assert _WRITE_LOCKS[engine].locked()  # an open write transaction holds the turn
        conn.rollback()
    assert not _WRITE_LOCKS[engine].locked()  # ... and a rollback gives it back
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t WHERE who = 99")).scalar() == 0


@pytest.fixture
def pg_engine(restartable_pg, monkeypatch) -> Engine:
    """``get_engine`` on the module's own server, its pool emptied, its pings counted."""
    engine = get_engine(restartable_pg.url())
    engine.dispose()
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_conn):
        pings.append(dbapi_conn)
        return real_ping(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    engine.info_pings = pings  # type: ignore[attr-defined] # the tests read the count here
    return engine


def _select_one(engine: Engine) -> dict:
    """One checkout, statement and commit; the pool record's info (it outlives the checkout)."""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        conn.commit()
        return conn.connection.info


def test_pg_pool_is_lifo_without_pre_ping(pg_engine):
    assert pg_engine.pool._pre_ping is False
    with pg_engine.connect() as first, pg_engine.connect() as second:
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (first, second)]
    # ``second`` went back first, ``first`` last: a LIFO pool hands out ``first`` again.
    with pg_engine.connect() as again:
        assert again.execute(text("SELECT pg_backend_pid()")).scalar() == pids[0]


def test_pg_connection_used_recently_is_not_pinged(pg_engine):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(pg_engine, "before_cursor_execute", record)
    try:
        for _ in range(5):
            _select_one(pg_engine)
    finally:
        event.remove(pg_engine, "before_cursor_execute", record)
    assert pg_engine.info_pings == []
    assert statements == ["SELECT 1"] * 5  # nothing else went over the wire through the engine


def test_pg_idle_connection_is_pinged(pg_engine):
    info = _select_one(pg_engine)
    info[CHECKIN_AT] -= PING_IDLE_S + 1  # as if it had been idle longer than the limit
    _select_one(pg_engine)
    assert len(pg_engine.info_pings) == 1
    _select_one(pg_engine)  # just used again: no second ping
    assert len(pg_engine.info_pings) == 1


def test_pg_checkout_after_server_restart_succeeds(pg_engine, restartable_pg):
    # Two pooled connections, both used just now (within PING_IDLE_S: no idle ping).
    with pg_engine.connect() as a, pg_engine.connect() as b:
        pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (a, b)}
    assert len(pids) == 2
    restartable_pg.restart()
    # The server closed both; their sockets read as closed, so each is pinged, fails, and is replaced.
    with pg_engine.connect() as a, pg_engine.connect() as b:
        new_pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (a, b)}
    assert len(new_pids) == 2 and not new_pids & pids
    assert len(pg_engine.info_pings) == 2
    # ... and through the ORM, as a request would.
    session = app_db.get_sessionmaker(restartable_pg.url())()
    try:
        assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        session.close()
