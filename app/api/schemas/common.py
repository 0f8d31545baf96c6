"""Shapes shared by every resource on the wire (responses, pages, problems).

Input field types and ``RequestModel`` live in ``app.schemas.common`` (shared with the services
and the CLI) and are re-exported here for the routers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import (
    INT4_MAX,
    YEAR_MAX,
    YEAR_MIN,
    DbId,
    RequestModel,
    SafeStr,
    ServiceDate,
    ServiceDateTime,
    check_service_year,
    enum_literal,
)

__all__ = [
    "DbId",
    "INT4_MAX",
    "RequestModel",
    "SafeStr",
    "ServiceDate",
    "ServiceDateTime",
    "YEAR_MAX",
    "YEAR_MIN",
    "check_service_year",
    "enum_literal",
    "PROBLEM_RESPONSES",
    "Page",
    "Problem",
    "ResponseModel",
    "Stamped",
]

T = TypeVar("T")


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Stamped(ResponseModel):
    created_at: datetime = Field(description="When the object was created (UTC).")
    updated_at: datetime = Field(description="When the object last changed (UTC).")
    version: int = Field(description='Optimistic-lock version; the ETag is "v<version>".')


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class ProblemFields(BaseModel):
    """The RFC 9457 members every problem carries; each problem shape adds its own ``errors``."""

    type: str = Field(examples=["urn:matcher:problem:validation_error"])
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


class Problem(ProblemFields):
    """RFC 9457 problem details (media type application/problem+json)."""

    errors: list[dict[str, str]] | None = Field(None, description="Offending fields: {field, message, code}.")


OpenAPIResponses = dict[int | str, dict[str, Any]]
"""The ``responses=`` mapping FastAPI takes: status code -> OpenAPI response object."""

PROBLEM_RESPONSES: OpenAPIResponses = {
    s: {"model": Problem, "content": {"application/problem+json": {}}, "description": d}
    for s, d in {
        400: "Malformed request",
        401: "Missing or invalid API key",
        403: "Role not allowed",
        404: "Not found (or not visible to this key)",
        409: "Conflict",
        412: "Stale If-Match",
        413: "Body too large",
        422: "Validation failed",
    }.items()
}
