"""/v1/groups: working groups (小组) and their paired areas (结对); admins write, all keys read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import AdminDep, CallerDep, SessionDep
from app.api.http import IdempotencyDep, IfMatch, idempotent_create, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page
from app.api.schemas.groups import GroupCreate, GroupOut, GroupUpdate
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import groups as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/groups", tags=["groups"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=GroupOut, summary="Create a group (admin)")
def create_group(payload: GroupCreate, caller: AdminDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session,
        caller,
        idem,
        lambda: service.create_group(session, caller, data=payload.model_dump()),
        GroupOut,
        "/v1/groups",
    )


@router.get("", response_model=Page[GroupOut], summary="List groups")
def list_groups(
    caller: CallerDep, session: SessionDep, cursor: CursorQ = None, limit: LimitQ = 50, active: bool | None = None
):
    page = service.list_groups(session, caller, active=active, cursor=cursor, limit=limit)
    return Page[GroupOut](items=[GroupOut.model_validate(g) for g in page.items], next_cursor=page.next_cursor)


@router.get("/{group_id}", response_model=GroupOut, summary="Read a group")
def get_group(group_id: DbId, response: Response, caller: CallerDep, session: SessionDep):
    return render(response, service.get_group(session, caller, group_id=group_id), GroupOut)


@router.patch("/{group_id}", response_model=GroupOut, summary="Update a group (admin; honours If-Match)")
def update_group(
    group_id: DbId,
    payload: GroupUpdate,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatch,
):
    group = service.update_group(
        session, caller, group_id=group_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, group, GroupOut)


@router.delete("/{group_id}", response_model=GroupOut, summary="Deactivate a group (admin; soft)")
def deactivate_group(group_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatch):
    group = service.update_group(session, caller, group_id=group_id, changes={"active": False}, if_match=if_match)
    return render(response, group, GroupOut)
