"""/v1/districts (platform keys): create, list, rename and (de)activate tenants."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CallerDep, SessionDep
from app.api.http import IfMatch, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, Page
from app.api.schemas.districts import DistrictCreate, DistrictCreated, DistrictOut, DistrictUpdate
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import districts as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/districts", tags=["districts"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=DistrictCreated, summary="Create a district (platform)")
def create_district(payload: DistrictCreate, caller: CallerDep, session: SessionDep):
    """Creates its areas too and returns its first admin key (shown once)."""
    created = service.create_district(
        session,
        caller,
        code=payload.code,
        name=payload.name,
        timezone=payload.timezone,
        areas=[a.model_dump() for a in payload.areas],
    )
    return DistrictCreated.model_validate(
        {
            **DistrictOut.model_validate(created.district).model_dump(),
            "areas": created.areas,
            "admin_key": created.admin_key,
        }
    )


@router.get("", response_model=Page[DistrictOut], summary="List districts (platform)")
def list_districts(
    caller: CallerDep, session: SessionDep, cursor: CursorQ = None, limit: LimitQ = 50, active: bool | None = None
):
    page = service.list_districts(session, caller, active=active, cursor=cursor, limit=limit)
    return Page[DistrictOut](items=[DistrictOut.model_validate(d) for d in page.items], next_cursor=page.next_cursor)


@router.patch("/{code}", response_model=DistrictOut, summary="Rename or (de)activate a district (platform; If-Match)")
def update_district(
    code: str, payload: DistrictUpdate, caller: CallerDep, session: SessionDep, response: Response, if_match: IfMatch
):
    changes = payload.model_dump(exclude_unset=True)
    district = service.update_district(session, caller, code=code, changes=changes, if_match=if_match)
    return render(response, district, DistrictOut)
