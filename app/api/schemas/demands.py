"""Demand (民需) shapes; shared with the bulk importer (keep the field names).

Datetimes without an offset are read as Beijing time (Asia/Shanghai); responses
always carry the +08:00 offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, TypeAdapter, model_validator

from app.api.schemas.common import DbId, Page, Stamped, UpdateModel, enum_values
from app.domain import enums
from app.domain.times import from_storage
from app.schemas.demands import CHANNEL_DOC, TIME_DOC, Channel, DemandCreate, DemandStatus, _Localized

if TYPE_CHECKING:
    _ChannelValue = enums.Channel
    _StatusValue = enums.DemandStatus
else:  # response fields: the plain string (see enum_values), the same OpenAPI as the enums
    _ChannelValue = enum_values(enums.Channel)
    _StatusValue = enum_values(enums.DemandStatus)

__all__ = ["Channel", "DemandCreate", "DemandOut", "DemandStatus", "DemandUpdate"]


class DemandUpdate(_Localized, UpdateModel):
    """Every field optional; given lists replace the stored ones."""

    NULLABLE = frozenset({"external_id", "area", "description"})

    external_id: str | None = Field(None, min_length=1, max_length=60, description="Id in the source system.")
    community_id: DbId | None = Field(None, description="Move to another community (a liaison: of its area).")
    area: str | None = Field(None, max_length=20, description="Area code, consistency check only.")
    title: str | None = Field(None, min_length=1, max_length=200, description="Short title.")
    description: str | None = Field(None, max_length=10000, description="What is needed; null clears it.")
    channel: Channel | None = Field(None, description=CHANNEL_DOC)
    priority: int | None = Field(None, ge=1, le=5, description="1 lowest .. 5 most urgent.")
    required_skills: list[str] | None = Field(None, description="Replaces the required skills.")
    min_members: int | None = Field(None, ge=1, le=100, description="Members needed; must stay <= max_members.")
    max_members: int | None = Field(None, ge=1, le=100, description="Seats; must stay >= min_members.")
    starts_at: datetime | None = Field(None, description=TIME_DOC)
    ends_at: datetime | None = Field(None, description=TIME_DOC)
    excluded_member_ids: list[DbId] | None = Field(None, description="Replaces the conflict-of-interest list.")
    status: DemandStatus | None = Field(None, description="open | assigned | closed | cancelled.")

    model_config = {"json_schema_extra": {"examples": [{"priority": 5, "description": "场地改到社区服务中心二层。"}]}}


class SkillRef(BaseModel):
    """A canonical skill by code and name."""

    code: str = Field(description="Canonical skill code.")
    name: str = Field(description="Skill name.")


class DemandOut(Stamped):
    """A demand with its community, area and skills by name; times in Beijing time (+08:00)."""

    id: int = Field(description="Demand id.")
    external_id: str | None = Field(description="Id in the source system.")
    community_id: int = Field(description="Community id.")
    community_name: str = Field(description="Community name, e.g. 清友园社区.")
    area_id: int = Field(description="Area id of the community.")
    area: str = Field(description="Area code of the community.")
    area_name: str = Field(description="Area name, e.g. 来广营地区.")
    title: str = Field(description="Short title.")
    description: str | None = Field(description="What is needed.")
    channel: _ChannelValue = Field(description=CHANNEL_DOC)
    priority: int = Field(description="1 lowest .. 5 most urgent.")
    required_skills: list[SkillRef] = Field(description="Canonical required skills, in catalogue order.")
    min_members: int = Field(description="Members needed for the demand to count as covered.")
    max_members: int = Field(description="Seats (委员席位).")
    starts_at: datetime = Field(description="With offset +08:00 (Asia/Shanghai).")
    ends_at: datetime = Field(description="With offset +08:00 (Asia/Shanghai).")
    excluded_member_ids: list[int] = Field(description="Members never assigned here (conflict of interest).")
    status: _StatusValue = Field(description="open | assigned | closed | cancelled (DELETE cancels).")
    created_by: str | None = Field(description="Name of the API key that created it.")

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, d: Any) -> Any:
        if isinstance(d, dict):
            return d
        return {
            "id": d.id,
            "external_id": d.external_id,
            "community_id": d.community_id,
            "community_name": d.community.name,
            "area_id": d.area_id,
            "area": d.area.code,
            "area_name": d.area.name,
            "title": d.title,
            "description": d.description,
            "channel": d.channel,
            "priority": d.priority,
            "required_skills": [
                {"code": s.code, "name": s.name} for s in sorted(d.required_skills, key=lambda s: s.id)
            ],
            "min_members": d.min_members,
            "max_members": d.max_members,
            "starts_at": from_storage(d.starts_at),
            "ends_at": from_storage(d.ends_at),
            "excluded_member_ids": sorted(m.id for m in d.excluded_members),
            "status": d.status,
            "created_by": d.created_by,
            "created_at": d.created_at,
            "updated_at": d.updated_at,
            "version": d.version,
        }

    @classmethod
    def page(cls, documents: list[dict[str, Any]], next_cursor: str | None) -> Page[DemandOut]:
        """A page of demand documents validated in one call, not one per row (the same models,
        a fraction of the per-call overhead)."""
        return _PAGE.validate_python({"items": documents, "next_cursor": next_cursor})


_PAGE = TypeAdapter(Page[DemandOut])
