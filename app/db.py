"""Engine and session factory.

One engine per database URL, cached, so the CLI, the API and the worker share
the same connection pool inside a process. SQLite gets foreign keys switched on
and a busy timeout, so that it behaves like the production database for the
rules we rely on (FK violations, concurrent writers waiting instead of failing).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_WRITER_TURN = "matcher_sqlite_writer_turn"
#: Longest wait for the process's write turn before falling back to SQLite's own busy wait.
WRITE_TURN_TIMEOUT_S = 30.0
_WRITE_LOCKS: dict[Engine, threading.Lock] = {}


def _take_write_turn(conn: Connection) -> None:
    info = conn.connection.info
    if info.get(_WRITER_TURN) is None:
        lock = _WRITE_LOCKS[conn.engine]
        info[_WRITER_TURN] = lock if lock.acquire(timeout=WRITE_TURN_TIMEOUT_S) else False


def _end_write_turn(conn: Connection) -> None:
    lock = conn.connection.info.pop(_WRITER_TURN, None)
    if lock:
        lock.release()


def _one_writer_at_a_time(engine: Engine) -> None:
    """SQLite writes one transaction at a time; make this process's writers queue for it.

    Without this, concurrent writers of one process all reach SQLite, which lets one in and
    makes the others poll with growing sleeps (busy_timeout: up to 100 ms between tries), so
    under load a write waits long after the lock is free. Here a write transaction first takes
    the engine's writer turn (a plain lock, released at COMMIT/ROLLBACK from any thread), and the
    next writer starts the moment the last one ends. Other processes (the CLI, a solve child)
    still meet at SQLite's own lock. A turn not granted within the timeout falls back to that.
    """
    _WRITE_LOCKS[engine] = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn, _cursor, statement, _params, _context, _many):
        if not conn.connection.dbapi_connection.in_transaction and statement.lstrip()[:7].upper().startswith(
            _WRITE_VERBS
        ):
            _take_write_turn(conn)

    event.listen(engine, "commit", _end_write_turn)
    event.listen(engine, "rollback", _end_write_turn)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # WAL + NORMAL: a commit no longer waits for an fsync (the log is synced at
            # checkpoints); an application crash loses nothing, a power cut at most the last commits.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        _one_writer_at_a_time(engine)

        @event.listens_for(engine, "savepoint")
        def _sqlite_savepoint(conn, _name):
            # pysqlite opens a transaction only before DML, so a SAVEPOINT that comes first would
            # open one itself and its RELEASE would COMMIT everything so far (a failure after it
            # could no longer roll back). Begin the real transaction first. Reads elsewhere keep
            # pysqlite's autocommit, so they never hold a stale snapshot that blocks a later write.
            dbapi_conn = conn.connection.dbapi_connection
            if not dbapi_conn.in_transaction:
                _take_write_turn(conn)
                dbapi_conn.execute("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def get_sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched: the guard of every compare-and-set in the services.

    ``Session.execute`` is typed to return a plain ``Result``; for DML it is a ``CursorResult``,
    the only kind that knows its row count.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Registers the change-feed and audit-trail hooks on every Session, so the API, the CLI and
# the worker all record changes (and who made them) in the same transaction as the change itself.
import app.services.audit  # noqa: E402,F401 - imported only to register its Session hooks (see above)
import app.services.changes  # noqa: E402,F401 - imported only to register its Session hooks (see above)
