"""Console sign-in over HTTP on both databases: key form, one-time link, cookie flags, expiry,
sign-out revoking server-side, CSRF on every POST."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.models import ConsoleSession, Demand
from app.models.base import utcnow
from app.services.console_sessions import COOKIE_NAME, create_sign_in_link
from tests.console.support import csrf_of, sign_in


def test_signed_out_browser_is_sent_to_login(browser_client):
    r = browser_client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    r = browser_client.get("/console/demands?status=open", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fconsole%2Fdemands")
    page = browser_client.get("/login")
    assert '<html lang="zh-CN">' in page.text and "访问密钥" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_sign_in_sets_hardened_cookie_and_sign_out_revokes_it(db, world, app):
    with TestClient(app) as c:
        csrf = sign_in(c, world.keys["admin"])
        cookie = c.cookies.get(COOKIE_NAME)
        assert cookie and world.keys["admin"] not in cookie
        with db.session() as s:  # only the hash is stored
            assert s.scalar(select(ConsoleSession.token_hash)) != cookie
        r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/login")
    with TestClient(app, cookies={COOKIE_NAME: cookie}) as old:  # the same cookie, replayed
        assert old.get("/console", follow_redirects=False).status_code == 303


def test_cookie_flags_http_and_https(world, app):
    for base, secure in [("http://testserver", False), ("https://testserver", True)]:
        with TestClient(app, base_url=base) as c:
            form = c.get("/login")
            r = c.post(
                "/login", data={"api_key": world.keys["reader"], "csrf_token": csrf_of(form.text)},
                follow_redirects=False,
            )  # fmt: skip
            header = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME + "="))
            flags = {p.strip().split("=")[0].lower() for p in header.split(";")}
            assert {"httponly", "samesite", "max-age", "path"} <= flags
            assert "samesite=strict" in header.lower()
            assert ("secure" in flags) is secure
            assert "max-age=28800" in header.lower()  # 8 h by default


def test_wrong_key_and_missing_csrf_are_refused_in_chinese(world, app):
    with TestClient(app) as c:
        form = c.get("/login")
        r = c.post("/login", data={"api_key": "mk_nope_nope", "csrf_token": csrf_of(form.text)})
        assert r.status_code == 401 and "访问密钥无效或已停用" in r.text
        r = c.post("/login", data={"api_key": world.keys["admin"]})  # no CSRF token
        assert r.status_code == 403 and "安全校验" in r.text
        assert COOKIE_NAME not in c.cookies


def test_expired_session_is_refused_and_later_purged(db, world, app):
    with TestClient(app) as c:
        sign_in(c, world.keys["admin"])
        with db.session() as s:
            s.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(seconds=1)))
            s.commit()
        assert c.get("/console", follow_redirects=False).status_code == 303
        with db.session() as s:
            s.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(days=2)))
            s.commit()
        sign_in(c, world.keys["admin"])  # a new sign-in drops the long-dead row
        with db.session() as s:
            assert s.query(ConsoleSession).count() == 1


def test_one_time_sign_in_link(db, world, app):
    with db.session() as s:
        token = create_sign_in_link(s, district_id=world.district_id, role="liaison", area_code="JW", minutes=30)
        s.commit()
    with TestClient(app) as c:
        confirm = c.get(f"/login/link/{token}")
        assert confirm.status_code == 200 and "一次性登录链接" in confirm.text
        r = c.post(f"/login/link/{token}", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=False)
        assert r.status_code == 303
        assert "联络员" in c.get("/console").text
    with TestClient(app) as again:
        confirm = again.get(f"/login/link/{token}")
        r = again.post(f"/login/link/{token}", data={"csrf_token": csrf_of(confirm.text)})
        assert r.status_code == 401 and "已被使用" in r.text


def test_post_without_csrf_token_is_refused_and_changes_nothing(db, world, app):
    with TestClient(app) as c:
        sign_in(c, world.keys["admin"])
        form = {"title": "无令牌", "community_id": str(world.communities["建外社区"]), "channel": "other",
                "starts_at": "2026-12-07T09:00", "ends_at": "2026-12-07T10:00"}  # fmt: skip
        assert c.post("/console/demands/new", data=form).status_code == 403
        assert c.post("/console/demands/new", data={**form, "csrf_token": "forged"}).status_code == 403
        assert c.post("/logout").status_code == 403
    with db.session() as s:
        assert s.scalar(select(Demand).where(Demand.title == "无令牌")) is None
