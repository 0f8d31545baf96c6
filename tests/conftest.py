"""Test databases: every DB-backed test runs on SQLite and on a real PostgreSQL.

A migrated template is built once per database kind per session; each test then
gets its own fresh copy (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE``
for PostgreSQL), so tests are isolated and still fast.

Outside CI a missing PostgreSQL skips its half loudly; with CI=true it fails.

``world`` (two districts' reference data and a key per role, see ``tests.factories.build_world``)
and ``client`` (the app on that database) are shared by every folder that talks to the API.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app import migrate
from app.api.main import create_app
from app.db import get_engine, get_sessionmaker
from app.settings import Settings, get_settings
from tests.factories import World, build_world

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_counter = itertools.count()


@dataclass
class TestDatabase:
    __test__ = False  # a fixture value, not a test class

    kind: str
    url: str

    def session(self) -> Session:
        return get_sessionmaker(self.url)()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def pg_server():
    from tests.pgserver import PostgresServer, find_pg_bin

    if find_pg_bin() is None:
        message = "PostgreSQL binaries (initdb/pg_ctl) not found: PostgreSQL tests cannot run"
        if IN_CI:
            pytest.fail(message + " (CI=true requires them)")
        print(f"\n!!! {message}; skipping the PostgreSQL half of the suite !!!\n", file=sys.stderr)  # noqa: T201 - half the suite skipped must be loud
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)
    server = PostgresServer()
    server.start()
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE matcher_template"))
    admin.dispose()
    migrate.upgrade(server.url("matcher_template"))
    get_engine(server.url("matcher_template")).dispose()
    yield server
    server.stop()


def _fresh_database(kind: str, request) -> TestDatabase:
    n = next(_counter)
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = Path(tempfile.mkdtemp(prefix="matcher-test-")) / f"t{n}.db"
        shutil.copy(template, target)
        request.addfinalizer(lambda: shutil.rmtree(target.parent, ignore_errors=True))
        return TestDatabase("sqlite", f"sqlite:///{target}")
    server = request.getfixturevalue("pg_server")
    name = f"t{os.getpid()}_{n}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE matcher_template'))
    admin.dispose()
    url = server.url(name)

    def _drop() -> None:
        get_engine(url).dispose()
        eng = create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    request.addfinalizer(_drop)
    return TestDatabase("postgresql", url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request) -> TestDatabase:
    """A fresh, migrated database of each kind."""
    return _fresh_database(request.param, request)


@pytest.fixture
def pg_db(request) -> TestDatabase:
    """PostgreSQL only (concurrency, procrastinate)."""
    return _fresh_database("postgresql", request)


@pytest.fixture
def settings(db: TestDatabase, monkeypatch) -> Iterator[Settings]:
    monkeypatch.setenv("MATCHER_DATABASE_URL", db.url)
    # Webhook delivery has its own tests; elsewhere no background dispatcher should run.
    monkeypatch.setenv("MATCHER_WEBHOOK_ENABLED", "false")
    # Likewise member notifications and automatic repair (tests/notifications drive them).
    monkeypatch.setenv("MATCHER_NOTIFY_ENABLED", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def world(db, settings) -> World:
    return build_world(db)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c
