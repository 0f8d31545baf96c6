"""Duty record shapes (履职记录) and the per-member annual summary."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

from app.api.schemas.common import DbId, RequestModel, ServiceDate, Stamped, UpdateModel, enum_literal
from app.domain import enums

if TYPE_CHECKING:
    DutyKind = enums.DutyKind
else:
    DutyKind = enum_literal(enums.DutyKind)
_KIND_DOC = "suggestion 建议 | information 社情民意信息 | activity 活动"


class DutyRecordCreate(RequestModel):
    member_id: DbId = Field(description="A member of the caller's district.")
    kind: DutyKind = Field(description=_KIND_DOC)
    date: ServiceDate = Field(description="Day of the duty, 2000..2100.")
    title: str = Field(min_length=1, max_length=200, examples=["关于老旧小区加装电梯的建议"])
    area_id: DbId | None = Field(None, description="Defaults to the demand's area, else the member's home area.")
    demand_id: DbId | None = None
    assignment_id: DbId | None = Field(None, description="Normally set automatically when an assignment is completed.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"member_id": 17, "kind": "suggestion", "date": "2026-03-05", "title": "关于老旧小区加装电梯的建议"}
            ]
        }
    }


class DutyRecordUpdate(UpdateModel):
    NULLABLE = frozenset()

    kind: DutyKind | None = Field(None, description=_KIND_DOC)
    date: ServiceDate | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    area_id: DbId | None = None


class DutyRecordOut(Stamped):
    id: int
    member_id: int
    kind: DutyKind
    date: dt.date
    title: str
    area_id: int | None
    demand_id: int | None
    assignment_id: int | None

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        """SQLite hands stored UTC times back without offset; always answer in explicit UTC."""
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class DutyCounts(BaseModel):
    suggestion: int
    information: int
    activity: int


class DutySummaryMember(BaseModel):
    """One member's duty counts in ``GET /v1/duty-records/summary``."""

    member_id: int
    name: str
    group_id: int | None
    home_area_id: int
    counts: DutyCounts
    met: bool = Field(description="At least one suggestion, one information report and one activity this year.")
    missing: list[DutyKind]


class DutySummary(BaseModel):
    year: int
    members: int
    met: int
    items: list[DutySummaryMember]
