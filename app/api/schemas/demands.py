"""Demand (民需) shapes; shared with the bulk importer (keep the field names).

Datetimes without an offset are read as Beijing time (Asia/Shanghai); responses
always carry the +08:00 offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator, model_validator

from app.api.schemas.common import DbId, RequestModel, Stamped, check_service_year, enum_literal
from app.domain import enums
from app.services.demands import from_storage, localize

if TYPE_CHECKING:
    Channel = enums.Channel
    DemandStatus = enums.DemandStatus
else:
    Channel = enum_literal(enums.Channel)
    DemandStatus = enum_literal(enums.DemandStatus)

CHANNEL_DOC = (
    "How the need arrived: liaison_station 民情联络站, needs_collection 民需收集库, reception_day 民众接待日, "
    "mailbox 民意信箱, wechat_forum 委员论坛, civic_assistant 民情助理, council_meeting 议事会, other."
)
TIME_DOC = "ISO 8601; without an offset it is Beijing time (Asia/Shanghai)."


class _Localized(RequestModel):
    @field_validator("starts_at", "ends_at", check_fields=False)
    @classmethod
    def _localize(cls, value: datetime | None) -> datetime | None:
        return check_service_year(localize(value)) if value is not None else None


class DemandCreate(_Localized):
    """A new need (民需) of a community; admin, or a liaison for a community of its area."""

    external_id: str | None = Field(
        None, min_length=1, max_length=60, description="Id in the liaison-station system; unique in the district."
    )
    community_id: DbId = Field(
        description="Community raising the need. Unknown or another district's -> 422; "
        "for a liaison key, a community outside its area -> 404 (not visible)."
    )
    area: str | None = Field(
        None,
        max_length=20,
        description="Area code, only checked: if it is not the "
        "community's area the request fails with 422 on `community_id`.",
    )
    title: str = Field(min_length=1, max_length=200, description="Short title.")
    description: str | None = Field(None, max_length=10000, description="What is needed, by whom, where.")
    channel: Channel = Field(description=CHANNEL_DOC)
    priority: int = Field(3, ge=1, le=5, description="1 lowest .. 5 most urgent; weights coverage.")
    required_skills: list[str] = Field(
        default_factory=list,
        description="Skill codes, names or synonyms; a member "
        "qualifies holding any one. Empty = open to all. Unknown -> 422.",
    )
    min_members: int = Field(1, ge=1, le=100, description="Members needed for the demand to count as covered.")
    max_members: int | None = Field(
        None,
        ge=1,
        le=100,
        description="Seats (委员席位); defaults to min_members; less than min_members -> 422 on `max_members`.",
    )
    starts_at: datetime = Field(description=TIME_DOC)
    ends_at: datetime = Field(description=TIME_DOC + " Must be after starts_at (422 on `ends_at`).")
    excluded_member_ids: list[DbId] = Field(
        default_factory=list,
        description="Members with a conflict of interest (never assigned); must be members of this district.",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "external_id": "LGY-2026-048",
                    "community_id": 4,
                    "area": "LGY",
                    "title": "防范金融诈骗知识讲座",
                    "description": "清友园社区老年活动站，面向老年居民讲解电信网络诈骗和非法集资的常见手法，约60人参加。",
                    "channel": "needs_collection",
                    "priority": 4,
                    "required_skills": ["finance", "防金融诈骗"],
                    "min_members": 1,
                    "max_members": 2,
                    "starts_at": "2026-12-02T14:00:00",
                    "ends_at": "2026-12-02T16:00:00",
                    "excluded_member_ids": [],
                }
            ]
        }
    }


class DemandUpdate(_Localized):
    """Every field optional; given lists replace the stored ones."""

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
    channel: Channel = Field(description=CHANNEL_DOC)
    priority: int = Field(description="1 lowest .. 5 most urgent.")
    required_skills: list[SkillRef] = Field(description="Canonical required skills, in catalogue order.")
    min_members: int = Field(description="Members needed for the demand to count as covered.")
    max_members: int = Field(description="Seats (委员席位).")
    starts_at: datetime = Field(description="With offset +08:00 (Asia/Shanghai).")
    ends_at: datetime = Field(description="With offset +08:00 (Asia/Shanghai).")
    excluded_member_ids: list[int] = Field(description="Members never assigned here (conflict of interest).")
    status: DemandStatus = Field(description="open | assigned | closed | cancelled (DELETE cancels).")
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
