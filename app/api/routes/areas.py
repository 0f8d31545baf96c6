from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import AdminDep, CallerDep, SessionDep
from app.api.http import IdempotencyDep, IfMatch, idempotent_create, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.areas import AreaCreate, AreaKind, AreaOut, AreaUpdate
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import areas as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/areas", tags=["areas"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=AreaOut, summary="Create an area (admin)")
def create_area(payload: AreaCreate, caller: AdminDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session,
        caller,
        idem,
        lambda: service.create_area(session, caller, data=payload.model_dump()),
        AreaOut,
        "/v1/areas",
    )


@router.get("", response_model=Page[AreaOut], summary="List areas")
def list_areas(
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    kind: Annotated[AreaKind | None, Query()] = None,
    active: bool | None = None,
):
    page = service.list_areas(session, caller, kind=kind, active=active, cursor=cursor, limit=limit)
    return Page[AreaOut](items=[AreaOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/{area_id}", response_model=AreaOut, summary="Read an area")
def get_area(area_id: DbId, response: Response, caller: CallerDep, session: SessionDep):
    return render(response, service.get_area(session, caller, area_id=area_id), AreaOut)


@router.patch("/{area_id}", response_model=AreaOut, summary="Update an area (admin; honours If-Match)")
def update_area(
    area_id: DbId,
    payload: AreaUpdate,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatch,
):
    area = service.update_area(
        session, caller, area_id=area_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, area, AreaOut)


@router.delete("/{area_id}", response_model=AreaOut, summary="Deactivate an area (admin; soft)")
def deactivate_area(area_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatch):
    area = service.update_area(session, caller, area_id=area_id, changes={"active": False}, if_match=if_match)
    return render(response, area, AreaOut)
