"""Per-district settings the district admin edits (stored in ``districts.settings``, JSON)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from app.schemas.common import RequestModel
from app.schemas.runs import WeightsIn

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ScheduleSettings(RequestModel):
    """The weekly optimisation: e.g. every Monday 06:00 in the district's time zone, plan the coming week."""

    enabled: bool = False
    weekday: int = Field(0, ge=0, le=6, description="0 = Monday ... 6 = Sunday.")
    time: str = Field("06:00", description="HH:MM in the district's time zone.")
    publish: bool = Field(False, description="Publish the plan automatically when the run succeeds.")

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM (00:00-23:59)")
        return value


class NotificationSettings(RequestModel):
    channels: list[str] = Field(default_factory=list, max_length=10, description="Default channels for members.")
    remind_hours_before: int = Field(24, ge=0, le=336)


class DistrictSettings(RequestModel):
    weights: WeightsIn = Field(default_factory=WeightsIn, description="Default solver weights of new runs.")
    time_limit_s: float = Field(30, gt=0, le=3600, description="Default solver time limit of new runs.")
    planning_window_days: int = Field(7, ge=1, le=31, description="Days a scheduled run plans ahead.")
    auto_publish_repairs: bool = Field(True, description="Publish repair runs after a decline by themselves.")
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)


class DistrictSettingsPatch(RequestModel):
    """Any subset; nested objects are merged field by field."""

    weights: WeightsIn | None = None
    time_limit_s: float | None = Field(None, gt=0, le=3600)
    planning_window_days: int | None = Field(None, ge=1, le=31)
    auto_publish_repairs: bool | None = None
    notifications: dict | None = None
    schedule: dict | None = None
