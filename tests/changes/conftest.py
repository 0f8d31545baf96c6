"""The change feed and webhook tests: a real HTTP receiver, and no background dispatcher.

These tests step the dispatcher through time by hand (``dispatch_once(now=...)``), so a
background dispatcher started by the app's lifespan must stay off here.
"""

from collections.abc import Iterator

import pytest

from tests.live import Receiver


@pytest.fixture(autouse=True)
def _no_background_dispatcher(monkeypatch):
    monkeypatch.setenv("MATCHER_WEBHOOK_ENABLED", "false")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1, answering 200 unless ``receiver.statuses`` says otherwise."""
    r = Receiver().start()
    yield r
    r.stop()
