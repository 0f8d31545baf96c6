"""`matcher doctor` on a real database: what is fine, what to fix, in Chinese and English; the\nnotification channels against a real SMTP server (aiosmtpd) and the gateway settings."""

from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.models import Member
from tests.notifications.conftest import Mailbox


def test_doctor_reports_worker_and_schedule(db, settings):
    with db.session() as s:
        s.execute(
            text(
                "INSERT INTO districts (code, name, active, timezone, settings, created_at, updated_at) "
                "VALUES ('haidian', '海淀区', true, 'Asia/Shanghai', "
                '\'{"schedule": {"enabled": true, "weekday": 0, "time": "06:00"}}\', '
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        s.commit()
    r = CliRunner().invoke(cli, ["doctor"])
    assert "the schema is at the latest revision" in r.output and "数据库可以连接" in r.output
    assert "haidian: weekly optimisation Mon 06:00 (Asia/Shanghai)" in r.output
    if db.kind == "sqlite":
        assert r.exit_code == 0 and "all good" in r.output
        return
    assert r.exit_code == 1 and "start `matcher worker`" in r.output  # no worker has ever run
    with db.session() as s:
        s.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
        s.commit()
    r = CliRunner().invoke(cli, ["doctor"])
    assert r.exit_code == 0 and "a worker is alive" in r.output, r.output


def test_doctor_on_an_unmigrated_database(tmp_path, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(cli, ["doctor"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1 and "run `matcher db upgrade`" in r.output


def _doctor(monkeypatch, **env: str):
    monkeypatch.setenv("MATCHER_NOTIFY_ENABLED", "true")
    for name, value in env.items():
        monkeypatch.setenv(f"MATCHER_{name.upper()}", value)
    return CliRunner().invoke(cli, ["doctor"])


def _set_channels(db, world, **channels: str | None) -> None:
    """Member name -> preferred channel (None: by e-mail address)."""
    with db.session() as s:
        for name, channel in channels.items():
            member = s.get(Member, world.members[name])
            member.preferred_channel = channel
            member.email = "member@example.cn" if channel is None else None
        s.commit()


def test_doctor_checks_the_mail_server_members_are_told_through(db, world, monkeypatch):
    _set_channels(db, world, 张伟=None)  # an e-mail address: the mail channel is in use
    box = Mailbox().start()
    try:
        r = _doctor(
            monkeypatch, smtp_host="127.0.0.1", smtp_port=str(box.port), public_base_url="https://zx.example.cn"
        )
        no_password = _doctor(monkeypatch, smtp_user="zhengxie")
    finally:
        box.stop()
    assert (
        "[FIX] 设置了邮件账号 zhengxie 但没有口令" in no_password.output
        and "set MATCHER_SMTP_PASSWORD" in no_password.output
    )
    assert "邮件账号" not in r.output  # no user: no password needed
    assert f"邮件服务器 127.0.0.1:{box.port} 可以连接" in r.output and "the mail server" in r.output, r.output
    assert "[ok ] 通知中的个人链接指向 https://zx.example.cn" in r.output
    # stopped: nobody answers; the links point to this machine
    r = _doctor(monkeypatch, smtp_port=str(box.port), public_base_url="http://127.0.0.1:8000")
    assert f"[FIX] 无法连接邮件服务器 127.0.0.1:{box.port}" in r.output
    assert "check MATCHER_SMTP_HOST and MATCHER_SMTP_PORT" in r.output
    assert "[FIX] 通知中的个人链接指向本机" in r.output and "set MATCHER_PUBLIC_BASE_URL" in r.output
    assert r.exit_code == 1


def test_doctor_checks_the_gateway_url_when_members_use_the_webhook_channel(db, world, monkeypatch):
    _set_channels(db, world, 李娜="webhook")
    base = {"public_base_url": "https://zx.example.cn", "notify_default_channel": "log"}
    r = _doctor(monkeypatch, **base)
    assert "[FIX] 有成员通过消息网关" in r.output and "MATCHER_NOTIFY_WEBHOOK_URL is unset or invalid" in r.output
    r = _doctor(monkeypatch, **base, notify_webhook_url="https://qyapi.example.cn/cgi-bin/webhook/send?key=SECRET")
    assert "[ok ] 消息网关地址已设置：https://qyapi.example.cn/cgi-bin/webhook/send" in r.output
    assert "SECRET" not in r.output and "邮件服务器" not in r.output  # no member is told by mail
    assert "notification channels in use: log, webhook" in r.output


def test_doctor_skips_channels_when_notifications_are_off(db, world, monkeypatch):
    _set_channels(db, world, 张伟=None)
    r = CliRunner().invoke(cli, ["doctor"])  # the test settings switch notifications off
    assert "[ok ] 成员通知已关闭" in r.output and "邮件服务器" not in r.output
