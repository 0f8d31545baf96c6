"""Demand rows (民需台账): one row per need raised in a community.

A row with an 编号/external_id that is already stored updates that demand (only
the columns the file has, and only if something differs); a row without one
always creates a new demand, so re-importing such a file duplicates it; give
demands an external_id to make re-imports safe.

Liaison keys may import demands of their own area only: a row whose community
lies in another area (or that would update another area's demand) is a bad row
and rejects the file, like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.times import from_storage, localize
from app.errors import Msg, msg
from app.models import Demand, Member
from app.schemas.demands import DemandCreate
from app.services import demands as demand_service
from app.services.identity import Caller
from app.services.imports.columns import DEMAND_COLUMNS
from app.services.imports.core import ParsedRow, RowCells, RowErrors, RowResult, finish_row, load_by_ids
from app.services.imports.refs import References
from app.services.imports.values import CellError, parse_datetime, parse_int, split_list, text

#: What offices write in the 渠道 column -> channel code (codes themselves are accepted too).
CHANNEL_LABELS = {
    "民情联络站": "liaison_station",
    "联络站": "liaison_station",
    "民需收集库": "needs_collection",
    "民需收集": "needs_collection",
    "需求收集": "needs_collection",
    "民众接待日": "reception_day",
    "接待日": "reception_day",
    "委员接待日": "reception_day",
    "民意信箱": "mailbox",
    "信箱": "mailbox",
    "意见箱": "mailbox",
    "委员论坛": "wechat_forum",
    "微信论坛": "wechat_forum",
    "微信": "wechat_forum",
    "微信委员论坛": "wechat_forum",
    "民情助理": "civic_assistant",
    "议事会": "council_meeting",
    "社区议事会": "council_meeting",
    "议事协商会": "council_meeting",
    "其他": "other",
    "其它": "other",
}
CHANNELS = (
    "liaison_station",
    "needs_collection",
    "reception_day",
    "mailbox",
    "wechat_forum",
    "civic_assistant",
    "council_meeting",
    "other",
)

#: import field (column) -> DemandCreate field it fills
_FIELD_OF = {"community": "community_id", "excluded_members": "excluded_member_ids"}


def parse_channel(value: Any) -> str:
    token = text(value)
    code = token.lower().replace(" ", "_").replace("-", "_")
    if code in CHANNELS:
        return code
    if token in CHANNEL_LABELS:
        return CHANNEL_LABELS[token]
    raise CellError(msg("cell_unknown_channel", value=token, codes=", ".join(CHANNELS)))


_PLAIN_FIELDS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("title", text),
    ("description", text),
    ("channel", parse_channel),
    ("priority", parse_int),
    ("min_members", parse_int),
    ("max_members", parse_int),
    ("starts_at", parse_datetime),
    ("ends_at", parse_datetime),
)
_REQUIRED = ("title", "starts_at", "ends_at")


def _plain_fields(cells: RowCells, read: Callable[..., Any]) -> dict[str, Any]:
    """The columns that map one cell to one field; a blank description clears it, other blanks are absent."""
    data: dict[str, Any] = {}
    for name, parse in _PLAIN_FIELDS:
        if cells.present(name):
            value = read(name, parse, required=name in _REQUIRED)
            if value is not None or name == "description":
                data[name] = value
    return data


class DemandImporter:
    kind = "demands"
    columns = DEMAND_COLUMNS
    rename = {v: k for k, v in _FIELD_OF.items()}

    def __init__(self) -> None:
        self.refs: References | None = None
        self.caller: Caller | None = None
        self.existing: dict[str, tuple[int, int]] = {}  # external_id -> (demand id, area id)
        self.members: dict[str, int] = {}  # member external_id -> id
        self.seen: dict[str, int] = {}
        self._loaded: list = []  # stored rows this file updates, kept alive in the identity map

    def load(self, session: Session, caller: Caller) -> None:
        self.caller = caller
        self.refs = References(session, caller.district_id)
        rows = session.execute(
            select(Demand.external_id, Demand.id, Demand.area_id).where(
                Demand.district_id == caller.district_id, Demand.external_id.is_not(None)
            )
        ).all()
        self.existing = {ext: (did, aid) for ext, did, aid in rows if ext is not None}
        members = session.execute(
            select(Member.external_id, Member.id).where(
                Member.district_id == caller.district_id, Member.external_id.is_not(None)
            )
        ).all()
        self.members = {ext: mid for ext, mid in members if ext is not None}

    def prefetch(self, session: Session, rows: list[ParsedRow[DemandCreate]]) -> None:
        ids = [i for i in ((self.existing.get(r.external_id or "") or (None,))[0] for r in rows) if i is not None]
        self._loaded = load_by_ids(session, model=Demand, ids=ids)

    # -- parsing ------------------------------------------------------------------------------

    def parse(self, cells: RowCells, errors: RowErrors) -> ParsedRow[DemandCreate] | None:
        refs, caller = self.refs, self.caller
        assert refs is not None and caller is not None
        line = cells.line
        before = len(errors.items)
        data: dict[str, Any] = {}

        def read(name: str, parse, *, required: bool = False) -> Any:
            raw = cells.get(name)
            if raw is None:
                if required:
                    errors.add(line, name, "required; the cell is empty", "missing")
                return None
            try:
                return parse(raw)
            except CellError as exc:
                errors.add(line, name, exc.message)
                return None

        external_id = read("external_id", text)
        area = read("area", lambda v: refs.area(text(v)))
        community = None
        if not (cells.present("area") and cells.get("area") is not None and area is None):
            community = read("community", lambda v: refs.community(text(v), area, caller.area_id), required=True)
        if community is not None:
            data["community_id"] = community.id
            if area is not None:
                data["area"] = area.code
            if not caller.sees_area(community.area_id):
                errors.add(
                    line,
                    "area" if area is not None else "community",
                    f"community {community.name!r} is in area {refs.areas_by_id[community.area_id].code}; "
                    "this liaison key may import demands of its own area only",
                    "outside_area",
                )
        data.update(_plain_fields(cells, read))
        if cells.present("required_skills"):
            data["required_skills"] = read("required_skills", self._skills) or []
        if cells.present("excluded_members"):
            data["excluded_member_ids"] = read("excluded_members", self._members) or []
        if data.get("max_members") is None:  # blank seats = min_members (the schema's documented default)
            data["max_members"] = data.get("min_members", 1)
        self._check_bounds(line, data, errors)
        if external_id is not None:
            data["external_id"] = external_id
            self._check_external_id(line, external_id, caller, errors)
        # the area column only helps find the community; the demand's area follows the community
        return finish_row(self, DemandCreate, data, cells, errors, before, external_id, _FIELD_OF, ignore=("area",))

    def _check_external_id(self, line: int, external_id: str, caller: Caller, errors: RowErrors) -> None:
        """Once per file, and only a demand of the caller's own area may be updated."""
        if external_id in self.seen:
            errors.add(
                line,
                "external_id",
                f"duplicate: {external_id!r} is also on row {self.seen[external_id]}",
                "duplicate",
            )
            return
        self.seen[external_id] = line
        stored = self.existing.get(external_id)
        if stored is not None and not caller.sees_area(stored[1]):
            errors.add(
                line,
                "external_id",
                f"{external_id!r} is a demand of another area; "
                "this liaison key may change demands of its own area only",
                "outside_area",
            )

    @staticmethod
    def _check_bounds(line: int, data: dict[str, Any], errors: RowErrors) -> None:
        lo, hi = data.get("min_members"), data.get("max_members")
        if lo is not None and hi is not None and lo > hi:
            errors.add(line, "min_members", f"{lo} is more than max_members ({hi})", "min_exceeds_max")
        start, end = data.get("starts_at"), data.get("ends_at")
        if start is not None and end is not None and end <= start:
            errors.add(line, "ends_at", "must be after starts_at", "window_order")

    def _skills(self, value: Any) -> list[str]:
        assert self.refs is not None
        codes: list[str] = []
        unknown: list[Msg] = []
        for token in split_list(value):
            try:
                code = self.refs.skill(token.replace("：", ":").split(":")[0].strip()).code
            except CellError as exc:
                unknown.append(exc.message)
                continue
            if code not in codes:
                codes.append(code)
        if unknown:
            raise CellError(msg("literal", text=unknown))
        return codes

    def _members(self, value: Any) -> list[int]:
        ids: list[int] = []
        unknown = []
        for token in split_list(value):
            member_id = self.members.get(token)
            if member_id is None:
                unknown.append(token)
            elif member_id not in ids:
                ids.append(member_id)
        if unknown:
            raise CellError(msg("cell_unknown_members", ids=", ".join(map(repr, unknown))))
        return ids

    # -- writing ------------------------------------------------------------------------------

    def finish(self, session: Session, caller: Caller, errors: RowErrors) -> None:
        """Nothing left to write: every demand row is stored by ``apply``."""

    def apply(self, session: Session, caller: Caller, row: ParsedRow[DemandCreate]) -> RowResult:
        stored = self.existing.get(row.external_id or "")
        if stored is None:
            demand = demand_service.create_demand(session, caller, payload=row.payload)
            return RowResult(row.line, row.external_id, "created", demand.id)
        demand = demand_service.get_demand(session, caller, demand_id=stored[0])
        wanted = row.payload.model_dump(include=row.present)
        current = snapshot(demand)
        changes = {k: v for k, v in wanted.items() if _comparable(k, v) != current.get(k)}
        if not changes:
            return RowResult(row.line, row.external_id, "unchanged", demand.id)
        demand_service.update_demand(session, caller, demand_id=demand.id, changes=changes, if_match=None)
        return RowResult(row.line, row.external_id, "updated", demand.id)


def snapshot(demand: Demand) -> dict[str, Any]:
    """A stored demand in the comparable shape of ``_comparable``."""
    return {
        "external_id": demand.external_id,
        "community_id": demand.community_id,
        "title": demand.title,
        "description": demand.description,
        "channel": demand.channel,
        "priority": demand.priority,
        "required_skills": sorted(s.code for s in demand.required_skills),
        "min_members": demand.min_members,
        "max_members": demand.max_members,
        "starts_at": from_storage(demand.starts_at),
        "ends_at": from_storage(demand.ends_at),
        "excluded_member_ids": sorted(m.id for m in demand.excluded_members),
    }


def _comparable(field: str, value: Any) -> Any:
    if field in ("required_skills", "excluded_member_ids"):
        return sorted(value)
    if field in ("starts_at", "ends_at"):
        return localize(value)
    return value
