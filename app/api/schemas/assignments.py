"""Assignment shapes: what integrators pull and the bodies of the member actions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.schemas.common import Page, RequestModel, enum_literal
from app.domain import enums
from app.services.assignments import explanation_text

if TYPE_CHECKING:
    AssignmentStatus = enums.AssignmentStatus
    ResponseMethod = enums.ResponseMethod
else:
    AssignmentStatus = enum_literal(enums.AssignmentStatus)
    ResponseMethod = enum_literal(enums.ResponseMethod)


class Explanation(BaseModel):
    """The numbers behind a proposal, as the optimizer stored them (unknown extra terms pass through)."""

    model_config = ConfigDict(extra="allow")

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
    status: AssignmentStatus
    score: float | None
    #: Left to right: a dict becomes an ``Explanation`` when it has that shape and passes through
    #: as it is otherwise (the optimizer owns this JSON: an unexpected shape is never a 500).
    explanation: Explanation | dict[str, Any] | None = Field(union_mode="left_to_right")
    explanation_text: str | None = Field(
        description='Plain Chinese, e.g. "持有 法律咨询; 跨片 3.2 km; 本年度首次活动".'
    )
    decline_reason: str | None
    response_method: ResponseMethod | None = Field(
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

    @field_validator("accepted_at", "declined_at", "completed_at", "created_at", "updated_at", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        """SQLite keeps UTC times as text without offset (read as stored, ``as_stored``): marked
        ``Z`` here, they are parsed as UTC by pydantic itself (``datetime.replace`` costs about
        2 us a value, a fifth of a page of 100 rows). A naive datetime is UTC too; always answer
        in explicit UTC."""
        if isinstance(value, str):
            return value + "Z"
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @staticmethod
    def prepared(document: dict[str, Any]) -> dict[str, Any]:
        """An assignment document (``app.services.assignment_documents``), changed in place, ready
        to validate: the stored explanation parsed (SQLite hands back its JSON text), anything
        but an object dropped, and its text written out when the row has none."""
        explanation = document["explanation"]
        if isinstance(explanation, str):
            explanation = json.loads(explanation)
        if not isinstance(explanation, dict):
            explanation = None
        document["explanation"] = explanation
        if not document["explanation_text"]:
            document["explanation_text"] = explanation_text(explanation)
        return document

    @classmethod
    def of(cls, document: dict[str, Any]) -> AssignmentOut:
        """From an assignment document (left as it is): see ``prepared``."""
        return cls.model_validate(cls.prepared(dict(document)))

    @classmethod
    def page(cls, documents: Sequence[dict[str, Any]], next_cursor: str | None) -> Page[AssignmentOut]:
        """A page of documents (changed in place), validated in one call rather than one model
        per row (the same models, a third of the time)."""
        return _PAGE.model_validate({"items": [cls.prepared(d) for d in documents], "next_cursor": next_cursor})


_PAGE = Page[AssignmentOut]


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
