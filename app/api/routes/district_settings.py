"""/v1/district-settings: the caller's district's defaults, schedule and notification settings."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CallerDep, SessionDep
from app.api.schemas.common import PROBLEM_RESPONSES
from app.schemas.district_settings import DistrictSettings, DistrictSettingsPatch
from app.services import district_settings as service

router = APIRouter(prefix="/v1/district-settings", tags=["districts"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=DistrictSettings, summary="Read the district's settings")
def read_settings(caller: CallerDep, session: SessionDep):
    return service.read_settings(session, caller)


@router.patch("", response_model=DistrictSettings, summary="Change the district's settings (admin)")
def update_settings(payload: DistrictSettingsPatch, caller: CallerDep, session: SessionDep):
    return service.update_settings(session, caller, changes=payload.model_dump(exclude_unset=True, mode="json"))
