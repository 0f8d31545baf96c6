"""Areas (街道/乡): reference data; only admins change them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Problem, field_error, invalid, msg
from app.models import Area
from app.services.crud import apply_changes, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate
from app.services.reference_memo import memo


def _codes(session: Session, district_id: int) -> tuple[dict[str, Area], dict[str, Area]]:
    """The district's areas by exact code and by lowercased code (lowest id wins)."""
    areas = list(session.scalars(select(Area).where(Area.district_id == district_id).order_by(Area.id)))
    folded: dict[str, Area] = {}
    for area in areas:
        folded.setdefault(area.code.lower(), area)
    return {a.code: a for a in areas}, folded


def area_by_code(session: Session, *, district_id: int, code: str, field: str) -> Area:
    """An area code (exact, else any case, as the importer accepts) from a payload or filter.

    Unknown is a 422 naming ``field``.
    """
    code = code.strip()
    exact, folded = memo(session, key=("area_codes", district_id), load=lambda: _codes(session, district_id))
    area = exact.get(code) or folded.get(code.lower())
    if area is None:
        raise invalid(field, msg("unknown_area_code", code=code), "unknown_area")
    return area


def create_area(session: Session, caller: Caller, *, data: dict[str, Any]) -> Area:
    if session.scalar(select(Area.id).where(Area.district_id == caller.district_id, Area.code == data["code"])):
        raise Problem(
            409,
            "duplicate_code",
            msg("duplicate_area_code", code=data["code"]),
            errors=[field_error("code", msg("already_exists"), "duplicate")],
        )
    area = Area(district_id=caller.district_id, **data)
    session.add(area)
    session.flush()
    return area


def get_area(session: Session, caller: Caller, *, area_id: int) -> Area:
    return get_scoped(session, model=Area, obj_id=area_id, caller=caller, what="area")


def list_areas(
    session: Session, caller: Caller, *, kind: str | None, active: bool | None, cursor: str | None, limit: int
) -> Page[Area]:
    stmt = select(Area).where(Area.district_id == caller.district_id)
    if kind is not None:
        stmt = stmt.where(Area.kind == kind)
    if active is not None:
        stmt = stmt.where(Area.active.is_(active))
    return paginate(session, stmt=stmt, id_column=Area.id, cursor=cursor, limit=limit)


def update_area(
    session: Session, caller: Caller, *, area_id: int, changes: dict[str, Any], if_match: str | None
) -> Area:
    area = get_area(session, caller, area_id=area_id)
    apply_changes(area, changes, if_match)
    session.flush()
    return area
