"""/v1/notifications (admin): what the members were told, how it went, and retry."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import AdminDep, SessionDep
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page
from app.api.schemas.notifications import NotificationOut
from app.api.unit_of_work import UnitOfWorkRoute
from app.domain.enums import NotificationChannel, NotificationStatus
from app.services.notifications import outbox as service

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/v1/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES
)


@router.get("", response_model=Page[NotificationOut], summary="List notifications (admin)")
def list_notifications(
    caller: AdminDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    member_id: DbId | None = None,
    status: NotificationStatus | None = None,
    channel: NotificationChannel | None = None,
):
    """Oldest first with cursor pagination; each item carries its attempt log."""
    page = service.list_notifications(
        session, caller, member_id=member_id, status=status, channel=channel, cursor=cursor, limit=limit
    )
    attempts = service.attempts_of(session, notification_ids=[n.id for n in page.items])
    items = [NotificationOut.model_validate(service.view(n, attempts[n.id])) for n in page.items]
    return Page[NotificationOut](items=items, next_cursor=page.next_cursor)


@router.post(
    "/{notification_id}/retry",
    response_model=NotificationOut,
    summary="Send a failed or pending notification again now (admin; a sent one is 409)",
)
def retry(notification_id: DbId, caller: AdminDep, session: SessionDep):
    row = service.retry(session, caller, notification_id=notification_id)
    return NotificationOut.model_validate(
        service.view(row, service.attempts_of(session, notification_ids=[row.id])[row.id])
    )
