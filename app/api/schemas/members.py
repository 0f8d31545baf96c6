"""Committee member (委员) shapes; shared with the bulk importer (keep the field names).

Payloads reference areas by code and skills by code, name or synonym; responses
carry both the ids and the codes/names. ``phone`` is shown to admin keys only:
for liaison and reader keys it is present but always ``null``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.api.schemas.common import DbId, Stamped, UpdateModel
from app.domain.enums import NotificationChannel
from app.schemas.members import EMAIL, MemberCreate, MemberSkillIn, WeeklySlot

__all__ = [
    "MemberCreate",
    "MemberOut",
    "MemberSkillIn",
    "MemberSkillOut",
    "MemberUpdate",
    "WeeklySlot",
    "WeeklySlotOut",
]


class MemberUpdate(UpdateModel):
    """Every field optional; given lists (skills, blackout_dates, weekly_slots) replace the stored ones."""

    NULLABLE = frozenset(
        {"external_id", "sector", "group_id", "work_area", "phone", "max_distance_km", "email", "preferred_channel"}
    )

    external_id: str | None = Field(None, min_length=1, max_length=60, description="Id in the member portal.")
    name: str | None = Field(None, min_length=1, max_length=60, description="Full name.")
    sector: str | None = Field(None, max_length=60, description="界别.")
    group_id: DbId | None = Field(None, description="null removes the member from its group.")
    home_area: str | None = Field(None, min_length=1, max_length=20, description="Area code.")
    work_area: str | None = Field(None, max_length=20, description="Area code; null clears it.")
    phone: str | None = Field(None, max_length=40, description="Contact number (admins only read it).")
    email: str | None = Field(None, max_length=200, pattern=EMAIL, description="E-mail address; null clears it.")
    preferred_channel: NotificationChannel | None = Field(None, description="email, webhook or log; null: default.")
    weekly_cap: int | None = Field(None, ge=1, le=20, description="Most activities per week, 1..20.")
    accepts_cross_area: bool | None = Field(None, description="Whether the member serves other areas (跨片).")
    max_distance_km: float | None = Field(None, gt=0, description="Farthest cross-area distance; null: no limit.")
    skills: list[MemberSkillIn] | None = Field(None, description="Replaces all skills.")
    blackout_dates: list[date] | None = Field(None, description="Replaces the unavailable dates.")
    weekly_slots: list[WeeklySlot] | None = Field(None, description="Replaces the weekly availability.")
    active: bool | None = Field(None, description="false: never assigned.")

    model_config = {"json_schema_extra": {"examples": [{"weekly_cap": 3, "skills": [{"code": "law", "level": 3}]}]}}


class MemberSkillOut(BaseModel):
    """A skill the member holds, resolved to the catalogue."""

    skill_id: int = Field(description="Skill id.")
    code: str = Field(description="Canonical skill code.")
    name: str = Field(description="Skill name.")
    category: str = Field(description="expertise | interest | resource")
    level: int = Field(description="1 basic .. 3 expert.")


class WeeklySlotOut(BaseModel):
    """A weekly availability window (local time)."""

    weekday: int = Field(description="0 = Monday .. 6 = Sunday.")
    start: str = Field(description="HH:MM.")
    end: str = Field(description="HH:MM.")


class MemberOut(Stamped):
    """A member with ids and codes/names of every reference. ``phone`` is null unless the key is admin."""

    id: int = Field(description="Member id.")
    external_id: str | None = Field(description="Id in the member portal.")
    name: str = Field(description="Full name.")
    sector: str | None = Field(description="界别.")
    group_id: int | None = Field(description="Working group id.")
    group_name: str | None = Field(description="Working group name.")
    home_area_id: int = Field(description="Home area id.")
    home_area: str = Field(description="Home area code.")
    home_area_name: str = Field(description="Home area name.")
    work_area_id: int | None = Field(description="Work area id.")
    work_area: str | None = Field(description="Work area code.")
    work_area_name: str | None = Field(description="Work area name.")
    phone: str | None = Field(description="Admin keys only; always null for liaison and reader keys.")
    email: str | None = Field(None, description="Admin keys only, like the phone.")
    preferred_channel: NotificationChannel | None = Field(None, description="How task messages reach the member.")
    weekly_cap: int = Field(description="Most activities per week.")
    accepts_cross_area: bool = Field(description="Serves other areas (跨片).")
    max_distance_km: float | None = Field(description="Farthest cross-area distance; null: no limit.")
    skills: list[MemberSkillOut] = Field(description="Skills held, in catalogue order.")
    blackout_dates: list[date] = Field(description="Unavailable dates, ascending.")
    weekly_slots: list[WeeklySlotOut] = Field(description="Weekly availability; empty = any time.")
    active: bool = Field(description="false: never assigned.")

    @model_validator(mode="before")
    @classmethod
    def _from_orm(cls, m: Any) -> Any:
        if isinstance(m, dict):
            return m
        return {
            "id": m.id,
            "external_id": m.external_id,
            "name": m.name,
            "sector": m.sector,
            "group_id": m.group_id,
            "group_name": m.group.name if m.group else None,
            "home_area_id": m.home_area_id,
            "home_area": m.home_area.code,
            "home_area_name": m.home_area.name,
            "work_area_id": m.work_area_id,
            "work_area": m.work_area.code if m.work_area else None,
            "work_area_name": m.work_area.name if m.work_area else None,
            "phone": m.phone,
            "email": m.email,
            "preferred_channel": m.preferred_channel,
            "weekly_cap": m.weekly_cap,
            "accepts_cross_area": m.accepts_cross_area,
            "max_distance_km": m.max_distance_km,
            "skills": [
                {
                    "skill_id": ms.skill.id,
                    "code": ms.skill.code,
                    "name": ms.skill.name,
                    "category": ms.skill.category,
                    "level": ms.level,
                }
                for ms in sorted(m.skills, key=lambda ms: ms.skill.id)
            ],
            "blackout_dates": list(m.blackout_dates or []),
            "weekly_slots": list(m.weekly_slots or []),
            "active": m.active,
            "created_at": m.created_at,
            "updated_at": m.updated_at,
            "version": m.version,
        }

    def for_caller(self, can_read_phones: bool) -> MemberOut:
        """The directory without phone numbers for keys that may not read them."""
        return self if can_read_phones else self.model_copy(update={"phone": None, "email": None})
