"""Field types and the request base model every input shape uses."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

T = TypeVar("T")
DateOrTime = TypeVar("DateOrTime", bound=date)  # a date or a datetime, handed back as it came


def enum_literal(enum: type[StrEnum]) -> Any:
    """The field type for a domain enum: a ``Literal`` of its values that validates to the member.

    The schemas declare lifecycle fields with the enums of ``app.domain.enums`` (under
    ``TYPE_CHECKING`` the alias *is* the enum), so handlers and services get enum members; at run
    time the field is the ``Literal`` derived from the enum, which keeps the published OpenAPI
    exactly as it was (inline ``enum`` lists, no new ``$ref`` components).
    """
    values = tuple(member.value for member in enum)
    return Annotated[Literal[values], AfterValidator(enum)]


INT4_MAX = 2_147_483_647
"""Ids are PostgreSQL ``integer`` columns: a larger number can name no row and would make the
driver fail (PostgreSQL: integer out of range; SQLite: int too large), so it is refused up front."""

DbId = Annotated[int, annotated_types.Interval(ge=1, le=INT4_MAX)]
"""A row id in a path, query or body: 1..2147483647, else 422 naming the parameter."""


def _reject_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL (0x00); refuse it on both databases so they behave alike."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL (\\u0000) characters")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _reject_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key)
            _reject_nul(item)
    return value


YEAR_MIN, YEAR_MAX = 2000, 2100
"""Dates the service plans and reports on (the reports' ``year`` parameters use the same range).
Beyond it a date is a typo, and near year 1 or 9999 converting time zones overflows."""


def check_service_year(value: DateOrTime) -> DateOrTime:
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValueError(f"must be between {YEAR_MIN}-01-01 and {YEAR_MAX}-12-31")
    return value


ServiceDate = Annotated[date, AfterValidator(check_service_year)]
"""A calendar date of an activity or a planning window: years 2000..2100, else 422 naming the field."""

ServiceDateTime = Annotated[datetime, AfterValidator(check_service_year)]
"""A point in time to filter on: years 2000..2100 (time-zone arithmetic near year 1 or 9999 overflows)."""

SafeStr = Annotated[str, AfterValidator(_reject_nul)]
"""A free-text query parameter: NUL characters are a 422 naming it (PostgreSQL cannot compare them)."""


class RequestModel(BaseModel):
    """Request bodies reject unknown fields, so a typo is a 422 naming it, not a silent no-op.

    They also refuse what the databases cannot store faithfully: NaN/Infinity in numbers (not
    valid JSON in a response either) and NUL characters in any text, each as a 422 naming the field.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)
