"""A lean HTTP/1.1 keep-alive client for the load generator (`python -m bench api`).

Why not httpx: the generator shares the 2 cores with the server it measures, and httpx (pure
Python h11 parsing, an httpcore pool that scans every connection per request) spent about 1 ms of
CPU per request: in the open loop at 200 req/s the generator used 0.91 cores and could not send
on schedule, so the queueing it reported was its own, while the server sat at half a core. This
client writes the request bytes itself and parses the answer with httptools (the C parser uvicorn
uses), a fraction of that cost. It speaks only what the bench sends: a GET or a JSON body, no TLS,
no redirects, no cookies. Its answer has httpx's ``status_code`` and ``json()``, so the workload
code is the same for both.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools

#: Idle connections older than this are closed instead of reused: well below the server's
#: keep-alive (app.cli.serve.KEEP_ALIVE_S), so the client never reuses one as the server drops it.
IDLE_EXPIRY_S = 4.0


class ServerClosed(ConnectionError):
    """The server closed the connection before the whole answer arrived (httpx: ReadError)."""


class Response:
    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class _Answer:
    """httptools callbacks: collects one response."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.complete = False
        self.keep_alive = False
        self.parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        # Asked here, not after feed_data returns: once the message is complete llhttp resets its
        # state and should_keep_alive() answers False, so every connection was closed after one
        # request (the server paid a TCP accept and a protocol set-up per request).
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    async def exchange(self, request: bytes) -> tuple[Response, bool]:
        """Send one request, read its answer; also whether the connection may be reused."""
        self.writer.write(request)
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        while not answer.complete:
            data = await self.reader.read(65536)
            if not data:
                raise ServerClosed("connection closed before the answer was complete")
            parser.feed_data(data)
        response = Response(parser.get_status_code(), answer.headers, b"".join(answer.body))
        return response, answer.keep_alive

    def close(self) -> None:
        self.writer.close()


class LeanClient:
    """At most ``max_connections`` connections to one loopback server, idle ones reused (LIFO)."""

    def __init__(self, base_url: str, max_connections: int, timeout_s: float = 30.0) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    def _encode(self, method: str, path: str, params, json, headers) -> bytes:  # noqa: ANN001 - as httpx
        target = f"{path}?{urlencode(params)}" if params else path
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        body = b""
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            lines.append("Content-Type: application/json")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.idle_since < IDLE_EXPIRY_S and not conn.reader.at_eof():
                return conn
            conn.close()
        return _Connection(*await asyncio.open_connection(self.host, self.port))

    async def request(self, method: str, path: str, *, params=None, json=None, headers=None) -> Response:  # noqa: ANN001 - as httpx
        request = self._encode(method, path, params, json, headers)
        async with self._slots:
            conn = await self._connection()
            try:
                async with asyncio.timeout(self.timeout_s):
                    response, reusable = await conn.exchange(request)
            except BaseException:
                conn.close()
                raise
            if reusable:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()
            return response

    async def get(self, path: str, **kwargs: Any) -> Response:
        return await self.request("GET", path, **kwargs)
