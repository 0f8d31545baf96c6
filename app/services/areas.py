"""Areas (街道/乡): reference data; only admins change them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Problem, invalid
from app.models import Area
from app.services.crud import apply_changes, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate


def area_by_code(session: Session, district_id: int, code: str, field: str) -> Area:
    """An area code (exact, else any case, as the importer accepts) from a payload or filter.

    Unknown is a 422 naming ``field``.
    """
    code = code.strip()
    area = session.scalar(select(Area).where(Area.district_id == district_id, Area.code == code))
    if area is None:
        area = session.scalar(
            select(Area)
            .where(Area.district_id == district_id, func.lower(Area.code) == code.lower())
            .order_by(Area.id)
            .limit(1)
        )
    if area is None:
        raise invalid(field, f"no area with code {code!r} in this district", "unknown_area")
    return area


def create_area(session: Session, caller: Caller, data: dict[str, Any]) -> Area:
    if session.scalar(select(Area.id).where(Area.district_id == caller.district_id, Area.code == data["code"])):
        raise Problem(
            409,
            "duplicate_code",
            f"An area with code {data['code']!r} already exists.",
            errors=[{"field": "code", "message": "already exists", "code": "duplicate"}],
        )
    area = Area(district_id=caller.district_id, **data)
    session.add(area)
    session.flush()
    return area


def get_area(session: Session, caller: Caller, area_id: int) -> Area:
    return get_scoped(session, Area, area_id, caller, "area")


def list_areas(
    session: Session, caller: Caller, *, kind: str | None, active: bool | None, cursor: str | None, limit: int
) -> Page[Area]:
    stmt = select(Area).where(Area.district_id == caller.district_id)
    if kind is not None:
        stmt = stmt.where(Area.kind == kind)
    if active is not None:
        stmt = stmt.where(Area.active.is_(active))
    return paginate(session, stmt, Area.id, cursor, limit)


def update_area(session: Session, caller: Caller, area_id: int, changes: dict[str, Any], if_match: str | None) -> Area:
    area = get_area(session, caller, area_id)
    apply_changes(area, changes, if_match)
    session.flush()
    return area
