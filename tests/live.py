"""Real network endpoints for tests: a free loopback port, the app served by uvicorn, an HTTP
receiver for webhooks, and a headless Chromium driven through chromedriver (Selenium)."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"  # Debian's packages, never downloaded
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Nothing but the app itself can be reached: an outside fetch would fail and show up.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(
    app: FastAPI, *, lifespan: Literal["auto", "on", "off"] = "auto", start_timeout_s: float = 30.0
) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 in a background thread; yields its base URL, stops it after."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def require_chromium(what: str) -> None:
    """Debian's chromium and chromedriver must be there: a failure under CI=true, else a loud skip."""
    import pytest

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        message = (
            f"{', '.join(missing)} not installed: {what} cannot be tested in a browser (run scripts/ensure-test-deps)"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (CI=true requires it)")
        sys.stderr.write(f"\n!!! {message}; SKIPPING the browser test !!!\n")
        pytest.skip(message)


def chromium_options(profile: Path, *extra: str) -> Any:
    """Headless Chromium options with a fresh profile, that reach nothing but 127.0.0.1, with the
    browser console recorded (``driver.get_log("browser")``); ``extra`` flags are added."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


def start_chromium(options: Any) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@contextmanager
def chromium_session(profile: Path, *, width: int = 1280, height: int = 2000) -> Iterator[Any]:
    """One headless Chromium for many pages: starting the browser is the slow part, a page load is not."""
    driver = start_chromium(chromium_options(profile, f"--window-size={width},{height}", "--hide-scrollbars"))
    try:
        yield driver
    finally:
        driver.quit()


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
            def do_POST(self) -> None:  # http.server's name for the POST handler
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
