"""Console test helpers: sign a TestClient in the way a browser does (form + CSRF token)."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.testclient import TestClient

from tests.factories import NEXT_MONDAY

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def iso_week(day: datetime) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


WEEK = iso_week(NEXT_MONDAY)


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def sign_in(client: TestClient, key: str) -> str:
    """Sign in through the form like a browser; returns the session's CSRF token."""
    form = client.get("/login")
    r = client.post("/login", data={"api_key": key, "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/console")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
