"""A fresh demo database from a URL: wipe, migrate to head, load, in that order.

SQLite (the embedded default) is a throw-away file and is simply deleted. A PostgreSQL
database may hold real data, so wiping it (dropping its current schema) needs an explicit
``reset_postgresql=True`` (``matcher demo --reset``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import make_url, text

from app import migrate
from app.db import get_engine, is_sqlite, session_scope
from app.demo.generate import build_demo
from app.demo.summary import DemoSummary


class DemoRefused(Exception):
    """The target database is not one the demo may wipe; the message says why and what to do."""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DemoRefused(f"the demo needs an SQLite file, not {url!r} (e.g. sqlite:///./matcher.db)")
    return Path(database)


def check_target(url: str, reset_postgresql: bool = False) -> None:
    """Raise DemoRefused before touching anything if the demo may not wipe ``url``.

    Without ``--reset`` the demo only replaces a database that is empty or holds nothing but an
    earlier demo: no district besides the demo's, and no change made through the API or a
    personal link (the audit trail tells). That holds on SQLite as on PostgreSQL.
    """
    if is_sqlite(url):
        path = sqlite_path(url)
        if reset_postgresql or not path.exists() or not _is_sqlite_database(path):
            return  # nothing there, or a file that holds no database (replaced, as before)
    elif reset_postgresql:
        return
    shown = make_url(url).render_as_string(hide_password=True)
    reason = _foreign_data(url)
    if reason is not None:
        raise DemoRefused(
            f"{shown} {reason}: the demo would drop everything in it. Pass --reset to wipe it and load the demo."
        )


def _is_sqlite_database(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _foreign_data(url: str) -> str | None:
    """Why ``url`` holds more than the demo's own data, or None when it is empty or demo-only."""
    from sqlalchemy import create_engine, inspect

    from app.demo.data import DISTRICT_CODE

    args = {} if is_sqlite(url) else {"connect_args": {"connect_timeout": 5}}
    try:
        engine = create_engine(url, **args)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "districts" not in tables:
                return None if not tables - {"alembic_version"} else "holds tables of another application"
            codes = set(conn.scalars(text("SELECT code FROM districts")))
            if codes - {DISTRICT_CODE}:
                return f"holds other districts ({', '.join(sorted(codes - {DISTRICT_CODE}))})"
            if codes and "audit_events" not in tables:
                return "holds data from before the audit trail"
            if codes:
                used = conn.scalar(
                    text("SELECT count(*) FROM audit_events WHERE actor_kind IN ('api_key', 'console', 'member_link')")
                )
                if used:
                    return "holds changes made through the API since the demo was loaded"
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - an unreachable or unreadable database is never wiped blindly
        return f"could not be inspected ({type(exc).__name__})"
    return None


def reset_database(url: str) -> None:
    """Leave an empty database behind: a deleted SQLite file or an empty PostgreSQL schema."""
    engine = get_engine(url)
    if is_sqlite(url):
        path = sqlite_path(url)
        engine.dispose()  # no pooled connection may keep the old file alive
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    with engine.begin() as conn:
        schema = conn.scalar(text("SELECT current_schema()"))
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def load_demo(url: str, seed: int, week_start: date, *, reset_postgresql: bool = False) -> DemoSummary:
    """Build a fresh database at ``url`` holding the demo for ``seed`` and ``week_start``."""
    started = time.perf_counter()
    check_target(url, reset_postgresql)
    reset_database(url)
    migrate.upgrade(url)
    with session_scope(url) as session:
        summary = build_demo(session, seed, week_start)
    return replace(
        summary,
        database_url=make_url(url).render_as_string(hide_password=True),
        elapsed_s=round(time.perf_counter() - started, 2),
    )
