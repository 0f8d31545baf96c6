"""InFlightLimit admits requests through its lane in every event loop that serves it; the lane
keeps ``width`` inside while they are quick, lets more in (up to the ceiling) only when all inside
are slow, in arrival order, and a waiter that goes away holds no place.

One app object may be served again by another loop (a restarted server thread, or the test
suite's shared app under a new TestClient); an ``asyncio.Semaphore`` that first waited in one
loop cannot be waited on in the next, so the middleware keeps one per loop.
"""

from __future__ import annotations

import asyncio

from app.api.middleware import AdmissionLane, InFlightLimit
from app.settings import Settings


class _SlowApp:
    """An ASGI app that records how many requests are inside it at once."""

    def __init__(self, seconds: float = 0.02) -> None:
        self.seconds = seconds
        self.inside = 0
        self.most_inside = 0

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        await asyncio.sleep(self.seconds)
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
    limited = InFlightLimit(inner, limit=2, width=2)
    for _ in range(3):  # three event loops, one after the other, as when an app is served again
        assert asyncio.run(_requests_at_once(limited, 6)) == [204] * 6
    assert inner.most_inside == 2


def test_quick_requests_go_in_one_at_a_time():
    inner = _SlowApp(seconds=0.005)
    limited = InFlightLimit(inner, limit=4, width=1, patience_s=5.0)
    assert asyncio.run(_requests_at_once(limited, 8)) == [204] * 8
    assert inner.most_inside == 1


def test_slow_requests_let_more_in_up_to_the_ceiling():
    inner = _SlowApp(seconds=0.2)
    limited = InFlightLimit(inner, limit=3, width=1, patience_s=0.01)
    assert asyncio.run(_requests_at_once(limited, 8)) == [204] * 8
    assert inner.most_inside == 3


def test_waiters_enter_in_arrival_order():
    async def scenario() -> list[int]:
        lane = AdmissionLane(width=1, ceiling=1, patience_s=0.0)
        order: list[int] = []

        async def one(i: int) -> None:
            ticket = await lane.enter()
            order.append(i)
            await asyncio.sleep(0.001)
            lane.leave(ticket)

        tasks = []
        for i in range(6):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(0)  # each arrives after the one before
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == list(range(6))


def test_a_waiter_that_goes_away_holds_no_place():
    async def scenario() -> tuple[int, int]:
        lane = AdmissionLane(width=1, ceiling=1, patience_s=0.0)
        first = await lane.enter()
        gone = asyncio.create_task(lane.enter())
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        lane.leave(first)
        later = await asyncio.wait_for(lane.enter(), timeout=1.0)  # would hang if ``gone`` held the place
        inside = lane.inside
        lane.leave(later)
        return inside, lane.inside

    assert asyncio.run(scenario()) == (1, 0)


def test_the_admission_width_follows_the_database_unless_set():
    sqlite = Settings(database_url="sqlite:///x.db")
    postgres = Settings(database_url="postgresql+psycopg://u@h/db")
    assert (sqlite.admission_width, postgres.admission_width) == (1, 2)
    assert Settings(database_url="sqlite:///x.db", inflight_width=3).admission_width == 3
    assert Settings(database_url="sqlite:///x.db", inflight_width=8, max_inflight_requests=4).admission_width == 4
