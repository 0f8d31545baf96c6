"""Sending the outbox: claim -> send with no transaction open -> record, with backoff.

The same lease pattern as the webhook dispatcher (``app.services.webhooks``):

1. *claim* (one short transaction): a due ``pending`` row is taken by compare-and-set on its
   ``attempts`` and its ``next_attempt_at`` pushed a lease ahead, so two dispatchers (the API
   process and ``matcher worker``) never send the same row at once. A message that carries a
   personal link mints the link's token here, in the claim's transaction: the token then
   exists in clear only in memory and in the message sent. A row whose cause no longer holds
   (the proposal was withdrawn before it went out) becomes ``obsolete`` instead.
2. *send* through the member's channel (``channels.py``), outside any transaction;
3. *record* (one short transaction): an ``NotificationAttempt`` row for every attempt, and the
   row ``sent``, or ``pending`` again after ``base * 2**(attempt-1)`` seconds (capped), or
   ``failed`` after ``notify_max_attempts``.

A crash between send and record lets the lease expire and the message is sent again
(at-least-once; e-mails carry a stable ``Message-ID`` per notification for deduplication).
Every pass also runs the periodic scans: repair marks that are due (``app.services.repair``)
and, every ``SCAN_EVERY_S``, reminders and nudges (``reminders.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.domain.enums import AssignmentStatus, NotificationEvent, NotificationStatus
from app.models import Assignment, Demand, Member, Notification, NotificationAttempt
from app.models.base import utcnow
from app.services.audit import audited_update
from app.services.notifications import messages
from app.services.notifications.channels import ChannelError, Recipient, Sender, senders
from app.services.notifications.links import mint_task_link
from app.settings import NotifySettings

log = logging.getLogger("app.notify")

SCAN_EVERY_S = 10.0
# The assignment states in which a message about it still makes sense.
_STILL_TRUE: dict[NotificationEvent, tuple[str, ...]] = {
    NotificationEvent.PROPOSAL: (AssignmentStatus.PUBLISHED,),
    NotificationEvent.REPAIR_PROPOSAL: (AssignmentStatus.PUBLISHED,),
    NotificationEvent.NUDGE: (AssignmentStatus.PUBLISHED,),
    NotificationEvent.REMINDER: (AssignmentStatus.ACCEPTED,),
    NotificationEvent.CHANGED: (AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED),
}
_WITHOUT_LINK = (NotificationEvent.CANCELLED,)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass
class _Claim:
    notification_id: int
    attempt: int
    channel: str
    recipient: Recipient
    message: messages.Message


@dataclass
class DispatchResult:
    sent: int = 0
    failed_attempts: int = 0
    obsolete: int = 0
    scanned: dict[str, int] = field(default_factory=dict)


def _obsolete(s: Session, row: Notification, reason: str) -> None:
    row.status = NotificationStatus.OBSOLETE
    row.next_attempt_at = None
    row.last_error = reason
    s.commit()


def _claim(s: Session, notification_id: int, now: datetime, cfg: NotifySettings) -> _Claim | None:
    row = s.get(Notification, notification_id)
    if row is None or row.status != NotificationStatus.PENDING:
        return None
    taken = audited_update(
        s,
        Notification,
        Notification.id == row.id,
        Notification.attempts == row.attempts,
        Notification.status == NotificationStatus.PENDING,
        values={
            "attempts": row.attempts + 1,
            "next_attempt_at": now + timedelta(seconds=cfg.notify_lease_s),
            "updated_at": now,
        },
    )
    if len(taken) != 1:
        s.rollback()
        return None
    s.refresh(row)
    event = NotificationEvent(row.event)
    assignment = s.get(Assignment, row.assignment_id) if row.assignment_id else None
    member = s.get(Member, row.member_id)
    demand = s.get(Demand, assignment.demand_id) if assignment else None
    if assignment is None or member is None or demand is None:
        _obsolete(s, row, "obsolete: its assignment is gone")
        return None
    if event in _STILL_TRUE and assignment.status not in _STILL_TRUE[event]:
        _obsolete(s, row, f"obsolete: the assignment is {assignment.status}")
        return None
    url = None
    if event not in _WITHOUT_LINK:
        minted = mint_task_link(s, assignment=assignment, cfg=cfg)
        row.link_id = minted.link.id
        url = minted.url(cfg.public_base_url)
    message = messages.build(event=event, assignment=assignment, demand=demand, member=member, url=url)
    row.subject = message.subject[:200]
    s.commit()
    recipient = Recipient(member.id, member.name, member.email, row.id)
    return _Claim(row.id, row.attempts, row.channel, recipient, message)


def _record(
    factory: sessionmaker[Session], claim: _Claim, error: str | None, started: datetime, cfg: NotifySettings
) -> str:
    now = utcnow()
    values: dict[str, object] = {"last_error": error, "updated_at": now}
    if error is None:
        status = NotificationStatus.SENT
        values.update(status=status, sent_at=now, next_attempt_at=None)
    elif cfg.notify_max_attempts and claim.attempt >= cfg.notify_max_attempts:
        status = NotificationStatus.FAILED
        values.update(status=status, next_attempt_at=None)
    else:
        status = NotificationStatus.PENDING
        values.update(next_attempt_at=now + cfg.backoff(claim.attempt))
    with factory() as s:
        s.add(
            NotificationAttempt(
                notification_id=claim.notification_id,
                attempt=claim.attempt,
                channel=claim.channel,
                ok=error is None,
                error=error,
                started_at=started,
                finished_at=now,
            )
        )
        audited_update(
            s,
            Notification,
            Notification.id == claim.notification_id,
            Notification.attempts == claim.attempt,
            values=values,
        )
        s.commit()
    return status.value


def send_due(
    factory: sessionmaker[Session], now: datetime, cfg: NotifySettings, channel_senders: dict[str, Sender]
) -> DispatchResult:
    """Send every due pending notification once (oldest first, one batch)."""
    result = DispatchResult()
    with factory() as s:
        due = list(
            s.scalars(
                select(Notification.id)
                .where(Notification.status == NotificationStatus.PENDING, Notification.next_attempt_at <= now)
                .order_by(Notification.id)
                .limit(cfg.notify_batch_size)
            )
        )
    for notification_id in due:
        with factory() as s:
            claim = _claim(s, notification_id, now, cfg)
        if claim is None:
            continue
        started = utcnow()
        sender = channel_senders.get(claim.channel)
        error = None
        try:
            if sender is None:
                raise ChannelError(f"unknown channel {claim.channel!r}")
            sender.send(claim.recipient, claim.message)
        except ChannelError as exc:
            error = str(exc)
        status = _record(factory, claim, error, started, cfg)
        if error is None:
            result.sent += 1
        else:
            result.failed_attempts += 1
            log.info("notification %s attempt %s failed (%s): %s", claim.notification_id, claim.attempt, status, error)
    return result


class Dispatcher:
    """One pass = repair scan, (every ``SCAN_EVERY_S``) reminder scan, then sending."""

    def __init__(self, url: str, cfg: NotifySettings | None = None, *, executor=None) -> None:
        from app.db import get_sessionmaker

        self.url = url
        self.cfg = cfg or NotifySettings()
        self.factory = get_sessionmaker(url)
        self.senders = senders(self.cfg)
        if executor is None:
            from app.services.repair import executor_for

            executor = executor_for(url)
        self.executor = executor
        self._last_scan = 0.0

    def run_once(self, now: datetime | None = None, *, scan: bool | None = None) -> DispatchResult:
        from app.services import repair
        from app.services.notifications import reminders

        now = now or utcnow()
        scanned: dict[str, int] = {}
        scanned.update(repair.scan(self.factory, now=now, cfg=self.cfg, executor=self.executor))
        wall = now.timestamp()
        if scan or (scan is None and wall - self._last_scan >= SCAN_EVERY_S):
            self._last_scan = wall
            scanned.update(reminders.scan(self.factory, now=now, cfg=self.cfg))
        result = send_due(self.factory, now, self.cfg, self.senders)
        result.scanned = scanned
        return result


def start_notifier(url: str, cfg: NotifySettings | None = None, *, executor=None) -> Callable[[], None]:
    """Run the dispatcher on a daemon thread every ``notify_interval_s``; returns ``stop()``.

    Safe in several processes at once (claims are compare-and-set). ``MATCHER_NOTIFY_ENABLED=false``
    starts nothing.
    """
    cfg = cfg or NotifySettings()
    if not cfg.notify_enabled:
        return lambda: None
    dispatcher = Dispatcher(url, cfg, executor=executor)
    stopping = threading.Event()

    def _loop() -> None:
        while not stopping.is_set():
            try:
                dispatcher.run_once()
            except Exception:  # noqa: BLE001 - the loop must survive a bad pass (DB restart, ...)
                log.exception("notification dispatch pass failed")
            stopping.wait(cfg.notify_interval_s)

    thread = threading.Thread(target=_loop, name="notification-dispatcher", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=cfg.notify_timeout_s + 5)

    return stop


def start_api_notifier(url: str, cfg: NotifySettings | None = None) -> Callable[[], None]:
    """The API process dispatches too when it is the only process (SQLite, the default), or when
    ``MATCHER_NOTIFY_IN_API=true``; on PostgreSQL ``matcher worker`` does it."""
    from app.db import is_sqlite

    cfg = cfg or NotifySettings()
    wanted = cfg.notify_in_api.lower()
    if wanted == "false" or (wanted == "auto" and not is_sqlite(url)):
        return lambda: None
    return start_notifier(url, cfg)
