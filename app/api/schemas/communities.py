"""Community (社区) shapes. A community belongs to one area for life."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from app.api.schemas.common import DbId, RequestModel, Stamped, UpdateModel


class CommunityCreate(RequestModel):
    """A new community (社区) in one of the district's areas."""

    area_id: DbId = Field(
        description="Id of the area (街道/乡) the community lies in; must be of this district.", examples=[3]
    )
    name: str = Field(
        min_length=1, max_length=100, description="Community name, unique within its area.", examples=["清友园社区"]
    )

    model_config = {"json_schema_extra": {"examples": [{"area_id": 3, "name": "清友园社区"}]}}


class CommunityUpdate(UpdateModel):
    """PATCH: only the given fields change. The area cannot change (create a new community instead)."""

    NULLABLE = frozenset()

    name: str | None = Field(None, min_length=1, max_length=100, description="New name, unique within the area.")
    active: bool | None = Field(None, description="false hides the community from new demands.")


class CommunityOut(Stamped):
    """A community with its area's code and name."""

    id: int = Field(description="Community id.")
    area_id: int = Field(description="Area the community lies in.")
    area: str = Field(description="Area code, e.g. LGY.")
    area_name: str = Field(description="Area name, e.g. 来广营地区.")
    name: str = Field(description="Community name.")
    active: bool = Field(description="Inactive communities accept no new demands.")

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        return {
            "id": value.id,
            "area_id": value.area_id,
            "area": value.area.code,
            "area_name": value.area.name,
            "name": value.name,
            "active": value.active,
            "created_at": value.created_at,
            "updated_at": value.updated_at,
            "version": value.version,
        }
