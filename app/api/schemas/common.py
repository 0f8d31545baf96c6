"""Shapes shared by every resource."""
from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RequestModel(BaseModel):
    """Request bodies reject unknown fields, so a typo is a 422 naming it, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Stamped(ResponseModel):
    created_at: datetime = Field(description="When the object was created (UTC).")
    updated_at: datetime = Field(description="When the object last changed (UTC).")
    version: int = Field(description="Optimistic-lock version; the ETag is \"v<version>\".")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    type: str = Field(examples=["urn:matcher:problem:validation_error"])
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, str]] | None = Field(None, description="Offending fields: {field, message, code}.")


PROBLEM_RESPONSES = {
    s: {"model": Problem, "content": {"application/problem+json": {}}, "description": d}
    for s, d in {
        400: "Malformed request", 401: "Missing or invalid API key", 403: "Role not allowed",
        404: "Not found (or not visible to this key)", 409: "Conflict", 412: "Stale If-Match",
        413: "Body too large", 422: "Validation failed",
    }.items()
}
