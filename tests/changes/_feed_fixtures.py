"""Helpers for the change-feed and webhook tests: ORM writers and a real HTTP receiver."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.models import Assignment, Demand, DutyRecord, OptimizationRun
from tests.live import free_port

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def new_demand(district_id: int, area_id: int, community_id: int, title: str = "防金融诈骗讲座") -> Demand:
    return Demand(
        district_id=district_id,
        area_id=area_id,
        community_id=community_id,
        title=title,
        channel="liaison_station",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
    )


def new_run(district_id: int, status: str = "succeeded") -> OptimizationRun:
    return OptimizationRun(
        district_id=district_id,
        window_start=date(2026, 12, 7),
        window_end=date(2026, 12, 13),
        week="2026-W50",
        status=status,
    )


def new_assignment(district_id: int, demand: Demand, member_id: int, run_id: int | None) -> Assignment:
    return Assignment(
        district_id=district_id,
        run_id=run_id,
        demand_id=demand.id,
        member_id=member_id,
        area_id=demand.area_id,
        status="proposed",
        score=1.0,
    )


def new_duty_record(district_id: int, member_id: int, area_id: int | None) -> DutyRecord:
    return DutyRecord(
        district_id=district_id,
        member_id=member_id,
        kind="activity",
        date=date(2026, 12, 7),
        title="社区普法活动",
        area_id=area_id,
    )


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 answering with scripted status codes (then 200)."""

    port: int = field(default_factory=free_port)
    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/matcher"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(Received(dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def accepted(self) -> list[Received]:
        """Requests the receiver answered with 2xx: what it actually took in."""
        return [r for r in self.requests if 200 <= r.status < 300]
