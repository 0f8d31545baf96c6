"""Working groups (小组) and the areas each is paired with (结对).

The pairing feeds the solver's home-area preference, so every paired area must
belong to the group's district; create and PATCH replace the whole list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Problem, field_error, invalid, msg
from app.models import Area, Group
from app.models.base import utcnow
from app.services.crud import apply_changes, check_if_match, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate


def resolve_area_ids(session: Session, *, district_id: int, area_ids: list[int], field: str) -> list[Area]:
    """Areas for a list of ids, in order, without duplicates; any foreign/unknown id is a 422."""
    wanted = list(dict.fromkeys(area_ids))
    found = (
        {a.id: a for a in session.scalars(select(Area).where(Area.district_id == district_id, Area.id.in_(wanted)))}
        if wanted
        else {}
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise Problem(
            422,
            "validation_error",
            msg("field_invalid", field=field, message=msg("unknown_area_id", id=missing)),
            errors=[field_error(field, msg("unknown_area_id", id=i), "unknown_area") for i in missing],
        )
    return [found[i] for i in wanted]


def group_in_district(session: Session, *, district_id: int, group_id: int, field: str) -> Group:
    group = session.get(Group, group_id)
    if group is None or group.district_id != district_id:
        raise invalid(field, msg("unknown_group_id", id=group_id), "unknown_group")
    return group


def _check_name_free(session: Session, district_id: int, name: str, exclude_id: int | None) -> None:
    stmt = select(Group.id).where(Group.district_id == district_id, Group.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Group.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Problem(
            409,
            "duplicate_name",
            msg("duplicate_group_name", name=name),
            errors=[field_error("name", msg("already_exists"), "duplicate")],
        )


def create_group(session: Session, caller: Caller, *, data: dict[str, Any]) -> Group:
    areas = resolve_area_ids(
        session, district_id=caller.district_id, area_ids=data.get("area_ids") or [], field="area_ids"
    )
    _check_name_free(session, caller.district_id, data["name"], None)
    group = Group(district_id=caller.district_id, name=data["name"])
    group.areas = areas
    session.add(group)
    session.flush()
    return group


def get_group(session: Session, caller: Caller, *, group_id: int) -> Group:
    return get_scoped(session, model=Group, obj_id=group_id, caller=caller, what="group")


def list_groups(
    session: Session, caller: Caller, *, active: bool | None, cursor: str | None, limit: int
) -> Page[Group]:
    stmt = select(Group).where(Group.district_id == caller.district_id)
    if active is not None:
        stmt = stmt.where(Group.active.is_(active))
    return paginate(session, stmt=stmt, id_column=Group.id, cursor=cursor, limit=limit)


def update_group(
    session: Session, caller: Caller, *, group_id: int, changes: dict[str, Any], if_match: str | None
) -> Group:
    group = get_group(session, caller, group_id=group_id)
    check_if_match(if_match, group.version)
    changes = dict(changes)
    areas = None
    if "area_ids" in changes:
        ids = changes.pop("area_ids")
        if ids is None:
            raise invalid("area_ids", msg("area_ids_not_null"))
        areas = resolve_area_ids(session, district_id=caller.district_id, area_ids=ids, field="area_ids")
    if changes.get("name") is not None:
        _check_name_free(session, caller.district_id, changes["name"], group.id)
    apply_changes(group, changes, None)
    if areas is not None:
        group.areas = areas
        group.updated_at = utcnow()  # a pairing-only change must still bump the version (ETag)
    session.flush()
    return group
