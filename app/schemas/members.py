"""Committee member (委员) input shapes, shared by the API, the bulk importer and the services."""

from __future__ import annotations

from datetime import date

from pydantic import Field, ValidationInfo, field_validator

from app.domain.enums import NotificationChannel
from app.schemas.common import DbId, RequestModel

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"


class MemberSkillIn(RequestModel):
    """One skill a member offers, named by code, name or synonym."""

    code: str = Field(
        min_length=1,
        max_length=100,
        description="Skill code, name or synonym (case-insensitive); "
        "resolved to the canonical skill, unknown -> 422 on `skills`.",
        examples=["律师"],
    )
    level: int = Field(2, ge=1, le=3, description="1 basic, 2 good, 3 expert.")


class WeeklySlot(RequestModel):
    """A recurring weekly availability window; ``end`` after ``start`` (else 422 on ``weekly_slots.N.end``)."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday .. 6 = Sunday.")
    start: str = Field(pattern=HHMM, description="Local time HH:MM (Asia/Shanghai).", examples=["14:00"])
    end: str = Field(pattern=HHMM, description="Local time HH:MM, after start.", examples=["17:30"])

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        return end


class MemberCreate(RequestModel):
    """A new committee member (委员); admin only."""

    external_id: str | None = Field(
        None, min_length=1, max_length=60, description="Id in the member portal; unique in the district."
    )
    name: str = Field(min_length=1, max_length=60, description="Full name.")
    sector: str | None = Field(None, max_length=60, description="界别, e.g. 经济界.")
    group_id: DbId | None = Field(None, description="Working group (小组) id of this district.")
    home_area: str = Field(
        min_length=1, max_length=20, description="Code of the area the member is fixed to (定点包片, by home or work)."
    )
    work_area: str | None = Field(None, max_length=20, description="Code of the area of the member's workplace.")
    phone: str | None = Field(None, max_length=40, description="Only admins ever read it back.")
    email: str | None = Field(
        None, max_length=200, pattern=EMAIL, description="For task messages by e-mail; only admins read it back."
    )
    preferred_channel: NotificationChannel | None = Field(
        None, description="How the member is told about tasks; null: e-mail if an address is known, else the default."
    )
    weekly_cap: int = Field(2, ge=1, le=20, description="Most activities per week.")
    accepts_cross_area: bool = Field(True, description="false: never assigned outside home/paired areas (跨片).")
    max_distance_km: float | None = Field(None, gt=0, description="Farthest cross-area distance accepted.")
    skills: list[MemberSkillIn] = Field(
        default_factory=list,
        description="Expertise, interests and resources; a skill named twice keeps the higher level.",
    )
    blackout_dates: list[date] = Field(default_factory=list, description="Dates the member is unavailable.")
    weekly_slots: list[WeeklySlot] = Field(
        default_factory=list, description="When the member is available; empty = any time outside blackout dates."
    )
    active: bool = Field(True, description="Inactive members are never assigned.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "external_id": "CY-2026-0117",
                    "name": "刘建国",
                    "sector": "经济界",
                    "group_id": 5,
                    "home_area": "LGY",
                    "work_area": "CW",
                    "phone": "13901234567",
                    "weekly_cap": 2,
                    "accepts_cross_area": True,
                    "max_distance_km": 15,
                    "skills": [
                        {"code": "finance", "level": 3},
                        {"code": "防范金融诈骗", "level": 3},
                        {"code": "场地", "level": 1},
                    ],
                    "blackout_dates": ["2026-12-01"],
                    "weekly_slots": [
                        {"weekday": 2, "start": "14:00", "end": "17:30"},
                        {"weekday": 5, "start": "09:00", "end": "12:00"},
                    ],
                    "active": True,
                }
            ]
        }
    }
