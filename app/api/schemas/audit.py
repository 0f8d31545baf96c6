"""Audit trail entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api.schemas.common import ResponseModel


class AuditEventOut(ResponseModel):
    id: int
    district_id: int | None
    actor_kind: str = Field(description="api_key | console | member_link | cli | system")
    actor_key_id: int | None
    actor_role: str | None
    actor_label: str
    acting_as: str | None = Field(description="District code a platform key acted as.")
    action: str = Field(description="created | updated | deleted | acted_as")
    entity: str
    entity_id: int | None
    changes: dict[str, Any] = Field(description="field -> [before, after]; phones and e-mail masked.")
    request_id: str | None
    created_at: datetime
