"""Districts (tenants), managed by platform keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.schemas.common import RequestModel, ResponseModel


class AreaIn(RequestModel):
    code: str = Field(min_length=1, max_length=20, examples=["HDJ"])
    name: str = Field(min_length=1, max_length=100, examples=["海淀街道"])
    kind: str = Field(pattern="^(street|township)$")
    lat: float | None = None
    lon: float | None = None


class DistrictCreate(RequestModel):
    code: str = Field(min_length=2, max_length=40, examples=["haidian"])
    name: str = Field(min_length=1, max_length=100, examples=["海淀区"])
    timezone: str = Field("Asia/Shanghai", max_length=60)
    areas: list[AreaIn] = Field(default_factory=list, max_length=500)


class DistrictUpdate(RequestModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    timezone: str | None = Field(None, max_length=60)
    active: bool | None = None


class DistrictOut(ResponseModel):
    id: int
    code: str
    name: str
    timezone: str
    active: bool
    created_at: datetime
    updated_at: datetime


class DistrictCreated(DistrictOut):
    areas: int = Field(description="Areas created with the district.")
    admin_key: str = Field(description="The district's first admin key; shown once.")
