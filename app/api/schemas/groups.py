"""Working group (小组) shapes, with the areas each group is paired with (结对)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.api.schemas.common import DbId, RequestModel, Stamped, UpdateModel


class GroupCreate(RequestModel):
    """A new working group (小组) and the areas it is paired with (结对)."""

    name: str = Field(
        min_length=1, max_length=100, description="Group name, unique in the district.", examples=["第五小组"]
    )
    area_ids: list[DbId] = Field(
        default_factory=list,
        description="Ids of the paired areas (结对); all must be of this district. Duplicates are ignored.",
        examples=[[1, 3]],
    )

    model_config = {"json_schema_extra": {"examples": [{"name": "第五小组", "area_ids": [1, 3]}]}}


class GroupUpdate(UpdateModel):
    """PATCH: only the given fields change; ``area_ids`` replaces the whole pairing."""

    NULLABLE = frozenset()

    name: str | None = Field(None, min_length=1, max_length=100, description="New name, unique in the district.")
    area_ids: list[DbId] | None = Field(None, description="Replaces the whole pairing list; [] clears it.")
    active: bool | None = Field(None, description="false retires the group.")


class AreaRef(BaseModel):
    """An area by id, code and name."""

    id: int = Field(description="Area id.")
    code: str = Field(description="Area code.")
    name: str = Field(description="Area name.")


class GroupOut(Stamped):
    """A working group with its paired areas."""

    id: int = Field(description="Group id.")
    name: str = Field(description="Group name.")
    active: bool = Field(description="false: retired group.")
    area_ids: list[int] = Field(description="Ids of the paired areas, ascending.")
    areas: list[AreaRef] = Field(description="The paired areas with code and name.")

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        areas = sorted(value.areas, key=lambda a: a.id)
        return {
            "id": value.id,
            "name": value.name,
            "active": value.active,
            "area_ids": [a.id for a in areas],
            "areas": [{"id": a.id, "code": a.code, "name": a.name} for a in areas],
            "created_at": value.created_at,
            "updated_at": value.updated_at,
            "version": value.version,
        }
