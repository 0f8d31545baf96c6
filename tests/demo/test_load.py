"""``load_demo``: always a fresh database; SQLite files are recreated, PostgreSQL only on request."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app import migrate
from app.db import get_engine, get_sessionmaker
from app.demo import load_demo
from app.demo.load import DemoRefused, check_target
from app.errors import Problem
from app.models import Demand, Member
from app.services.api_keys import authenticate

WEEK = date(2026, 11, 30)


def _count(url: str, model) -> int:
    with get_sessionmaker(url)() as s:
        return s.scalar(select(func.count()).select_from(model))


def _key_works(url: str, key: str) -> bool:
    with get_sessionmaker(url)() as s:
        try:
            return authenticate(s, raw=key).role == "admin"
        except Problem:
            return False


def test_sqlite_file_is_recreated_not_appended(tmp_path):
    url = f"sqlite:///{tmp_path / 'nested' / 'demo.db'}"
    first = load_demo(url, 7, WEEK)
    assert first.counts["members"] == 410 and first.elapsed_s is not None
    second = load_demo(url, 8, WEEK)
    assert _count(url, Member) == 410 and _count(url, Demand) == 250
    assert migrate.current_revision(get_engine(url)) == migrate.head_revision(url)
    assert _key_works(url, second.admin_key)
    assert not _key_works(url, first.admin_key)  # the old database is gone, keys included
    assert second.database_url == url


@pytest.mark.parametrize("url", ["postgresql+psycopg://u:secret@127.0.0.1:1/x", "postgresql://h/db"])
def test_postgresql_is_refused_without_reset(url):
    with pytest.raises(DemoRefused, match="--reset") as exc:
        load_demo(url, 7, WEEK)  # refused before any connection is attempted
    assert "secret" not in str(exc.value)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url):
    with pytest.raises(DemoRefused, match="SQLite file"):
        check_target(url)


def test_postgresql_reset_wipes_and_reloads(pg_db):
    first = load_demo(pg_db.url, 7, WEEK, reset_postgresql=True)
    second = load_demo(pg_db.url, 7, WEEK, reset_postgresql=True)  # 409 demo_exists if not wiped
    assert first.counts == second.counts
    assert _count(pg_db.url, Member) == 410
    assert migrate.current_revision(get_engine(pg_db.url)) == migrate.head_revision(pg_db.url)
    assert _key_works(pg_db.url, second.admin_key) and not _key_works(pg_db.url, first.admin_key)
