"""Small building blocks every resource service uses: scoped fetch, ETag-checked
patch, soft deactivation. One place for these rules so resources cannot drift."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from app.domain.enums import Role
from app.errors import Problem, invalid, msg, not_found
from app.models.base import DistrictOwned
from app.services.identity import Caller
from app.services.pagination import SelectT

M = TypeVar("M", bound=DistrictOwned)


class _InDistrict(Protocol):
    """An ORM object or a row that names its district."""

    @property
    def district_id(self) -> int: ...


T = TypeVar("T", bound=_InDistrict)


def etag_for(version: int) -> str:
    return f'"v{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """A stale ETag means someone changed the object since the caller read it.

    If-Match uses the strong comparison (RFC 9110 13.1.1): a weak tag (``W/"v3"``) never
    matches, so it is a 412 like a stale one. ``None`` is for internal callers (the importer,
    the optional header of POST actions); the API requires the header on PATCH and DELETE.
    """
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags:
        return
    current = etag_for(version)
    if current not in tags:
        weak = any(t.startswith("W/") for t in tags)
        name = "precondition_failed_weak" if weak else "precondition_failed"
        raise Problem(412, "precondition_failed", msg(name, if_match=if_match, current=current))


def get_scoped(
    session: Session,
    *,
    model: type[M],
    obj_id: int,
    caller: Caller,
    what: str,
    area_attr: str | None = None,
    options: Sequence[ORMOption] = (),
) -> M:
    """Fetch by id within the caller's district (and area, for liaisons).

    Objects the caller may not see are reported as missing, never as forbidden,
    so a key cannot probe for another district's or area's data.
    """
    return scoped_row(
        session.get(model, obj_id, options=options), caller=caller, what=what, obj_id=obj_id, area_attr=area_attr
    )


def scoped_row(found: T | None, *, caller: Caller, what: str, obj_id: int, area_attr: str | None = None) -> T:
    """``get_scoped``'s rule for what a fetch by id found (an ORM object or a row carrying
    ``district_id`` and ``area_attr``): 404 unless the caller may see it."""
    if found is None or found.district_id != caller.district_id:
        raise not_found(what, obj_id)
    if area_attr is not None and not caller.sees_area(getattr(found, area_attr)):
        raise not_found(what, obj_id)
    return found


def in_scope(stmt: SelectT, caller: Caller, *, district: Any, area: Any | None = None) -> SelectT:
    """``stmt`` narrowed to what the caller may see: its district's rows and, for a liaison, its
    own area's (``area``: the column, for area-scoped resources) -- the query form of ``scoped_row``."""
    stmt = stmt.where(district == caller.district_id)
    if area is not None and caller.role == Role.LIAISON:
        stmt = stmt.where(area == caller.area_id)
    return stmt


def apply_changes(obj: Any, changes: dict[str, Any], if_match: str | None) -> None:
    """Set fields after the If-Match check; an explicit null on a required column is a 422."""
    check_if_match(if_match, obj.version)
    columns = sa_inspect(type(obj)).columns
    for field, value in changes.items():
        if value is None and field in columns and not columns[field].nullable:
            raise invalid(field, msg("not_null"))
        setattr(obj, field, value)
