"""`matcher serve`: the options it gives uvicorn."""

from __future__ import annotations

import httpx
import uvicorn

from app.cli.serve import serve


def test_serve_keeps_idle_connections_longer_than_clients_do(monkeypatch):
    """uvicorn's default keep-alive (5 s) equals httpx's idle expiry: a client reusing a connection
    as the server closed it got ReadError under load (issue 11). The server must outlast the client."""
    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    serve(host="127.0.0.1", port=8000, workers=2)
    assert seen["app"] == "app.asgi:app" and seen["workers"] == 2
    assert seen["timeout_keep_alive"] > httpx.Limits().keepalive_expiry
