"""The change feed as integrators see it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from app.api.schemas.common import ResponseModel, enum_literal
from app.domain import enums

if TYPE_CHECKING:
    EntityType = enums.EntityType
    ChangeKind = enums.ChangeKind
else:
    EntityType = enum_literal(enums.EntityType)
    ChangeKind = enum_literal(enums.ChangeKind)


class ChangeOut(ResponseModel):
    cursor: str = Field(description="Pass as ?after= to read what came after this event.")
    id: int
    entity_type: EntityType
    entity_id: int
    change_kind: ChangeKind = Field(description="'published' marks the update that published an optimization run.")
    area_id: int | None = Field(description="Area the row belongs to; null for district-level rows (runs).")
    state: dict[str, Any] = Field(description="The row's columns after the change (before it, for 'deleted').")
    created_at: datetime

    @classmethod
    def of(cls, event: Any) -> ChangeOut:
        return cls(
            cursor=str(event.id),
            id=event.id,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            change_kind=event.change_kind,
            area_id=event.area_id,
            state=event.state,
            created_at=event.created_at,
        )

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """SQLite hands back naive UTC datetimes; integrators always get an offset."""
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str = Field(
        description="The last cursor returned, or the given one when nothing is new: "
        "store it and pass it as ?after= next time."
    )
