"""API key management: the list never shows a secret; create and rotate show it once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from app.api.schemas.common import RequestModel, ResponseModel, enum_literal
from app.domain import enums
from app.models import ApiKey
from app.services.api_keys import key_status

if TYPE_CHECKING:
    RoleField = enums.Role
else:
    RoleField = enum_literal(enums.Role)

KeyStatus = Literal["active", "revoked", "expired"]


class ApiKeyCreate(RequestModel):
    role: RoleField
    name: str = Field(min_length=1, max_length=100, examples=["民情联络站系统"])
    area: str | None = Field(None, max_length=20, description="Area code (liaison keys only).")
    district: str | None = Field(
        None, max_length=40, description="District code; required when a platform key issues a district key."
    )
    expires_at: datetime | None = Field(None, description="Optional expiry (UTC); the key gets 401 afterwards.")


class ApiKeyRotate(RequestModel):
    grace_hours: float = Field(24, ge=0, le=720, description="How long the old secret keeps working.")


class ApiKeyOut(ResponseModel):
    id: int
    name: str
    role: RoleField
    district_id: int | None
    area_id: int | None
    prefix: str = Field(description="The public part of the key (mk_<prefix>_...), to tell keys apart.")
    status: KeyStatus
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by_id: int | None

    @model_validator(mode="before")
    @classmethod
    def _from_key(cls, value: object) -> object:
        if isinstance(value, ApiKey):
            return {
                **{name: getattr(value, name) for name in cls.model_fields if name != "status"},
                "status": key_status(value),
            }
        return value


class ApiKeyIssued(ApiKeyOut):
    secret: str = Field(description="The key itself; shown once, never again.")


class ApiKeyRotated(ResponseModel):
    old: ApiKeyOut
    new: ApiKeyIssued
