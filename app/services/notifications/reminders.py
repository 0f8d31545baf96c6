"""Periodic scans that queue reminders and nudges, each at most once per assignment.

* reminder: an ``accepted`` assignment whose need starts within ``reminder_before_h`` hours;
* nudge: a ``published`` assignment whose proposal message went out more than
  ``nudge_after_h`` hours ago and that is still unanswered, with the need still ahead.

Once is guaranteed by the outbox's idempotency key (``reminder:a<id>:...``), not by the scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.enums import AssignmentStatus, DemandStatus, NotificationEvent, NotificationStatus
from app.models import Assignment, Demand, Notification
from app.services.notifications.outbox import enqueue
from app.settings import NotifySettings

_PROPOSALS = (NotificationEvent.PROPOSAL.value, NotificationEvent.REPAIR_PROPOSAL.value)


def _reminders(s: Session, now: datetime, cfg: NotifySettings) -> int:
    horizon = now + timedelta(hours=cfg.reminder_before_h)
    rows = s.scalars(
        select(Assignment)
        .join(Demand, Demand.id == Assignment.demand_id)
        .where(
            Assignment.status == AssignmentStatus.ACCEPTED,
            Demand.status != DemandStatus.CANCELLED,
            Demand.starts_at > now,
            Demand.starts_at <= horizon,
        )
        .order_by(Assignment.id)
    ).unique()
    return sum(enqueue(s, event=NotificationEvent.REMINDER, assignment=a, cfg=cfg) is not None for a in rows)


def _nudges(s: Session, now: datetime, cfg: NotifySettings) -> int:
    told_before = now - timedelta(hours=cfg.nudge_after_h)
    rows = s.scalars(
        select(Assignment)
        .join(Demand, Demand.id == Assignment.demand_id)
        .join(Notification, Notification.assignment_id == Assignment.id)
        .where(
            Assignment.status == AssignmentStatus.PUBLISHED,
            Demand.starts_at > now,
            Notification.event.in_(_PROPOSALS),
            Notification.status == NotificationStatus.SENT,
            Notification.sent_at <= told_before,
        )
        .order_by(Assignment.id)
    ).unique()
    return sum(enqueue(s, event=NotificationEvent.NUDGE, assignment=a, cfg=cfg) is not None for a in rows)


def scan(factory: sessionmaker[Session], *, now: datetime, cfg: NotifySettings) -> dict[str, int]:
    with factory() as s:
        try:
            queued = {"reminders": _reminders(s, now, cfg), "nudges": _nudges(s, now, cfg)}
            s.commit()
        except IntegrityError:  # another dispatcher queued the same message first: fine
            s.rollback()
            return {"reminders": 0, "nudges": 0}
    return queued
