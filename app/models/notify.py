"""Personal links for members, the notification outbox, and the weeks waiting for repair."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import LinkKind, NotificationChannel, NotificationEvent, NotificationStatus
from app.models.base import Base, DistrictOwned, EnumText, Timestamped, UTCDateTime, utcnow


class MemberLink(DistrictOwned, Base):
    """A personal link (``/t/<token>`` for one task, ``/m/<token>`` for all of a member's tasks).

    Only the SHA-256 of the token is stored: the token itself exists only in the message that
    carried it, so a copy of the database opens no one's task. ``form_nonce`` is echoed by the
    page's forms (with the token in the path it makes a POST impossible to forge from outside).
    """

    __tablename__ = "member_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[LinkKind] = mapped_column(EnumText(LinkKind, 10))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    form_nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(DistrictOwned, Timestamped, Base):
    """One message to one member over one channel, written in the transaction of its cause.

    ``idempotency_key`` ("<event>:<cause id>:m<member>:<channel>") is unique, so a scan or a
    retried transaction can never queue the same message twice.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    event: Mapped[NotificationEvent] = mapped_column(EnumText(NotificationEvent, 20))
    channel: Mapped[NotificationChannel] = mapped_column(EnumText(NotificationChannel, 10), index=True)
    status: Mapped[NotificationStatus] = mapped_column(
        EnumText(NotificationStatus, 10), default=NotificationStatus.PENDING
    )
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("member_links.id"))
    subject: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationAttempt(Base):
    """Every send attempt of a notification, successful or not (the office's audit trail)."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[NotificationChannel] = mapped_column(EnumText(NotificationChannel, 10))
    ok: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RepairMark(DistrictOwned, Timestamped, Base):
    """A (district, week) that needs a repair run once things have been quiet until ``due_at``.

    A decline or a changed/cancelled need sets ``due_at`` to now + the quiet period (pushing it
    back when it is already pending), so a burst of declines leads to one solve. The scanner
    clears ``due_at`` when it has started the run (``run_id``) and publishes that run when it
    succeeds and the district allows it (``District.auto_publish_repairs``).
    """

    __tablename__ = "repair_marks"
    __table_args__ = (UniqueConstraint("district_id", "window_start", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    marks: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("optimization_runs.id"))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first mark of the pending burst
