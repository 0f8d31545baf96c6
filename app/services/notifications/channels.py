"""Where a message goes: one small interface, three channels.

* ``email``: SMTP with the standard library (``smtplib``/``email``), STARTTLS if configured;
  plain text, UTF-8, one message per notification with a ``Message-ID`` derived from the
  notification (so a receiving system can drop a duplicate resent after a crash).
* ``webhook``: an HTTPS JSON POST to the district's messaging gateway; the body is a WeChat
  Work (企业微信) group-robot or DingTalk robot message (``text`` or ``markdown``), so either
  robot (or an SMS gateway speaking the same JSON) works without code.
* ``log``: the demo channel; logs what would be sent, with the place, phone numbers and the
  link token masked.

``send`` raises ``ChannelError`` on any failure; the dispatcher records it and retries.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import httpx

from app.domain.enums import NotificationChannel
from app.services.notifications.messages import Message
from app.settings import NotifySettings

log = logging.getLogger("app.notify")


class ChannelError(Exception):
    pass


@dataclass(frozen=True)
class Recipient:
    member_id: int
    name: str
    email: str | None
    notification_id: int


class Sender(Protocol):
    name: NotificationChannel

    def send(self, recipient: Recipient, message: Message) -> None:
        """Deliver or raise ``ChannelError``."""


class EmailSender:
    name = NotificationChannel.EMAIL

    def __init__(self, cfg: NotifySettings) -> None:
        self.cfg = cfg

    def compose(self, recipient: Recipient, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.cfg.smtp_from
        mail["To"] = recipient.email or ""
        mail["Date"] = formatdate(localtime=False)
        domain = self.cfg.smtp_from.rpartition("@")[2] or "localhost"
        mail["Message-ID"] = f"<notification-{recipient.notification_id}@{domain}>"
        mail.set_content(message.text, charset="utf-8")
        return mail

    def send(self, recipient: Recipient, message: Message) -> None:
        if not recipient.email:
            raise ChannelError("member has no e-mail address")
        cfg = self.cfg
        try:
            with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.notify_timeout_s) as smtp:
                if cfg.smtp_starttls:
                    smtp.starttls()
                if cfg.smtp_user:
                    smtp.login(cfg.smtp_user, cfg.smtp_password or "")
                smtp.send_message(self.compose(recipient, message))
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}"[:500]) from exc


def robot_body(message: Message, fmt: str, msgtype: str) -> dict[str, Any]:
    """The JSON a 企业微信 (``wecom``) or DingTalk (``dingtalk``) robot accepts."""
    if msgtype == "text":
        return {"msgtype": "text", "text": {"content": f"{message.subject}\n{message.text}"}}
    if fmt == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": message.markdown}}
    return {"msgtype": "markdown", "markdown": {"content": message.markdown}}


class WebhookSender:
    name = NotificationChannel.WEBHOOK

    def __init__(self, cfg: NotifySettings, client: httpx.Client | None = None) -> None:
        self.cfg = cfg
        self.client = client

    def send(self, recipient: Recipient, message: Message) -> None:
        url = self.cfg.notify_webhook_url
        if not url:
            raise ChannelError("MATCHER_NOTIFY_WEBHOOK_URL is not set")
        body = robot_body(message, self.cfg.notify_webhook_format, self.cfg.notify_webhook_msgtype)
        headers = {"X-Matcher-Notification": str(recipient.notification_id)}
        try:
            if self.client is not None:
                response = self.client.post(url, json=body, headers=headers)
            else:
                with httpx.Client(timeout=self.cfg.notify_timeout_s, follow_redirects=False) as client:
                    response = client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}"[:500]) from exc
        if not 200 <= response.status_code < 300:
            raise ChannelError(f"HTTP {response.status_code}")
        # Both robots answer 200 with {"errcode": 0} on success and a non-zero errcode otherwise.
        try:
            errcode = response.json().get("errcode", 0)
        except ValueError:
            errcode = 0
        if errcode:
            raise ChannelError(f"robot errcode {errcode}")


class LogSender:
    """The demo channel: what would be sent, masked (never a phone, a place or a token)."""

    name = NotificationChannel.LOG

    def send(self, recipient: Recipient, message: Message) -> None:
        log.info(
            "notification %s to member %s (log channel): %s",
            recipient.notification_id,
            recipient.member_id,
            message.masked(),
        )


def senders(cfg: NotifySettings, client: httpx.Client | None = None) -> dict[str, Sender]:
    return {
        NotificationChannel.EMAIL.value: EmailSender(cfg),
        NotificationChannel.WEBHOOK.value: WebhookSender(cfg, client),
        NotificationChannel.LOG.value: LogSender(),
    }
