"""Assignment shapes: what integrators pull and the bodies of the member actions."""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from app.api.schemas.common import Page, RequestModel, enum_literal, enum_values
from app.domain import enums
from app.services.assignments import explanation_text

if TYPE_CHECKING:
    AssignmentStatus = enums.AssignmentStatus
    ResponseMethod = enums.ResponseMethod
    _StatusValue = enums.AssignmentStatus
    _MethodValue = enums.ResponseMethod
else:
    AssignmentStatus = enum_literal(enums.AssignmentStatus)
    ResponseMethod = enum_literal(enums.ResponseMethod)
    _StatusValue = enum_values(enums.AssignmentStatus)
    _MethodValue = enum_values(enums.ResponseMethod)


class Explanation(BaseModel):
    """The numbers behind a proposal, as the optimizer stored them (unknown extra terms pass through)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    skill_overlap: list[Any] | None = Field(None, description="Required skills the member holds.")
    skill_score: float | None = None
    home_area: bool | None = Field(None, description="Demand is in the member's home area (本片).")
    paired_area: bool | None = Field(None, description="Demand is in an area the member's group is paired with (结对).")
    distance_km: float | None = Field(None, description="Home area to demand area; 0 in the home area.")
    load_after: int | float | None = Field(None, description="Member's assignments in the window with this one.")
    first_activity_this_year: bool | None = Field(None, description="Would be the member's first activity this year.")
    kept_from_previous: bool | None = None
    served_community_before: bool | None = None
    terms: dict[str, Any] | None = Field(None, description="Objective contribution per term.")

    @classmethod
    def lenient(cls, raw: Any) -> Explanation | dict[str, Any] | None:
        """The optimizer owns this JSON; an unexpected shape is passed through, never a 500."""
        if not isinstance(raw, dict):
            return None
        try:
            return cls.model_validate(raw)
        except ValidationError:
            return raw


class AssignmentOut(BaseModel):
    id: int
    run_id: int | None = Field(description="Optimization run that proposed it; null for manual rows.")
    demand_id: int
    demand_title: str
    area_id: int
    area_code: str
    community_id: int
    community_name: str
    member_id: int
    member_name: str
    member_phone: str | None = Field(None, description="Only shown to admin keys.")
    status: _StatusValue
    score: float | None
    explanation: Explanation | dict[str, Any] | None
    explanation_text: str | None = Field(
        description='Plain Chinese, e.g. "持有 法律咨询; 跨片 3.2 km; 本年度首次活动".'
    )
    decline_reason: str | None
    response_method: _MethodValue | None = Field(
        description="home_visit 上门回复 | on_site 就地解释 | arranged_talk 约谈沟通 | via_unit 委托答复"
    )
    outcome: str | None
    satisfaction: int | None
    completed_on: date | None = Field(None, description="Date of the activity (from its duty record).")
    duty_record_id: int | None = Field(None, description="The activity DutyRecord written on completion.")
    accepted_at: datetime | None
    declined_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @field_validator("accepted_at", "declined_at", "completed_at", "created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """SQLite hands stored UTC times back without offset; always answer in explicit UTC."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @classmethod
    def of(cls, document: dict[str, Any]) -> AssignmentOut:
        """From an assignment document (``app.services.assignment_documents``, or
        ``document_of`` after a write): the optimizer's explanation (stored JSON text or the
        decoded dict) parsed leniently, its text written out when the row has none."""
        return cls.page([dict(document)], None).items[0]

    @classmethod
    def page(cls, documents: list[dict[str, Any]], next_cursor: str | None) -> Page[AssignmentOut]:
        """A page of documents, each as ``of`` makes it, validated in one call instead of one per
        row, with the page's explanations parsed and validated in one call too: the same models,
        a fraction of the per-call overhead. ``documents`` are updated (the caller's to give)."""
        stored = [d["explanation"] for d in documents]
        for document, raw, parsed in zip(documents, stored, _lenient_all(stored), strict=True):
            document["explanation"] = parsed
            if not document["explanation_text"]:
                document["explanation_text"] = explanation_text(_as_dict(raw))
        return _PAGE.validate_python({"items": documents, "next_cursor": next_cursor})


_PAGE = TypeAdapter(Page[AssignmentOut])
_EXPLANATION: TypeAdapter[Explanation | None] = TypeAdapter(Explanation | None)


def _as_dict(stored: Any) -> dict[str, Any] | None:
    """A stored explanation (JSON text, or already decoded) as the dict it holds, else None."""
    value = json.loads(stored) if isinstance(stored, str) else stored
    return value if isinstance(value, dict) else None


def _lenient_all(stored: list[Any]) -> list[Explanation | dict[str, Any] | None]:
    """``Explanation.lenient`` of each stored explanation; JSON text that fits the model is
    parsed once per process (``_parsed_explanation``), anything else row by row."""
    parsed: list[Explanation | dict[str, Any] | None] = []
    for text in stored:
        if isinstance(text, str):
            try:
                parsed.append(_parsed_explanation(text))
                continue
            except ValidationError:
                pass
        parsed.append(Explanation.lenient(_as_dict(text)))
    return parsed


@functools.lru_cache(maxsize=4096)
def _parsed_explanation(text: str) -> Explanation | None:
    """The explanation stored as ``text``, parsed and validated in one pydantic-core call; raises
    when it does not fit (then nothing is kept). Kept by its text, so never stale: integrators
    read the current plan's assignments page after page, and parsing a page's explanations again
    was about 8 % of a list request. The models are frozen, so responses can share them."""
    return _EXPLANATION.validate_json(text)


class DeclineIn(RequestModel):
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why the member cannot serve; required.",
        examples=["本周出差，无法参加"],
    )


class CompleteIn(RequestModel):
    response_method: ResponseMethod = Field(
        description="home_visit 上门回复 | on_site 就地解释 | arranged_talk 约谈沟通 | via_unit 委托答复"
    )
    outcome: str | None = Field(None, max_length=4000, description="What was done / answered.")
    satisfaction: int | None = Field(None, ge=1, le=5, description="Residents' satisfaction 1-5.")
    completed_on: date | None = Field(None, description="Date of the activity; defaults to today.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "response_method": "on_site",
                    "outcome": "现场讲解物业纠纷相关法律条款，双方达成调解意向",
                    "satisfaction": 5,
                    "completed_on": "2026-11-28",
                }
            ]
        }
    }
