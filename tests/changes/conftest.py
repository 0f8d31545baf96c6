"""Reuse the API world (two districts, keys per role) and the TestClient.

These tests step the dispatcher through time by hand (``dispatch_once(now=...)``), so a
background dispatcher started by the app's lifespan must stay off here.
"""

import pytest

from tests.api.conftest import client, world  # noqa: F401


@pytest.fixture(autouse=True)
def _no_background_dispatcher(monkeypatch):
    monkeypatch.setenv("MATCHER_WEBHOOK_ENABLED", "false")
