"""/v1/skills: the skill catalogue with synonyms; admins write, all keys of the district read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import AdminDep, CallerDep, SessionDep
from app.api.http import IdempotencyDep, IfMatch, idempotent_create, render
from app.api.pagination import CursorQ, LimitQ
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, Page
from app.api.schemas.skills import SkillCategory, SkillCreate, SkillOut, SkillUpdate
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import skills as service

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1/skills", tags=["skills"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=SkillOut, summary="Create a skill (admin)")
def create_skill(payload: SkillCreate, caller: AdminDep, session: SessionDep, idem: IdempotencyDep):
    return idempotent_create(
        session,
        caller,
        idem,
        lambda: service.create_skill(session, caller, data=payload.model_dump()),
        SkillOut,
        "/v1/skills",
    )


@router.get("", response_model=Page[SkillOut], summary="List skills")
def list_skills(
    caller: CallerDep,
    session: SessionDep,
    cursor: CursorQ = None,
    limit: LimitQ = 50,
    category: Annotated[SkillCategory | None, Query(description="expertise | interest | resource")] = None,
    active: bool | None = None,
):
    page = service.list_skills(session, caller, category=category, active=active, cursor=cursor, limit=limit)
    return Page[SkillOut](items=[SkillOut.model_validate(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/{skill_id}", response_model=SkillOut, summary="Read a skill")
def get_skill(skill_id: DbId, response: Response, caller: CallerDep, session: SessionDep):
    return render(response, service.get_skill(session, caller, skill_id=skill_id), SkillOut)


@router.patch("/{skill_id}", response_model=SkillOut, summary="Update a skill (admin; honours If-Match)")
def update_skill(
    skill_id: DbId,
    payload: SkillUpdate,
    response: Response,
    caller: AdminDep,
    session: SessionDep,
    if_match: IfMatch,
):
    skill = service.update_skill(
        session, caller, skill_id=skill_id, changes=payload.model_dump(exclude_unset=True), if_match=if_match
    )
    return render(response, skill, SkillOut)


@router.delete("/{skill_id}", response_model=SkillOut, summary="Deactivate a skill (admin; soft)")
def deactivate_skill(skill_id: DbId, response: Response, caller: AdminDep, session: SessionDep, if_match: IfMatch):
    skill = service.update_skill(session, caller, skill_id=skill_id, changes={"active": False}, if_match=if_match)
    return render(response, skill, SkillOut)
