"""/v1/webhooks (admin): signed push notifications of change-feed events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import AdminDep, SessionDep
from app.api.http import IdempotencyDep, IfMatch, idempotent_create, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page
from app.api.schemas.webhooks import (
    DeliveryOut,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import webhooks as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=WebhookCreated, summary="Register a webhook (admin)")
def create_webhook(payload: WebhookCreate, caller: AdminDep, session: SessionDep, idem: IdempotencyDep):
    """The response carries the signing secret; it is not shown again."""
    return idempotent_create(
        session,
        caller,
        idem,
        lambda: service.create_webhook(session, caller, data=payload.model_dump()),
        WebhookCreated,
        "/v1/webhooks",
    )


@router.get("", response_model=Page[WebhookOut], summary="List webhooks (admin)")
def list_webhooks(
    caller: AdminDep, session: SessionDep, cursor: CursorQ = None, limit: LimitQ = 50, active: bool | None = None
):
    page = service.list_webhooks(session, caller, active=active, cursor=cursor, limit=limit)
    return Page[WebhookOut](items=[WebhookOut.model_validate(w) for w in page.items], next_cursor=page.next_cursor)


@router.get("/{webhook_id}", response_model=WebhookOut, summary="Read a webhook (admin)")
def get_webhook(webhook_id: DbId, response: Response, caller: AdminDep, session: SessionDep):
    return render(response, service.get_webhook(session, caller, webhook_id=webhook_id), WebhookOut)


@router.patch("/{webhook_id}", response_model=WebhookOut, summary="Update a webhook (admin; honours If-Match)")
def update_webhook(
    webhook_id: DbId,
    payload: WebhookUpdate,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatch,
):
    hook = service.update_webhook(
        session, caller, webhook_id=webhook_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, hook, WebhookOut)


@router.delete("/{webhook_id}", response_model=WebhookOut, summary="Deactivate a webhook (admin; soft)")
def deactivate_webhook(webhook_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatch):
    hook = service.update_webhook(session, caller, webhook_id=webhook_id, changes={"active": False}, if_match=if_match)
    return render(response, hook, WebhookOut)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut], summary="Delivery log (admin)")
def list_deliveries(
    webhook_id: DbId,
    caller: AdminDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    status: Annotated[DeliveryStatus | None, Query()] = None,
):
    """Oldest first: status, attempts, last status code and error, timestamps, payload."""
    page = service.list_deliveries(session, caller, webhook_id=webhook_id, status=status, cursor=cursor, limit=limit)
    return Page[DeliveryOut](items=[DeliveryOut.model_validate(d) for d in page.items], next_cursor=page.next_cursor)
