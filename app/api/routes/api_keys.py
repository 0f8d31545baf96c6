"""/v1/api-keys: list, issue, revoke and rotate keys (admin: its district; platform: all)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from app.api.deps import CallerDep, SessionDep
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.api_keys import ApiKeyCreate, ApiKeyIssued, ApiKeyOut, ApiKeyRotate, ApiKeyRotated
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import api_keys as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/api-keys", tags=["api-keys"], responses=PROBLEM_RESPONSES)


def _issued(issued: service.IssuedKey) -> ApiKeyIssued:
    return ApiKeyIssued.model_validate({**ApiKeyOut.model_validate(issued.key).model_dump(), "secret": issued.secret})


@router.get("", response_model=Page[ApiKeyOut], summary="List keys (admin: its district; platform: all)")
def list_keys(caller: CallerDep, session: SessionDep, cursor: CursorQ = None, limit: LimitQ = 50):
    page = service.list_keys(session, caller, cursor=cursor, limit=limit)
    return Page[ApiKeyOut](items=[ApiKeyOut.model_validate(k) for k in page.items], next_cursor=page.next_cursor)


@router.post("", status_code=201, response_model=ApiKeyIssued, summary="Issue a key (the secret is shown once)")
def create_key(payload: ApiKeyCreate, caller: CallerDep, session: SessionDep):
    issued = service.issue_key(
        session,
        caller,
        role=payload.role,
        name=payload.name,
        area_code=payload.area,
        district_code=payload.district,
        expires_at=payload.expires_at,
    )
    return _issued(issued)


@router.post("/{key_id}:revoke", response_model=ApiKeyOut, summary="Revoke a key at once")
def revoke_key(key_id: DbId, caller: CallerDep, session: SessionDep):
    return ApiKeyOut.model_validate(service.revoke_key(session, caller, key_id=key_id))


@router.post("/{key_id}:rotate", response_model=ApiKeyRotated, summary="Rotate a key (old secret valid for a grace)")
def rotate_key(key_id: DbId, caller: CallerDep, session: SessionDep, payload: ApiKeyRotate | None = None):
    grace = timedelta(hours=payload.grace_hours if payload else 24)
    old, new = service.rotate_key(session, caller, key_id=key_id, grace=grace)
    return ApiKeyRotated(old=ApiKeyOut.model_validate(old), new=_issued(new))
