"""Districts as tenants: one deployment may serve several; CLI commands act on one by code.

Only ``platform`` callers create, list, rename and (de)activate districts. A deactivated
district keeps its data, but its keys get 401 until it is reactivated.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import AreaKind, Role
from app.errors import Problem, invalid, msg, not_found
from app.models import Area, District
from app.services.crud import check_if_match
from app.services.identity import Caller
from app.services.pagination import Page, paginate

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
AREA_COLUMNS = ("code", "name_zh", "kind", "lat_approx", "lon_approx")
"""The columns of an areas CSV (the bundled app/data/chaoyang_areas.csv has them)."""


@dataclass(frozen=True)
class NewDistrict:
    district: District
    areas: int
    admin_key: str  # the first admin key, shown once


def ensure_district(session: Session, *, code: str, name: str | None = None) -> District:
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        district = District(code=code, name=name or code)
        session.add(district)
        session.flush()
    return district


def get_district(session: Session, *, code: str) -> District:
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        raise Problem(404, "unknown_district", msg("unknown_district", code=code))
    return district


def require_platform(caller: Caller) -> None:
    if caller.role != Role.PLATFORM:
        raise Problem(403, "forbidden_role", msg("districts_platform_only"))


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", msg("unknown_timezone", name=name)) from None
    return name


def parse_areas_csv(text: str) -> list[dict[str, Any]]:
    """Rows of an areas CSV (columns AREA_COLUMNS; lat/lon may be empty), each row checked."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("code", "name_zh", "kind") if c not in (reader.fieldnames or [])]
    if missing:
        raise invalid("areas", msg("area_csv_columns", missing=", ".join(missing), expected=", ".join(AREA_COLUMNS)))
    rows, seen = [], set()
    for n, r in enumerate(reader, start=2):
        code, kind = (r.get("code") or "").strip(), (r.get("kind") or "").strip()
        if not code or code in seen:
            raise invalid("areas", msg("area_csv_code", line=n, code=code))
        if kind not in tuple(AreaKind):
            raise invalid("areas", msg("area_csv_kind", line=n, kinds=", ".join(AreaKind)))
        try:
            lat = float(r["lat_approx"]) if (r.get("lat_approx") or "").strip() else None
            lon = float(r["lon_approx"]) if (r.get("lon_approx") or "").strip() else None
        except ValueError:
            raise invalid("areas", msg("area_csv_coords", line=n)) from None
        seen.add(code)
        rows.append(
            {"code": code, "name": (r.get("name_zh") or code).strip(), "kind": AreaKind(kind), "lat": lat, "lon": lon}
        )
    return rows


def create_district(
    session: Session,
    caller: Caller,
    *,
    code: str,
    name: str,
    timezone: str = "Asia/Shanghai",
    areas: list[dict[str, Any]] | None = None,
) -> NewDistrict:
    """A new tenant with its areas and a first admin key (returned once)."""
    from app.services.api_keys import create_api_key

    require_platform(caller)
    if not CODE_PATTERN.match(code):
        raise invalid("code", msg("district_code_format"))
    if session.scalar(select(District.id).where(District.code == code)) is not None:
        raise Problem(409, "district_exists", msg("district_exists", code=code))
    district = District(code=code, name=name, timezone=check_timezone(timezone), settings={})
    session.add(district)
    session.flush()
    for row in areas or []:
        session.add(Area(district_id=district.id, **row))
    session.flush()
    key = create_api_key(session, district_id=district.id, role=Role.ADMIN, name=f"{code} admin")
    return NewDistrict(district=district, areas=len(areas or []), admin_key=key)


def list_districts(
    session: Session, caller: Caller, *, active: bool | None, cursor: str | None, limit: int
) -> Page[District]:
    require_platform(caller)
    stmt = select(District)
    if active is not None:
        stmt = stmt.where(District.active.is_(active))
    return paginate(session, stmt=stmt, id_column=District.id, cursor=cursor, limit=limit)


def update_district(
    session: Session, caller: Caller, *, code: str, changes: dict[str, Any], if_match: str | None
) -> District:
    """Rename, change the time zone, or (de)activate a district (If-Match: its version)."""
    require_platform(caller)
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        raise not_found("district", code)
    check_if_match(if_match, district.version)
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    for field in ("name", "timezone", "active"):
        if field in changes and changes[field] is not None:
            setattr(district, field, changes[field])
    session.flush()
    return district
