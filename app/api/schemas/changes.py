"""The change feed as integrators see it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, TypeAdapter, field_validator

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


_TIMES = TypeAdapter(list[datetime])


def change_page_json(items: list[Any], next_cursor: str) -> bytes:
    """A ChangePage as JSON bytes, from feed rows whose ``state`` is the stored JSON text.

    The feed's hot path: a page of 1000 events would otherwise decode 1000 state documents,
    validate 1000 ChangeOut models and encode everything again. The output is the same
    document ``ChangePage(...).model_dump_json()`` gives (checked by a test); times go through
    pydantic's own datetime encoding so they read exactly alike.
    """
    times = _TIMES.dump_python(
        [e.created_at if e.created_at.tzinfo else e.created_at.replace(tzinfo=UTC) for e in items], mode="json"
    )
    parts = [
        f'{{"cursor":"{e.id}","id":{e.id},"entity_type":"{e.entity_type}","entity_id":{e.entity_id},'
        f'"change_kind":"{e.change_kind}","area_id":{"null" if e.area_id is None else e.area_id},'
        f'"state":{e.state},"created_at":"{created}"}}'
        for e, created in zip(items, times, strict=True)
    ]
    return f'{{"items":[{",".join(parts)}],"next_cursor":{json.dumps(next_cursor)}}}'.encode()
