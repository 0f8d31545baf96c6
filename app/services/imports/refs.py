"""The district's reference data, loaded once per import, for resolving cells.

A file of 10,000 rows must not cost 10,000 lookups per column, so areas,
groups, communities and the skill catalogue are read once into dictionaries.
Spreadsheets name things the way people do: an area by its code (any case) or
its name, a group or community by its name. Whether a deactivated area, group
or community may still be referenced is the member/demand services' rule, not
the importer's (re-importing last year's sheet must not fail on it).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import msg
from app.models import Area, Community, Group, Skill
from app.services.imports.values import CellError
from app.services.skills import normalize_token, token_index


def _key(name: str) -> str:
    return normalize_token(name)


class References:
    def __init__(self, session: Session, district_id: int) -> None:
        areas = list(session.scalars(select(Area).where(Area.district_id == district_id)))
        self.areas_by_id = {a.id: a for a in areas}
        self._areas: dict[str, Area] = {}
        for area in areas:  # a code wins over a name that happens to look like one
            self._areas.setdefault(_key(area.name), area)
        for area in areas:
            self._areas[_key(area.code)] = area
        self._groups = {_key(g.name): g for g in session.scalars(select(Group).where(Group.district_id == district_id))}
        self._communities: dict[str, list[Community]] = defaultdict(list)
        for community in session.scalars(
            select(Community).where(Community.district_id == district_id).order_by(Community.id)
        ):
            self._communities[_key(community.name)].append(community)
        self._skills: dict[str, Skill] = token_index(session, district_id=district_id)

    def area(self, value: str) -> Area:
        area = self._areas.get(_key(value))
        if area is None:
            raise CellError(msg("cell_unknown_area", value=value))
        return area

    def group(self, value: str) -> Group:
        group = self._groups.get(_key(value))
        if group is None:
            raise CellError(msg("cell_unknown_group", value=value))
        return group

    def community(self, value: str, area: Area | None, prefer_area_id: int | None = None) -> Community:
        """A community by name; a name used in several areas needs the area to tell them apart
        (for a liaison key, its own area's community is meant)."""
        candidates = self._communities.get(_key(value), [])
        if area is None and prefer_area_id is not None and len(candidates) > 1:
            candidates = [c for c in candidates if c.area_id == prefer_area_id] or candidates
        if area is not None:
            candidates = [c for c in candidates if c.area_id == area.id]
            if not candidates:
                raise CellError(msg("cell_community_not_in_area", value=value, area=f"{area.code} ({area.name})"))
        if not candidates:
            raise CellError(msg("cell_unknown_community", value=value))
        if len(candidates) > 1:
            where = ", ".join(sorted(self.areas_by_id[c.area_id].code for c in candidates))
            raise CellError(msg("cell_community_ambiguous", value=value, areas=where))
        return candidates[0]

    def skill(self, token: str) -> Skill:
        skill = self._skills.get(normalize_token(token))
        if skill is None:
            raise CellError(msg("cell_unknown_skill", value=token))
        if not skill.active:
            raise CellError(msg("cell_inactive_skill", code=skill.code))
        return skill
