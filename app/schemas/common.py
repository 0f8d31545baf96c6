"""Field types and the request base model every input shape uses."""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import annotated_types
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from app.domain.times import localize

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


def enum_values(enum: type[StrEnum]) -> Any:
    """The field type for a domain enum in a response: ``enum_literal``'s ``Literal`` (the same
    OpenAPI), validating to the plain string instead of the member.

    Why: a response field is only serialized, and pydantic-core serializes a ``str`` subclass
    (the member) on a slow path, about 2 us per value: several per row, on every row of a list.
    """
    return Literal[tuple(member.value for member in enum)]


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


#: Years 2000..2100 as a pattern on the ISO text, so generated clients and fuzzers know the range.
SERVICE_YEAR_PATTERN = r"^(20[0-9]{2}|2100)-"

ServiceDate = Annotated[
    date,
    AfterValidator(check_service_year),
    WithJsonSchema({"type": "string", "format": "date", "pattern": SERVICE_YEAR_PATTERN}),
]
"""A calendar date of an activity or a planning window: years 2000..2100, else 422 naming the field."""


def _iso_text(value: Any) -> Any:
    """A time is ISO 8601 text (or a datetime in Python): a number would be read as a Unix time,
    which the schema does not describe (schemathesis found ``?until=0.5`` accepted)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value[:4].isdigit() or value[4:5] != "-":
        raise ValueError("an ISO 8601 date-time, e.g. 2026-12-07T09:00:00+08:00")
    return value


ServiceDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(localize),
    AfterValidator(check_service_year),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": SERVICE_YEAR_PATTERN}),
]
"""A point in time to filter on: years 2000..2100 (time-zone arithmetic near year 1 or 9999 overflows).
Without an offset it is Beijing time (Asia/Shanghai), the one rule for every time the API reads."""

SafeStr = Annotated[str, AfterValidator(_reject_nul)]
"""A free-text query parameter: NUL characters are a 422 naming it (PostgreSQL cannot compare them)."""


FORM_TEXT = "form_text"
"""Validation context key: the values come from an HTML form, where every value is text."""

M = TypeVar("M", bound=BaseModel)


def from_form(model: type[M], data: dict[str, Any]) -> M:
    """Validate what an HTML form posted. A form has only text, so its numbers arrive as digits
    ("4"); JSON bodies must send numbers (``RequestModel._strict_numbers``), forms may send digits.
    Every other rule of the model holds as for the API."""
    return model.model_validate(data, context={FORM_TEXT: True})


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

    @field_validator("*", mode="before")
    @classmethod
    def _strict_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """Numbers are JSON numbers: ``true`` is not 1 and ``"3"`` is not 3 (``2.0`` is the integer 2,
        as JSON Schema has it)."""
        if value is None or (info.context or {}).get(FORM_TEXT):
            return value
        name = info.field_name or ""
        _check_number(value, _field_kind(cls, name), name)
        return value


_FIELD_KINDS: dict[tuple[type, str], str | None] = {}


def _field_kind(model: type[BaseModel], name: str) -> str | None:
    """``_numeric_kind`` of a model field, worked out once per (model, field): the validator runs
    for every field of every row a bulk import validates, and unwrapping the annotation each time
    was most of that validation's cost."""
    key = (model, name)
    if key not in _FIELD_KINDS:
        field = model.model_fields.get(name)
        _FIELD_KINDS[key] = None if field is None else _numeric_kind(field.annotation)
    return _FIELD_KINDS[key]


class UpdateModel(RequestModel):
    """A PATCH body: every field optional, but only the fields in ``NULLABLE`` may be sent as
    ``null`` (to clear them); for the others the server refuses null with a 422 naming the field,
    so their schema does not offer null (a generated client must not think it may clear them)."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            if name in cls.NULLABLE:
                continue
            branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
            if "anyOf" in prop and len(branches) == 1:
                prop.pop("anyOf")
                prop.update(branches[0])
            elif "anyOf" in prop:
                prop["anyOf"] = branches
            if prop.get("default", 0) is None:
                prop.pop("default")
        return schema


def _numeric_kind(annotation: Any) -> str | None:
    """'int' / 'float' when a field holds numbers (possibly optional or in a list), else None."""
    if annotation is bool:
        return None
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _numeric_kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_numeric_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin in (list, set, frozenset, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        kind = _numeric_kind(args[0]) if len(args) == 1 else None
        return f"list[{kind}]" if kind else None
    return None


def _check_number(value: Any, kind: str | None, name: str) -> None:
    """Refuse what pydantic's lax mode would quietly turn into a number (true, "3"); anything
    else is left to the field's own validation (and its error location)."""
    if kind is None or value is None:
        return
    if kind.startswith("list[") and isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_number(item, kind[5:-1], f"{name}.{index}")
        return
    what = "integer" if kind == "int" else "number"
    if isinstance(value, bool):
        raise ValueError(f"{name}: must be a JSON {what}, not a boolean")
    if isinstance(value, str) and _looks_numeric(value):
        raise ValueError(f"{name}: must be a JSON {what}, not a string")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
