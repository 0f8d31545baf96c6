"""/v1/district-settings: the caller's district's defaults, schedule and notification settings.

The settings are part of the district row, so they carry its ETag; PATCH requires If-Match."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import CallerDep, SessionDep
from app.api.http import IfMatch, with_etag
from app.api.schemas.common import PROBLEM_RESPONSES
from app.api.unit_of_work import UnitOfWorkRoute
from app.schemas.district_settings import DistrictSettings, DistrictSettingsPatch
from app.services import district_settings as service

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/v1/district-settings", tags=["districts"], responses=PROBLEM_RESPONSES
)


@router.get("", response_model=DistrictSettings, summary="Read the district's settings")
def read_settings(caller: CallerDep, session: SessionDep, response: Response):
    settings = service.read_settings(session, caller)
    with_etag(response, service.settings_version(session, caller))
    return settings


@router.patch("", response_model=DistrictSettings, summary="Change the district's settings (admin; If-Match)")
def update_settings(
    payload: DistrictSettingsPatch, caller: CallerDep, session: SessionDep, response: Response, if_match: IfMatch
):
    changes = payload.model_dump(exclude_unset=True, mode="json")
    settings = service.update_settings(session, caller, changes=changes, if_match=if_match)
    with_etag(response, service.settings_version(session, caller))
    return settings
