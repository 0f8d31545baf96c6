"""Demand (民需) input shapes, shared by the API, the bulk importer and the services.

Datetimes without an offset are read as Beijing time (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from app.domain import enums
from app.domain.times import localize
from app.schemas.common import DbId, RequestModel, check_service_year, enum_literal

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
