"""Channels against real receivers: an SMTP server (aiosmtpd) and an HTTP robot endpoint."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Notification, NotificationAttempt
from app.models.base import utcnow
from app.services.notifications.channels import robot_body
from app.services.notifications.messages import Message
from tests.notifications.conftest import LINK_RE, Mailbox, dispatch, publish_plan, set_emails


def _rows(db) -> list[Notification]:
    with db.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_published_plan_mails_each_member_once_with_a_working_link(db, world, server, http, mailbox):
    set_emails(db, world, {"张伟": "zhangwei@example.cn", "李娜": "lina@example.cn"})
    publish_plan(db, world, http)
    rows = _rows(db)
    assert sorted((r.event, r.channel, r.status) for r in rows) == [("proposal", "email", "pending")] * 2
    config = mailbox.smtp_cfg(public_base_url=server)
    assert dispatch(db, config).sent == 2
    assert sorted(to for to, _ in mailbox.messages) == [["lina@example.cn"], ["zhangwei@example.cn"]]
    for _, mail in mailbox.messages:
        assert mail["Subject"].startswith("【委员进社区】邀请您参加：")
        body = mail.get_content()
        assert "委员您好" in body and "推荐理由" in body
        url = LINK_RE.search(body).group(0)
        assert url.startswith(server + "/t/")
        page = http.get(url)
        assert page.status_code == 200 and ("物业纠纷法律咨询" in page.text or "防范金融诈骗讲座" in page.text)
    # a second dispatcher (a restart) sends nothing again
    assert dispatch(db, config).sent == 0 and len(mailbox.messages) == 2
    assert all(r.status == "sent" and r.attempts == 1 and r.link_id for r in _rows(db))


def test_mail_server_down_then_back_gets_the_mail_once(db, world, server, http):
    set_emails(db, world, {"张伟": "zhangwei@example.cn", "李娜": "lina@example.cn"})
    publish_plan(db, world, http)
    box = Mailbox()  # not started yet: connections are refused
    config = box.smtp_cfg(public_base_url=server)
    first = dispatch(db, config)
    assert first.sent == 0 and first.failed_attempts == 2
    rows = _rows(db)
    assert all(r.status == "pending" and r.attempts == 1 and r.last_error for r in rows)
    # backoff: not retried before it is due
    assert dispatch(db, config).failed_attempts == 0
    box.start()
    try:
        later = utcnow() + timedelta(seconds=5)
        assert dispatch(db, config, now=later).sent == 2
        assert dispatch(db, config, now=later + timedelta(seconds=60)).sent == 0  # restart: no duplicate
        assert len(box.messages) == 2
    finally:
        box.stop()
    with db.session() as s:
        attempts = list(
            s.execute(select(NotificationAttempt.attempt, NotificationAttempt.ok).order_by(NotificationAttempt.id))
        )
    assert sorted(attempts) == [(1, False), (1, False), (2, True), (2, True)]  # every attempt recorded


def test_log_channel_masks_place_phone_and_token():
    message = Message(
        subject="邀请",
        text="请到建外街道建外社区，电话 13800138000，链接 http://x/t/AbCdEfGhIjKlMnOpQrStUv",
        url=None,
        sensitive=("建外街道建外社区",),
    )
    masked = message.masked()
    assert "建外社区" not in masked and "13800138000" not in masked and "AbCdEfGh" not in masked
    assert "/t/***" in masked
    assert robot_body(message, "wecom", "markdown") == {
        "msgtype": "markdown",
        "markdown": {"content": message.markdown},
    }
