"""Access logs: one JSON object per line, with the request id, never a key or a phone."""

from __future__ import annotations

import io
import json
import logging

from app.logging import JsonFormatter


def test_access_log_is_json_and_carries_no_secrets(client, world):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        key = world.keys["admin"]
        client.get("/v1/areas?limit=5", headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-42"})
        client.get("/v1/areas", headers={"X-API-Key": key})
        logging.getLogger("app.test").error("member phone 13800138000 with key %s", key)
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    access = [entry for entry in lines if entry["logger"] == "app.access"]
    assert access and access[0]["request_id"] == "req-42"
    assert {"method", "path", "status", "duration_ms"} <= access[0].keys()
    assert access[0]["path"] == "/v1/areas" and access[0]["status"] == 200
    text = stream.getvalue()
    assert key not in text
    assert "13800138000" not in text
