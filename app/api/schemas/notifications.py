"""Shapes of the office's notification view (``/v1/notifications``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.enums import NotificationChannel, NotificationEvent, NotificationStatus


class NotificationAttemptOut(BaseModel):
    attempt: int
    ok: bool
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None


class NotificationOut(BaseModel):
    """One message to one member (its body is not kept: it carried a personal link)."""

    id: int
    member_id: int
    assignment_id: int | None = None
    event: NotificationEvent
    channel: NotificationChannel
    status: NotificationStatus
    attempts: int = Field(description="Send attempts so far.")
    next_attempt_at: datetime | None = Field(None, description="When a pending message is tried next (UTC).")
    last_error: str | None = None
    subject: str | None = None
    sent_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    attempt_log: list[NotificationAttemptOut] = Field(default_factory=list, description="Every attempt, oldest first.")
