"""Communities (社区): reference data inside an area; only admins change them.

A community never moves between areas (demands keep a copy of their area for
scoping), so ``area_id`` is fixed at creation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Problem, field_error, invalid, msg
from app.models import Area, Community
from app.services.areas import area_by_code
from app.services.crud import apply_changes, check_if_match, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate


def area_in_district(session: Session, *, district_id: int, area_id: int, field: str) -> Area:
    """An area id from a payload: unknown or another district's is a 422 naming ``field``."""
    area = session.get(Area, area_id)
    if area is None or area.district_id != district_id:
        raise invalid(field, msg("unknown_area_id", id=area_id), "unknown_area")
    return area


def _check_name_free(session: Session, area_id: int, name: str, exclude_id: int | None) -> None:
    stmt = select(Community.id).where(Community.area_id == area_id, Community.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Community.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Problem(
            409,
            "duplicate_name",
            msg("duplicate_community_name", name=name),
            errors=[field_error("name", msg("already_exists_in_area"), "duplicate")],
        )


def create_community(session: Session, caller: Caller, *, data: dict[str, Any]) -> Community:
    area = area_in_district(session, district_id=caller.district_id, area_id=data["area_id"], field="area_id")
    _check_name_free(session, area.id, data["name"], None)
    community = Community(district_id=caller.district_id, area=area, name=data["name"])
    session.add(community)
    session.flush()
    return community


def get_community(session: Session, caller: Caller, *, community_id: int) -> Community:
    return get_scoped(session, model=Community, obj_id=community_id, caller=caller, what="community")


def list_communities(
    session: Session, caller: Caller, *, area: str | None, active: bool | None, cursor: str | None, limit: int
) -> Page[Community]:
    stmt = select(Community).where(Community.district_id == caller.district_id)
    if area is not None:
        stmt = stmt.where(
            Community.area_id == area_by_code(session, district_id=caller.district_id, code=area, field="area").id
        )
    if active is not None:
        stmt = stmt.where(Community.active.is_(active))
    return paginate(session, stmt=stmt, id_column=Community.id, cursor=cursor, limit=limit)


def update_community(
    session: Session, caller: Caller, *, community_id: int, changes: dict[str, Any], if_match: str | None
) -> Community:
    community = get_community(session, caller, community_id=community_id)
    check_if_match(if_match, community.version)
    if changes.get("name") is not None:
        _check_name_free(session, community.area_id, changes["name"], community.id)
    apply_changes(community, changes, None)
    session.flush()
    return community
