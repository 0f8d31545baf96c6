"""Many clients at once against the real server, on both databases: every request answered.

`matcher serve` on SQLite stalled under 50 concurrent clients (`python -m bench api --phases
closed_loop --clients 50`: 4.6 req/s, 13 timeouts, the server idle for the pool's 30 s timeout):
threads waiting for a connection or for the write turn filled the thread pool while the request
holding both waited for a thread. The in-process server of this test did not reproduce that
stall without the fix (the bench does); it guards the admitted-requests path: a closed loop of
50 clients, reads and writes, all answered, none timed out.
"""

from __future__ import annotations

import threading

import httpx

from app.api.main import create_app
from tests.factories import demand_body
from tests.live import serve_app

CLIENTS = 50
ROUNDS = 4  # each client: a closed loop of ROUNDS requests, every third client writing


def test_fifty_clients_in_a_closed_loop_are_all_answered(world, settings, db):
    statuses: list[int | str] = []
    with serve_app(create_app(settings)) as url:
        barrier = threading.Barrier(CLIENTS)

        def client(i: int) -> None:
            with httpx.Client(base_url=url, headers=world.h("admin"), timeout=20) as c:
                barrier.wait(timeout=30)
                for n in range(ROUNDS):
                    try:
                        if i % 3 == 0:
                            r = c.post("/v1/demands", json=demand_body(world, title=f"并发民需{i}-{n}"))
                        else:
                            r = c.get("/v1/demands", params={"limit": 100})
                        statuses.append(r.status_code)
                    except httpx.TimeoutException as exc:
                        statuses.append(type(exc).__name__)

        workers = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=60)
    writers = len(range(0, CLIENTS, 3))
    expected = [201] * (writers * ROUNDS) + [200] * ((CLIENTS - writers) * ROUNDS)
    assert sorted(statuses, key=str) == sorted(expected, key=str)
