"""POST /v1/skills:suggest: required skills suggested from a demand's free text (jieba over the
catalogue's names and synonyms), each with the words that matched. The console's 建议技能 button
calls the same service."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import CallerDep, SessionDep
from app.api.schemas.common import PROBLEM_RESPONSES, RequestModel
from app.api.unit_of_work import UnitOfWorkRoute
from app.services.skill_suggest import suggest_skills

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/v1", tags=["skills"], responses=PROBLEM_RESPONSES)


class SuggestIn(RequestModel):
    text: str = Field(min_length=1, max_length=10000, description="A demand's title and description.")
    limit: int = Field(5, ge=1, le=50, description="At most this many suggestions.")

    model_config = {"json_schema_extra": {"examples": [{"text": "小区物业纠纷，居民需要法律咨询"}]}}


class SuggestedSkill(BaseModel):
    code: str = Field(description="Canonical skill code.")
    name: str = Field(description="Skill name.")
    category: str = Field(description="expertise | interest | resource")
    score: float = Field(description="3 per name/synonym found whole, 1 per word of one found alone.")
    matched_words: list[str] = Field(description="The words of the text that matched (why it is suggested).")


class SuggestOut(BaseModel):
    items: list[SuggestedSkill] = Field(description="Best first.")


@router.post("/skills:suggest", response_model=SuggestOut, summary="Suggest required skills from free text")
def suggest(payload: SuggestIn, caller: CallerDep, session: SessionDep) -> SuggestOut:
    found = suggest_skills(session, district_id=caller.district_id, text=payload.text, limit=payload.limit)
    return SuggestOut(
        items=[
            SuggestedSkill(
                code=s.skill.code,
                name=s.skill.name,
                category=s.skill.category,
                score=s.score,
                matched_words=s.matched_words,
            )
            for s in found
        ]
    )
