from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from app.api.schemas.common import RequestModel, Stamped, UpdateModel, enum_literal
from app.domain import enums

if TYPE_CHECKING:
    AreaKind = enums.AreaKind
else:
    AreaKind = enum_literal(enums.AreaKind)


class AreaCreate(RequestModel):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_\-]+$", examples=["JW"])
    name: str = Field(min_length=1, max_length=100, examples=["建外街道"])
    kind: AreaKind = Field(description="街道 street or 乡/地区 township")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    liaison_name: str | None = Field(None, max_length=100, description="联络员")
    liaison_phone: str | None = Field(None, max_length=40)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "JW",
                    "name": "建外街道",
                    "kind": "street",
                    "lat": 39.905,
                    "lon": 116.45,
                    "liaison_name": "王芳",
                    "liaison_phone": "010-65001234",
                }
            ]
        }
    }


class AreaUpdate(UpdateModel):
    NULLABLE = frozenset({"lat", "lon", "liaison_name", "liaison_phone"})

    name: str | None = Field(None, min_length=1, max_length=100)
    kind: AreaKind | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    liaison_name: str | None = Field(None, max_length=100)
    liaison_phone: str | None = Field(None, max_length=40)
    active: bool | None = None


class AreaOut(Stamped):
    id: int
    code: str
    name: str
    kind: AreaKind
    lat: float | None
    lon: float | None
    liaison_name: str | None
    liaison_phone: str | None = Field(description="Published so members can reach the liaison officer.")
    active: bool
