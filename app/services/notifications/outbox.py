"""The notification outbox: rows written in the transaction of the event that causes them.

Whoever changes an assignment in a way its member must hear about calls ``enqueue`` in the
same unit of work (publish, repair publish, cancelled need, reminder and nudge scans). A
rollback therefore takes the message with it, and a commit always has its message. The
dispatcher (``dispatcher.py``) sends what is due. The unique ``idempotency_key`` per (event,
cause, member, channel) makes a second enqueue of the same message a no-op.

Also the office view: ``list_notifications`` and ``retry``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus, NotificationChannel, NotificationEvent, NotificationStatus
from app.errors import Problem, invalid, msg
from app.models import Assignment, Demand, Member, Notification, NotificationAttempt
from app.models.base import utcnow
from app.services.crud import get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate
from app.settings import NotifySettings


def channel_for(member: Member, cfg: NotifySettings) -> NotificationChannel:
    """The member's preferred channel; else e-mail when they have an address; else the default."""
    if member.preferred_channel is not None:
        return NotificationChannel(member.preferred_channel)
    if member.email:
        return NotificationChannel.EMAIL
    return NotificationChannel(cfg.notify_default_channel)


def idempotency_key(event: NotificationEvent, cause: str, member_id: int, channel: NotificationChannel) -> str:
    return f"{event.value}:{cause}:m{member_id}:{channel.value}"


def enqueue(
    session: Session,
    *,
    event: NotificationEvent,
    assignment: Assignment,
    cause: str | None = None,
    cfg: NotifySettings | None = None,
    due: datetime | None = None,
) -> Notification | None:
    """Queue one message about ``assignment`` to its member (flushes; None if already queued).

    ``cause`` distinguishes messages of the same event on the same assignment (default: the
    assignment id), e.g. a second change of the need's time.
    """
    cfg = cfg or NotifySettings()
    member = session.get(Member, assignment.member_id)
    if member is None:
        return None
    channel = channel_for(member, cfg)
    key = idempotency_key(event, cause or f"a{assignment.id}", member.id, channel)
    if session.scalar(select(Notification.id).where(Notification.idempotency_key == key)) is not None:
        return None
    row = Notification(
        district_id=assignment.district_id,
        member_id=member.id,
        assignment_id=assignment.id,
        event=event,
        channel=channel,
        status=NotificationStatus.PENDING,
        idempotency_key=key,
        attempts=0,
        next_attempt_at=due or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def demand_changed(session: Session, *, demand: Demand, cancelled: bool, cfg: NotifySettings | None = None) -> None:
    """A need was cancelled or its time/place changed (same transaction as the change).

    Its members with a live task are told (a cancellation also revokes their task links), and
    the week is marked for an automatic repair run.
    """
    from app.services.notifications.links import revoke_for_assignments
    from app.services.repair import mark_for_repair

    cfg = cfg or NotifySettings()
    live = list(
        session.scalars(
            select(Assignment).where(
                Assignment.demand_id == demand.id,
                Assignment.status.in_((AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED)),
            )
        ).unique()
    )
    if cancelled:
        revoke_for_assignments(session, assignment_ids=[a.id for a in live], reason="need cancelled")
    event = NotificationEvent.CANCELLED if cancelled else NotificationEvent.CHANGED
    for a in live:
        enqueue(session, event=event, assignment=a, cause=f"a{a.id}v{demand.version}", cfg=cfg)
    what = "cancelled" if cancelled else "changed"
    mark_for_repair(
        session, district_id=demand.district_id, starts_at=demand.starts_at, reason=f"need d{demand.id} {what}", cfg=cfg
    )


# --------------------------------------------------------------------------- office view


def list_notifications(
    session: Session,
    caller: Caller,
    *,
    member_id: int | None,
    status: str | None,
    channel: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Notification]:
    stmt = select(Notification).where(Notification.district_id == caller.district_id)
    if member_id is not None:
        stmt = stmt.where(Notification.member_id == member_id)
    if status is not None:
        if status not in NotificationStatus.__members__.values():
            raise invalid("status", msg("one_of", values=", ".join(NotificationStatus)))
        stmt = stmt.where(Notification.status == status)
    if channel is not None:
        if channel not in NotificationChannel.__members__.values():
            raise invalid("channel", msg("one_of", values=", ".join(NotificationChannel)))
        stmt = stmt.where(Notification.channel == channel)
    return paginate(session, stmt=stmt, id_column=Notification.id, cursor=cursor, limit=limit)


def get_notification(session: Session, caller: Caller, *, notification_id: int) -> Notification:
    return get_scoped(session, model=Notification, obj_id=notification_id, caller=caller, what="notification")


def attempts_of(session: Session, *, notification_ids: list[int]) -> dict[int, list[NotificationAttempt]]:
    out: dict[int, list[NotificationAttempt]] = {i: [] for i in notification_ids}
    if notification_ids:
        rows = session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id.in_(notification_ids))
            .order_by(NotificationAttempt.id)
        )
        for a in rows:
            out[a.notification_id].append(a)
    return out


def retry(session: Session, caller: Caller, *, notification_id: int) -> Notification:
    """Try a failed (or still pending) notification again now: one more attempt (a failed one
    goes back to ``failed`` if that attempt fails too). A sent one is 409."""
    row = get_notification(session, caller, notification_id=notification_id)
    if row.status == NotificationStatus.SENT:
        raise Problem(409, "notification_sent", msg("notification_sent", id=row.id))
    row.status = NotificationStatus.PENDING
    row.next_attempt_at = utcnow()
    session.flush()
    return row


def view(row: Notification, attempts: list[NotificationAttempt] | None = None) -> dict[str, Any]:
    """The API shape (no message body: it carried a personal link)."""
    return {
        "id": row.id,
        "member_id": row.member_id,
        "assignment_id": row.assignment_id,
        "event": row.event,
        "channel": row.channel,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "subject": row.subject,
        "sent_at": row.sent_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "attempt_log": [
            {
                "attempt": a.attempt,
                "ok": a.ok,
                "error": a.error,
                "started_at": a.started_at,
                "finished_at": a.finished_at,
            }
            for a in (attempts or [])
        ],
    }
