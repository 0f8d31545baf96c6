"""/v1/communities: reference data, readable by every key of the district, written by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import AdminDep, CallerDep, SessionDep
from app.api.http import IdempotencyDep, IfMatch, idempotent_create, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page, SafeStr
from app.api.schemas.communities import CommunityCreate, CommunityOut, CommunityUpdate
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import communities as service

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/v1/communities", tags=["communities"], responses=PROBLEM_RESPONSES
)


@router.post("", status_code=201, response_model=CommunityOut, summary="Create a community (admin)")
def create_community(payload: CommunityCreate, caller: AdminDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session,
        caller,
        idem,
        lambda: service.create_community(session, caller, data=payload.model_dump()),
        CommunityOut,
        "/v1/communities",
    )


@router.get("", response_model=Page[CommunityOut], summary="List communities")
def list_communities(
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    area: Annotated[SafeStr | None, Query(min_length=1, max_length=20, description="Area code, e.g. LGY.")] = None,
    active: bool | None = None,
):
    page = service.list_communities(session, caller, area=area, active=active, cursor=cursor, limit=limit)
    return Page[CommunityOut](items=[CommunityOut.model_validate(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/{community_id}", response_model=CommunityOut, summary="Read a community")
def get_community(community_id: DbId, response: Response, caller: CallerDep, session: SessionDep):
    return render(response, service.get_community(session, caller, community_id=community_id), CommunityOut)


@router.patch("/{community_id}", response_model=CommunityOut, summary="Update a community (admin; honours If-Match)")
def update_community(
    community_id: DbId,
    payload: CommunityUpdate,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatch,
):
    community = service.update_community(
        session, caller, community_id=community_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, community, CommunityOut)


@router.delete("/{community_id}", response_model=CommunityOut, summary="Deactivate a community (admin; soft)")
def deactivate_community(
    community_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatch
):
    community = service.update_community(
        session, caller, community_id=community_id, changes={"active": False}, if_match=if_match
    )
    return render(response, community, CommunityOut)
