"""Test databases: every DB-backed test runs on SQLite and on a real PostgreSQL.

A migrated template is built once per database kind per session; each test then
gets its own fresh copy (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE``
for PostgreSQL), so tests are isolated and still fast. A second template per kind also holds
``world``'s data; a test that asks for ``world`` gets a copy of that one.

Outside CI a missing PostgreSQL skips its half loudly; with CI=true it fails.

``world`` (two districts' reference data and a key per role, see ``tests.factories.build_world``)
and ``client`` (the app on that database) are shared by every folder that talks to the API.
"""

from __future__ import annotations

import copy
import functools
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
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app import migrate
from app.db import get_engine, get_sessionmaker
from app.settings import Settings, get_settings
from tests.factories import World, build_world
from tests.pgserver import DatabaseCopies
from tests.support import app_for

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_counter = itertools.count()


@dataclass
class TestDatabase:
    __test__ = False  # a fixture value, not a test class

    kind: str
    url: str
    world: World | None = None  # the reference data copied in with the database, if any

    def session(self) -> Session:
        return get_sessionmaker(self.url)()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@functools.cache
def _admin(server_url: str) -> Engine:
    """One pooled autocommit engine per server for CREATE and DROP DATABASE (a connection per
    database made and dropped cost two backend starts per test)."""
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def _require_pg_binaries() -> None:
    from tests.pgserver import find_pg_bin

    if find_pg_bin() is None:
        message = "PostgreSQL binaries (initdb/pg_ctl) not found: PostgreSQL tests cannot run"
        if IN_CI:
            pytest.fail(message + " (CI=true requires them)")
        print(f"\n!!! {message}; skipping the PostgreSQL half of the suite !!!\n", file=sys.stderr)  # noqa: T201 - half the suite skipped must be loud
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server():
    from tests.pgserver import PostgresServer

    _require_pg_binaries()
    server = PostgresServer()
    server.start()
    with _admin(server.url()).connect() as conn:
        conn.execute(text("CREATE DATABASE matcher_template"))
    migrate.upgrade(server.url("matcher_template"))
    get_engine(server.url("matcher_template")).dispose()
    yield server
    _admin(server.url()).dispose()
    server.stop()


@pytest.fixture(scope="module")
def restartable_pg():
    """A PostgreSQL server of the module's own (never the session's), for tests that restart it."""
    from tests.pgserver import PostgresServer

    _require_pg_binaries()
    server = PostgresServer()
    server.start()
    yield server
    get_engine(server.url()).dispose()
    server.stop()


@pytest.fixture(scope="session")
def pg_copies(pg_server) -> Iterator[DatabaseCopies]:
    """This worker's supplier of fresh PostgreSQL databases (see ``DatabaseCopies``)."""
    copies = DatabaseCopies(_admin(pg_server.url()), prefix=f"t{os.getpid()}")
    yield copies
    copies.close()


@pytest.fixture(scope="session")
def sqlite_world_template(sqlite_template) -> tuple[Path, World]:
    """The migrated template with ``build_world``'s data in it, built once per session."""
    path = sqlite_template.with_name("world.db")
    shutil.copy(sqlite_template, path)
    world = build_world(TestDatabase("sqlite", f"sqlite:///{path}"))
    get_engine(f"sqlite:///{path}").dispose()
    return path, world


@pytest.fixture(scope="session")
def pg_world_template(pg_server, pg_copies) -> tuple[str, World]:
    """A copy of the migrated template with ``build_world``'s data in it, itself a template."""
    name = pg_copies.take("matcher_template")
    url = pg_server.url(name)
    world = build_world(TestDatabase("postgresql", url))
    get_engine(url).dispose()  # a template must have no open connection
    return name, world


def _fresh_database(kind: str, request) -> TestDatabase:
    """A copy of the migrated template; for a test that asks for ``world``, of the template
    that already holds it (the same rows ``build_world`` writes, copied instead of inserted:
    the insert took 40-130 ms per test)."""
    n = next(_counter)
    with_world = "world" in request.fixturenames
    world: World | None = None
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        if with_world:
            template, world = request.getfixturevalue("sqlite_world_template")
        target = Path(tempfile.mkdtemp(prefix="matcher-test-")) / f"t{n}.db"
        shutil.copy(template, target)
        request.addfinalizer(lambda: shutil.rmtree(target.parent, ignore_errors=True))
        return TestDatabase("sqlite", f"sqlite:///{target}", copy.deepcopy(world))
    server = request.getfixturevalue("pg_server")
    template_name = "matcher_template"
    if with_world:
        template_name, world = request.getfixturevalue("pg_world_template")
    copies = request.getfixturevalue("pg_copies")
    name = copies.take(template_name)
    url = server.url(name)

    def _drop() -> None:
        get_engine(url).dispose()
        copies.give_back(name)

    request.addfinalizer(_drop)
    return TestDatabase("postgresql", url, copy.deepcopy(world))


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
    """``build_world``'s data: already in ``db`` (copied with it from its template)."""
    assert db.world is not None, "db was made without the world template"
    return db.world


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with TestClient(app_for(settings)) as c:
        yield c
