"""`matcher console-link`: prints a one-time sign-in link alone on stdout; the link works once."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app import migrate
from app.db import get_sessionmaker
from app.errors import Problem
from app.models import Area
from app.services.console_sessions import create_sign_in_link
from app.services.districts import ensure_district
from app.settings import get_settings
from tests.cli.test_keys_cli import run
from tests.support import app_for


def test_console_link_signs_in_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)  # in-process: the subprocess below is the command under test
    with get_sessionmaker(url)() as s:
        d = ensure_district(s, code="chaoyang", name="朝阳区")
        district_id = d.id
        s.add(Area(district_id=d.id, code="JW", name="建外街道", kind="street"))
        s.commit()
    r = run(["console-link", "--role", "liaison", "--area", "JW", "--base-url", "http://office:8000/"], url)
    assert r.returncode == 0, r.stderr
    link = r.stdout.strip()
    assert re.fullmatch(r"http://office:8000/login/link/[\w-]{40,}", link) and "mk_" not in link
    with get_sessionmaker(url)() as s, pytest.raises(Problem) as refused:
        create_sign_in_link(s, district_id=district_id, role="liaison", area_code=None, minutes=5)
    assert refused.value.errors[0]["field"] == "area"  # a liaison link needs its area
    monkeypatch.setenv("MATCHER_WEBHOOK_ENABLED", "false")
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    get_settings.cache_clear()
    with TestClient(app_for(get_settings())) as c:
        path = link.removeprefix("http://office:8000")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text).group(1)
        assert c.post(path, data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        assert "联络员" in c.get("/console").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text).group(1)
        assert c.post(path, data={"csrf_token": csrf}).status_code == 401  # used up
    get_settings.cache_clear()
