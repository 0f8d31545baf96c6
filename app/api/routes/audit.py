"""/v1/audit (admin: its district; platform: all): who changed what, when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CallerDep, SessionDep
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.audit import AuditEventOut
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, ServiceDateTime
from app.api.unit_of_work import UnitOfWorkRoute
from app.domain.enums import ActorKind
from app.services import audit as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/audit", tags=["audit"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=Page[AuditEventOut], summary="The audit trail (admin), oldest first")
def list_audit(
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 100,
    entity: Annotated[str | None, Query(max_length=40, description="Table name, e.g. demands.")] = None,
    actor: Annotated[DbId | None, Query(description="Key id of the actor.")] = None,
    actor_kind: Annotated[ActorKind | None, Query(description="api_key, console, member_link, cli or system.")] = None,
    since: Annotated[ServiceDateTime | None, Query(description="From this time (inclusive); ISO 8601.")] = None,
    until: Annotated[ServiceDateTime | None, Query(description="Before this time; ISO 8601.")] = None,
):
    page = service.list_audit(
        session,
        caller,
        entity=entity,
        actor_key_id=actor,
        actor_kind=actor_kind,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return Page[AuditEventOut](
        items=[AuditEventOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )
