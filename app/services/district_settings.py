"""Per-district settings: defaults filled in, validated on every write, merged field by field.

``auto_publish_repairs`` lives in the JSON here; a boolean column of the same name on
``districts`` (issue 9's repair loop) takes precedence where it exists, and a write updates both.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.errors import Problem, field_error, msg
from app.models import District
from app.schemas.district_settings import DistrictSettings
from app.services.crud import check_if_match
from app.services.identity import Caller

_REPAIR_COLUMN = "auto_publish_repairs"  # issue 9's column on districts, when that branch has landed


def _district(session: Session, caller: Caller) -> District:
    district = session.get(District, caller.district_id)
    if district is None:  # a platform key not acting as a district
        raise Problem(404, "not_found", msg("no_district_act_as"))
    return district


def effective(district: District) -> DistrictSettings:
    """The stored settings with every default filled in."""
    data = dict(district.settings or {})
    column = getattr(district, _REPAIR_COLUMN, None) if hasattr(District, _REPAIR_COLUMN) else None
    if isinstance(column, bool):
        data["auto_publish_repairs"] = column
    return DistrictSettings.model_validate(data)


def read_settings(session: Session, caller: Caller) -> DistrictSettings:
    return effective(_district(session, caller))


def settings_version(session: Session, caller: Caller) -> int:
    """The district row's version: the ETag of its settings."""
    return _district(session, caller).version


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merge(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


def update_settings(
    session: Session, caller: Caller, *, changes: dict[str, Any], if_match: str | None
) -> DistrictSettings:
    """PATCH: admins only; the merged result must be valid as a whole (422 names the field).
    The settings live on the district row, so its version is their ETag."""
    if caller.role != Role.ADMIN:
        raise Problem(403, "forbidden_role", msg("settings_admin_only"))
    district = _district(session, caller)
    check_if_match(if_match, district.version)
    merged = _merge(effective(district).model_dump(), {k: v for k, v in changes.items() if v is not None})
    try:
        valid = DistrictSettings.model_validate(merged)
    except ValidationError as exc:
        errors = [field_error(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        names = ", ".join(sorted({e["field"] for e in errors}))
        raise Problem(422, "validation_error", msg("validation_error", fields=names), errors=errors) from None
    district.settings = valid.model_dump(mode="json")
    if hasattr(District, _REPAIR_COLUMN):
        setattr(district, _REPAIR_COLUMN, valid.auto_publish_repairs)
    session.flush()
    return valid
