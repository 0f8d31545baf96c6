"""Run tests reuse the API world (two districts, three members, keys per role).

API tests use the in-process executor on both databases; the procrastinate path has its own
PostgreSQL tests (test_procrastinate.py) that switch the executor back.
"""

from __future__ import annotations

import pytest

from app.settings import get_settings
from tests.api.conftest import client, world  # noqa: F401 - re-exported fixtures


@pytest.fixture(autouse=True)
def _inprocess_executor(monkeypatch):
    monkeypatch.setenv("MATCHER_RUN_EXECUTOR", "inprocess")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
