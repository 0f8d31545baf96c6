"""ASGI middleware: request ids, the access log, and the request-body size limit.

Pure ASGI (not BaseHTTPMiddleware) so streaming bodies are counted as they
arrive and an oversized upload is refused without buffering it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
import uuid
from collections import deque

from app.api.problems import PROBLEM_JSON, preferred_locale
from app.errors import Problem, msg, problem_document
from app.metrics import observe_request
from app.services.notifications.links import redact_path

access_log = logging.getLogger("app.access")
_VALID_RID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


_WANTED = (b"x-request-id", b"content-length", b"if-none-match")


def _wanted_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Only the headers this middleware reads, decoded (ASGI header names are lowercase)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw if k in _WANTED}


class _BodyTooLarge(Exception):
    pass


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"v3" matches "v3"."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


class RequestContextMiddleware:
    """Request ids and the access log; the body limit (413 however the body is sent); 304 for a
    GET whose If-None-Match names the representation's current ETag."""

    def __init__(self, app, max_body_bytes: int, discard_body_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        #: After refusing a body, this much more is read and thrown away so the client, which may
        #: still be sending (no Expect: 100-continue), reads the 413 instead of a reset connection.
        self.discard_body_bytes = discard_body_bytes if discard_body_bytes is not None else 4 * max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _wanted_headers(scope.get("headers", []))
        rid = headers.get("x-request-id", "")
        if not _VALID_RID.match(rid):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status_holder = {"status": 500}
        send = self._conditional(scope, headers, send)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_body_bytes:
            await self._drain(receive)
            await self._too_large(scope, send_with_id, rid)
        else:
            await self._limited(scope, receive, send_with_id, rid)
        if not access_log.isEnabledFor(logging.INFO):
            return
        path = redact_path(scope.get("path") or "")  # personal-link tokens never reach a log
        route = scope.get("route")
        observe_request(
            scope.get("method", ""),
            getattr(route, "path", "unmatched"),
            status_holder["status"],
            time.perf_counter() - started,
        )
        access_log.info(
            "%s %s %s",
            scope.get("method"),
            path,
            status_holder["status"],
            extra={
                "request_id": rid,
                "method": scope.get("method"),
                "path": path,
                "status": status_holder["status"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )

    async def _limited(self, scope, receive, send, rid: str) -> None:
        """Run the app, counting the body as it arrives (chunked bodies declare no length). Past the
        limit the app's own answer (frameworks turn a failing receive into a 400) is replaced by 413."""
        received = 0
        too_large = False
        started = False

        async def limited_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message):
            nonlocal started
            if too_large:
                return  # whatever the app answers to the failed read, the client gets the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            too_large = True
        if too_large and not started:
            await self._drain(receive)
            await self._too_large(scope, send, rid)

    async def _drain(self, receive) -> None:
        """Read and discard the rest of a refused body, up to the discard bound."""
        budget = self.discard_body_bytes
        while budget > 0:
            message = await receive()
            if message["type"] != "http.request":
                return
            budget -= len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    @staticmethod
    def _conditional(scope, headers: dict[str, str], send):
        """Answer 304 with no body when a GET's If-None-Match names the current ETag."""
        if_none_match = headers.get("if-none-match")
        if scope.get("method") not in ("GET", "HEAD") or not if_none_match:
            return send
        state = {"not_modified": False}

        async def conditional_send(message):
            if message["type"] == "http.response.start" and message["status"] == 200:
                response_headers = list(message.get("headers", []))
                etag = next((v.decode("latin-1") for k, v in response_headers if k.lower() == b"etag"), None)
                if etag is not None and _etag_matches(if_none_match, etag):
                    state["not_modified"] = True
                    kept = [
                        (k, v)
                        for k, v in response_headers
                        if k.lower() in (b"etag", b"cache-control", b"vary", b"date", b"content-location")
                    ]
                    message = {"type": "http.response.start", "status": 304, "headers": kept}
            elif message["type"] == "http.response.body" and state["not_modified"]:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        return conditional_send

    async def _too_large(self, scope, send, rid: str) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        locale = preferred_locale(headers.get("accept-language"))
        problem = Problem(413, "payload_too_large", msg("payload_too_large", limit=self.max_body_bytes))
        document = problem_document(problem, locale)
        document.update(instance=scope.get("path"), request_id=rid)
        body = json.dumps(document, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-language", b"zh-CN" if locale == "zh" else b"en"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AdmissionLane:
    """FIFO admission of requests into the application: ``width`` at once, and one more (up to
    ``ceiling``) whenever every admitted request has been inside longer than ``patience_s``.

    Why a narrow lane: sqlite3 and psycopg release the GIL around every row they step, so two
    requests running Python at once hand the GIL back and forth hundreds of times per list; on
    the 2-core machine 50 concurrent clients cost 10.5 ms of CPU per list request with 4 admitted
    and 5.1 ms with 1 (in process, the same requests). Why the patience: a request that waits on
    a lock (a SQLite writer behind another process's commit) or streams a large export must not
    hold up every request behind it; once all admitted requests are slow, the next one goes in.
    """

    def __init__(self, *, width: int, ceiling: int, patience_s: float) -> None:
        self.width, self.ceiling, self.patience_s = width, max(width, ceiling), patience_s
        self._admitted: dict[int, float] = {}  # ticket -> when it went in (loop time)
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._tickets = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def inside(self) -> int:
        return len(self._admitted)

    def _has_room(self, now: float) -> bool:
        if len(self._admitted) < self.width:
            return True
        longest_patience_left = max(self._admitted.values()) + self.patience_s - now
        return len(self._admitted) < self.ceiling and longest_patience_left <= 0

    def _admit_waiting(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let in the waiting requests there is room for, in order; otherwise wake up when the
        patience with the admitted ones runs out."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting and self._has_room(loop.time()):
            ticket, entered = self._waiting.popleft()
            if not entered.done():  # a waiter whose client went away is skipped
                self._admitted[ticket] = loop.time()
                entered.set_result(None)
        if self._waiting and len(self._admitted) < self.ceiling:
            when = max(self._admitted.values()) + self.patience_s
            self._timer = loop.call_at(when, self._admit_waiting, loop)

    async def enter(self) -> int:
        loop = asyncio.get_running_loop()
        ticket = next(self._tickets)
        if not self._waiting and self._has_room(loop.time()):
            self._admitted[ticket] = loop.time()
            return ticket
        entered: asyncio.Future[None] = loop.create_future()
        self._waiting.append((ticket, entered))
        self._admit_waiting(loop)
        try:
            await entered
        except asyncio.CancelledError:
            if entered.done() and not entered.cancelled():  # admitted as it was cancelled
                self.leave(ticket)
            raise
        return ticket

    def leave(self, ticket: int) -> None:
        self._admitted.pop(ticket, None)
        self._admit_waiting(asyncio.get_running_loop())


class InFlightLimit:
    """Requests enter the application through one ``AdmissionLane``; the others wait here,
    asynchronously, holding neither a worker thread nor a database connection.

    Why a limit at all: with more requests in flight than database connections, threads waiting
    for a connection (or, on SQLite, for the process's write turn) could occupy every slot of the
    thread pool while the request holding the connection and the turn waited for a thread to
    finish in: 50 concurrent clients stalled the server for the pool timeout (30 s). The ceiling
    stays below both the thread pool and the connection pool (``app.db`` sizes the pool from it),
    so every admitted request can always proceed.
    """

    def __init__(self, app, limit: int, width: int = 1, patience_s: float = 0.025) -> None:
        self.app = app
        self.limit, self.width, self.patience_s = limit, min(width, limit), patience_s
        self._lane: AdmissionLane | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        lane = self._lane
        if lane is None or loop is not self._loop:  # one per loop: an app may be served again
            lane = self._lane = AdmissionLane(width=self.width, ceiling=self.limit, patience_s=self.patience_s)
            self._loop = loop
        ticket = await lane.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            lane.leave(ticket)
