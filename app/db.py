"""Engine and session factory.

One engine per database URL, cached, so the CLI, the API and the worker share
the same connection pool inside a process. SQLite gets foreign keys switched on
and a busy timeout, so that it behaves like the production database for the
rules we rely on (FK violations, concurrent writers waiting instead of failing).
"""

from __future__ import annotations

import re
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect, Engine, Result, create_engine, event, exc
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
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **_pool_size(max_overflow=10)
        )

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
    engine = create_engine(url, pool_use_lifo=True, **_pool_size(max_overflow=20))
    _ping_when_in_doubt(engine)
    _transaction_from_first_write(engine)
    return engine


#: Key in a pool record's ``info`` while its connection serves a read-only request in autocommit.
AUTOCOMMIT_READ = "matcher_autocommit_read"
#: A SELECT that locks or changes something: it must run inside a transaction to mean anything.
_NOT_A_PLAIN_READ = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|pg_advisory|nextval|setval", re.I
)


def autocommit_reads_like_a_transaction(dialect: Dialect) -> bool:
    """Whether a read-only request may run in autocommit and see what a transaction would: under
    READ COMMITTED every statement takes its own snapshot either way. Under REPEATABLE READ or
    SERIALIZABLE (a server configured so) a transaction's reads share one snapshot, which
    autocommit would lose. Unknown until the engine's first connection: then no."""
    return dialect.name == "postgresql" and getattr(dialect, "default_isolation_level", None) == "READ COMMITTED"


def read_in_autocommit(session: Session) -> None:
    """Run ``session``'s statements in psycopg's autocommit from now on, until the first one that
    is not a plain read (``_transaction_from_first_write``). Call it before the first statement.

    Why on the driver, not with SQLAlchemy's ``isolation_level="AUTOCOMMIT"`` execution option:
    that sets and resets the level through the dialect on every checkout, about 35 us of CPU per
    request more (one read unit: 492 vs 527 us). SQLAlchemy still calls the driver's commit and
    the pool's rollback; psycopg sends neither when no transaction is open.
    """
    conn = session.connection()
    conn.info[AUTOCOMMIT_READ] = True
    conn.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr] # checked out: present


@lru_cache(maxsize=1024)
def is_plain_read(statement: str) -> bool:
    """A SELECT that neither writes nor locks (cached: a read request's statements are few and fixed)."""
    return statement.lstrip()[:6].upper() == "SELECT" and _NOT_A_PLAIN_READ.search(statement) is None


def _transaction_from_first_write(engine: Engine) -> None:
    """A read-only API request on PostgreSQL runs in driver autocommit (``read_in_autocommit``):
    no BEGIN and no COMMIT, two round trips of a list's five. Under READ COMMITTED, PostgreSQL's
    default and this service's, every statement takes its own snapshot inside a transaction too,
    so its reads see the same. The first statement that is not a plain read (the once-a-minute
    touch of a key, anything a read path flushes) switches the connection back to transactions
    before it is sent: psycopg opens one with it, and the request's commit (or rollback) ends it,
    so what a GET writes is as atomic as before and still undone when the request fails. A
    connection goes back to the pool in transaction mode again (no statement is sent for it).
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_a_write(conn, _cursor, statement, _params, _context, _many):
        info = conn.connection.info
        if info.get(AUTOCOMMIT_READ) and not is_plain_read(statement):
            del info[AUTOCOMMIT_READ]
            conn.connection.dbapi_connection.autocommit = False

    @event.listens_for(engine, "checkin")
    def _transactions_again(dbapi_conn, record):
        if record.info.pop(AUTOCOMMIT_READ, False) and dbapi_conn is not None:
            dbapi_conn.autocommit = False  # idle: the pool's reset ran first


#: A pooled PostgreSQL connection idle longer than this is pinged before it is handed out.
PING_IDLE_S = 5.0
#: Key in a pool record's ``info``: ``time.monotonic()`` when the connection was last checked in.
CHECKIN_AT = "matcher_checkin_at"


def _has_data_waiting(dbapi_conn: Any) -> bool:
    """True when the socket is readable (or broken) while no query runs: between requests a
    healthy connection has nothing to read, and one the server closed (restart, termination,
    idle timeout) shows its FATAL message or end of file as readable."""
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _ping_when_in_doubt(engine: Engine) -> None:
    """Ping a connection on checkout only when it may be dead: idle more than ``PING_IDLE_S``
    or its socket has data waiting. Instead of ``pool_pre_ping``, which paid a round trip on
    every checkout (checkout + statement + commit 563-777 -> 485-585 us wall without it).

    A failed ping raises ``DisconnectionError``: the pool then drops that connection and hands
    out a fresh one (one retry), so the request after a server restart does not fail. The pool
    is LIFO (``pool_use_lifo``), so under light load the same few connections serve and the rest
    stay idle, where the idle ping finds them if the server or the network dropped them.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _note_checkin(dbapi_conn, record):
        if dbapi_conn is not None:
            record.info[CHECKIN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_in_doubt(dbapi_conn, record, _proxy):
        checked_in = record.info.get(CHECKIN_AT)
        if checked_in is None:  # a connection made for this checkout
            return
        try:
            if time.monotonic() - checked_in <= PING_IDLE_S and not _has_data_waiting(dbapi_conn):
                return
            dialect.do_ping(dbapi_conn)
        except Exception as err:  # noqa: BLE001 - any failure means this connection cannot be trusted
            raise exc.DisconnectionError(f"pooled connection failed its ping: {err}") from err


#: Connections beyond the admitted requests: dispatchers, scheduler, recovery, run supervisors.
BACKGROUND_CONNECTIONS = 4


def _pool_size(*, max_overflow: int) -> dict[str, int]:
    """Room for every request the server admits at once (``InFlightLimit``) plus the background
    threads, so an admitted request never waits for a connection."""
    from app.settings import get_settings

    return {"pool_size": get_settings().max_inflight_requests + BACKGROUND_CONNECTIONS, "max_overflow": max_overflow}


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
