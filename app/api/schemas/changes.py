"""The change feed as integrators see it."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


def change_page_json(items: Sequence[Any], next_cursor: str) -> bytes:
    """A ChangePage as JSON bytes, from the rows of a ``raw_state`` feed page (each unpacks into
    ``app.services.changes.RAW_FEED_FIELDS``; ``state`` is the stored JSON text).

    The feed's hot path: a page of 1000 events would otherwise decode 1000 state documents,
    validate 1000 ChangeOut models and encode everything again. The output is the same
    document ``ChangePage(...).model_dump_json()`` gives (checked by a test); times go through
    pydantic's own datetime encoding so they read exactly alike. Rows are unpacked, not read by
    attribute: seven attribute lookups on a thousand rows cost more than writing the page.
    """
    times = _TIMES.dump_python([c if c.tzinfo else c.replace(tzinfo=UTC) for *_, c in items], mode="json")
    parts = [
        f'{{"cursor":"{ident}","id":{ident},"entity_type":"{entity_type}","entity_id":{entity_id},'
        f'"change_kind":"{change_kind}","area_id":{"null" if area_id is None else area_id},'
        f'"state":{state},"created_at":"{created}"}}'
        for (ident, entity_type, entity_id, change_kind, area_id, state, _), created in zip(items, times, strict=True)
    ]
    return f'{{"items":[{",".join(parts)}],"next_cursor":{json.dumps(next_cursor)}}}'.encode()
