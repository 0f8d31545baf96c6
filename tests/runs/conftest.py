"""Run tests use the API world (tests/conftest.py) and the in-process executor on both databases;
the procrastinate path has its own PostgreSQL tests (test_procrastinate.py) that switch the
executor back."""

from __future__ import annotations

import pytest

from app.settings import get_settings


@pytest.fixture(autouse=True)
def _inprocess_executor(monkeypatch):
    monkeypatch.setenv("MATCHER_RUN_EXECUTOR", "inprocess")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
