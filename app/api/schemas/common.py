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
    UpdateModel,
    check_service_year,
    enum_literal,
    enum_values,
)

__all__ = [
    "DbId",
    "INT4_MAX",
    "RequestModel",
    "SafeStr",
    "ServiceDate",
    "ServiceDateTime",
    "UpdateModel",
    "YEAR_MAX",
    "YEAR_MIN",
    "check_service_year",
    "enum_literal",
    "enum_values",
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


class ProblemError(BaseModel):
    """One offending field (or cell, for imports)."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="The field: `weekly_cap`, `skills.0.level`, `query.status`, `If-Match`.")
    message: str = Field(description="What is wrong, for a person.")
    code: str = Field(description="Stable machine code, e.g. `missing`, `too_long`, `unknown_parameter`.")
    row: int | None = Field(None, description="Imports: spreadsheet row number (header = 1).")
    column: str | None = Field(None, description="Imports: the header as written in the file.")


class ProblemFields(BaseModel):
    """RFC 9457 problem details (media type application/problem+json). ``type`` and ``code`` are
    stable identifiers to branch on; ``title``, ``detail`` and the messages are for people.
    Some problems carry more members (``from``/``to`` of a refused transition, ``bad_rows``);
    each problem shape adds its own ``errors``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:matcher:problem:validation_error"])
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


class Problem(ProblemFields):
    """A problem whose ``errors`` name offending fields."""

    errors: list[ProblemError] | None = Field(None, description="Offending fields: {field, message, code}.")


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
