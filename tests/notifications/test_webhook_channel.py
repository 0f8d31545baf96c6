"""The webhook channel against real HTTP receivers on 127.0.0.1: 企业微信 and DingTalk robot bodies.

The body does not depend on the database, so this module runs on SQLite only.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.domain.enums import NotificationChannel
from app.models import Member, Notification
from tests.conftest import _fresh_database
from tests.live import Receiver
from tests.notifications.conftest import LINK_RE, cfg, dispatch, publish_plan


@pytest.fixture
def db(request):
    return _fresh_database("sqlite", request)


def _prefer_webhook(db) -> None:
    with db.session() as s:
        for m in s.scalars(select(Member)):
            m.preferred_channel = NotificationChannel.WEBHOOK.value
        s.commit()


@pytest.mark.parametrize(("fmt", "msgtype"), [("wecom", "markdown"), ("dingtalk", "markdown"), ("wecom", "text")])
def test_webhook_channel_posts_robot_messages(db, world, server, http, fmt, msgtype):
    _prefer_webhook(db)
    publish_plan(db, world, http)
    receiver = Receiver().start()
    try:
        config = cfg(
            public_base_url=server,
            notify_webhook_url=receiver.url,
            notify_webhook_format=fmt,
            notify_webhook_msgtype=msgtype,
        )
        assert dispatch(db, config).sent == 2
        bodies = [json.loads(r.body) for r in receiver.accepted]
    finally:
        receiver.stop()
    assert len(bodies) == 2
    for body in bodies:
        assert body["msgtype"] == msgtype
        if msgtype == "text":
            content = body["text"]["content"]
        elif fmt == "dingtalk":
            assert body["markdown"]["title"].startswith("【委员进社区】")
            content = body["markdown"]["text"]
        else:
            assert set(body["markdown"]) == {"content"}
            content = body["markdown"]["content"]
        assert "委员您好" in content and LINK_RE.search(content)


def test_robot_error_code_is_a_failed_attempt(db, world, server, http):
    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"errcode": 93000, "errmsg": "invalid webhook url"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    robot = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=robot.serve_forever, daemon=True).start()
    try:
        _prefer_webhook(db)
        publish_plan(db, world, http)
        url = f"http://127.0.0.1:{robot.server_address[1]}/robot"
        result = dispatch(db, cfg(notify_webhook_url=url, notify_max_attempts=1))
    finally:
        robot.shutdown()
        robot.server_close()
    assert result.failed_attempts == 2
    assert _outcomes(db) == {("failed", "robot errcode 93000")}


def _outcomes(db) -> set[tuple[str, str | None]]:
    with db.session() as s:
        return {(n.status, n.last_error) for n in s.scalars(select(Notification))}
