"""ASGI middleware: request ids, the access log, and the request-body size limit.

Pure ASGI (not BaseHTTPMiddleware) so streaming bodies are counted as they
arrive and an oversized upload is refused without buffering it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from app.api.problems import PROBLEM_JSON, TYPE_PREFIX
from app.metrics import observe_request
from app.services.notifications.links import redact_path

access_log = logging.getLogger("app.access")
_VALID_RID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


class _BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    def __init__(self, app, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        if not _VALID_RID.match(rid):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status_holder = {"status": 500}

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
            await self._too_large(scope, send_with_id, rid)
        else:
            received = 0

            async def limited_receive():
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise _BodyTooLarge
                return message

            try:
                await self.app(scope, limited_receive, send_with_id)
            except _BodyTooLarge:
                await self._too_large(scope, send_with_id, rid)
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

    async def _too_large(self, scope, send, rid: str) -> None:
        body = json.dumps(
            {
                "type": TYPE_PREFIX + "payload_too_large",
                "title": "Payload too large",
                "status": 413,
                "code": "payload_too_large",
                "detail": f"Request bodies are limited to {self.max_body_bytes} bytes.",
                "instance": scope.get("path"),
                "request_id": rid,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
