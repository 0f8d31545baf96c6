"""Skill catalogue shapes: expertise (专业特长), interest (兴趣爱好), resource (资源状况)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from app.api.schemas.common import RequestModel, Stamped, UpdateModel, enum_literal
from app.domain import enums

if TYPE_CHECKING:
    SkillCategory = enums.SkillCategory
else:
    SkillCategory = enum_literal(enums.SkillCategory)


class SkillCreate(RequestModel):
    """A new catalogue entry; its code, name and synonyms must not resolve to another skill."""

    code: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z0-9_\-\.]+$",
        description="Canonical code the solver and reports use.",
        examples=["finance"],
    )
    name: str = Field(
        min_length=1, max_length=100, description="Display name; also resolves to this skill.", examples=["金融知识"]
    )
    category: SkillCategory = Field(description="expertise 专业特长, interest 兴趣爱好 or resource 资源状况.")
    synonyms: list[str] = Field(
        default_factory=list,
        description="Other words that resolve to this skill "
        "(case-insensitive, trimmed). A code, name or synonym that already resolves to "
        "another skill is refused with 409 naming the field.",
        examples=[["防范金融诈骗", "理财"]],
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"code": "finance", "name": "金融知识", "category": "expertise", "synonyms": ["防范金融诈骗", "理财"]}
            ]
        }
    }


class SkillUpdate(UpdateModel):
    """PATCH: only the given fields change. The code is fixed (the solver and reports key on it)."""

    NULLABLE = frozenset({"synonyms"})

    name: str | None = Field(None, min_length=1, max_length=100, description="New display name.")
    category: SkillCategory | None = Field(None, description="expertise | interest | resource")
    synonyms: list[str] | None = Field(None, description="Replaces the synonym list.")
    active: bool | None = Field(None, description="false: no new member or demand may reference it.")


class SkillOut(Stamped):
    """A catalogue entry."""

    id: int = Field(description="Skill id.")
    code: str = Field(description="Canonical code.")
    name: str = Field(description="Display name (also resolves to this skill).")
    category: SkillCategory = Field(description="expertise 专业特长, interest 兴趣爱好 or resource 资源状况.")
    synonyms: list[str] = Field(description="Other words that resolve to this skill.")
    active: bool = Field(description="false: no new references accepted.")
