"""Webhook registration and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from app.api.schemas.common import RequestModel, ResponseModel, Stamped, UpdateModel, enum_literal
from app.domain import enums
from app.services.webhooks import check_url

EventType = Literal["run.published", "run.changed", "assignment.changed", "demand.changed", "duty_record.changed"]
if TYPE_CHECKING:
    DeliveryStatus = enums.DeliveryStatus
else:
    DeliveryStatus = enum_literal(enums.DeliveryStatus)


def _unique(values: list[str]) -> list[str]:
    """Repeated event types are one subscription: keep the first of each, in order."""
    return list(dict.fromkeys(values))


class WebhookCreate(RequestModel):
    url: str = Field(
        max_length=500,
        pattern=r"^https?://[^\s/?#@]+[^\s]*$",
        description="Absolute http(s) URL with a host.",
        examples=["https://liaison.example.gov.cn/hooks/matcher"],
    )
    event_types: list[EventType] = Field(min_length=1, description="Events to receive.")
    description: str | None = Field(None, max_length=200, examples=["民情联络站系统"])
    secret: str | None = Field(
        None, min_length=16, max_length=100, description="Signing secret; generated (and returned once) when omitted."
    )
    active: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _unique(value)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://liaison.example.gov.cn/hooks/matcher",
                    "event_types": ["run.published", "assignment.changed"],
                    "description": "民情联络站系统",
                }
            ]
        }
    }


class WebhookUpdate(UpdateModel):
    NULLABLE = frozenset({"description"})

    url: str | None = Field(None, max_length=500, pattern=r"^https?://[^\s/?#@]+[^\s]*$")
    event_types: list[EventType] | None = Field(None, min_length=1)
    description: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, min_length=16, max_length=100, description="Rotate the signing secret.")
    active: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return value if value is None else check_url(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique(value)


class WebhookOut(Stamped):
    id: int
    url: str
    description: str | None
    event_types: list[EventType]
    active: bool
    last_change_id: int = Field(description="Change-feed cursor up to which events were queued for delivery.")


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown only in this response: keep it to verify X-Matcher-Signature.")


class DeliveryOut(ResponseModel):
    id: int
    webhook_id: int
    change_id: int | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    payload: dict[str, Any]

    @field_validator("next_attempt_at", "delivered_at", "created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """SQLite hands back naive UTC datetimes; integrators always get an offset."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
