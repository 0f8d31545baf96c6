"""InFlightLimit admits ``limit`` requests at once in every event loop that serves it.

One app object may be served again by another loop (a restarted server thread, or the test
suite's shared app under a new TestClient); an ``asyncio.Semaphore`` that first waited in one
loop cannot be waited on in the next, so the middleware keeps one per loop.
"""

from __future__ import annotations

import asyncio

from app.api.middleware import InFlightLimit


class _SlowApp:
    """An ASGI app that records how many requests are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        await asyncio.sleep(0.02)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _requests_at_once(app, n: int) -> list[int]:
    statuses: list[int] = []

    async def one() -> None:
        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app({"type": "http", "method": "GET", "path": "/"}, receive, send)

    await asyncio.gather(*(one() for _ in range(n)))
    return statuses


def test_the_limit_holds_in_each_loop_that_serves_the_app():
    inner = _SlowApp()
    limited = InFlightLimit(inner, limit=2)
    for _ in range(3):  # three event loops, one after the other, as when an app is served again
        assert asyncio.run(_requests_at_once(limited, 6)) == [204] * 6
    assert inner.most_inside == 2
