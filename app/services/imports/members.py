"""Member rows (委员名册): one row per member, keyed by 编号/external_id.

A row whose external_id is already stored updates that member (only the fields
whose columns the file has, and only if something differs: an identical row is
``unchanged`` and keeps its version/ETag); a new external_id creates a member.
Within a present column an empty cell means "no value" (cleared, or the
default for fields that have one), so the sheet stays the source of truth for
the columns it carries.

Skills come from three columns, as the catalogue's kinds: 专业特长/技能 (any
skill), 兴趣爱好 (interests) and 资源状况 (resources). A 技能 column replaces all of a
member's skills with those the row names in any of the three; without it, the
兴趣爱好/资源状况 columns replace only the skills of their own kind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Msg, Problem, msg
from app.models import Area, Member, MemberSkill, Skill
from app.models.base import table_of
from app.schemas.members import MemberCreate
from app.services import members as member_service
from app.services.identity import Caller
from app.services.imports.columns import MEMBER_COLUMNS, SKILL_COLUMNS
from app.services.imports.core import ParsedRow, RowCells, RowErrors, RowResult, finish_row
from app.services.imports.refs import References
from app.services.imports.values import (
    CellError,
    parse_bool,
    parse_dates,
    parse_float,
    parse_int,
    parse_name,
    parse_phone,
    parse_skills,
    parse_slots,
    text,
)

DEFAULT_SKILL_LEVEL = 2

#: import field (column) -> MemberCreate field it fills
_FIELD_OF = {"group": "group_id", "interests": "skills", "resources": "skills"}


class MemberImporter:
    kind = "members"
    columns = MEMBER_COLUMNS
    rename = {"group_id": "group"}

    def __init__(self) -> None:
        self.refs: References | None = None
        self.existing: dict[str, int] = {}
        self.seen: dict[str, int] = {}
        self.stored: dict[int, member_service.StoredMember] = {}  # the members this file changes, as stored
        self.changes: dict[int, dict[str, Any]] = {}  # line -> what the row changes in its stored member
        self.new: list[tuple[member_service.NewMember, int]] = []  # checked new members and their lines
        self.updates: list[member_service.MemberUpdate] = []  # checked changes, written by ``finish``
        self._created: list[RowResult] = []
        self.updated: list[int] = []  # lines of the rows whose member changes
        #: line -> skill categories the row's skill columns replace (None: all of them)
        self.replaced_kinds: dict[int, set[str] | None] = {}

    def load(self, session: Session, caller: Caller) -> None:
        self.refs = References(session, caller.district_id)
        rows = session.execute(
            select(Member.external_id, Member.id).where(
                Member.district_id == caller.district_id, Member.external_id.is_not(None)
            )
        ).all()
        self.existing = {ext: mid for ext, mid in rows if ext is not None}

    def prefetch(self, session: Session, rows: list[ParsedRow[MemberCreate]]) -> None:
        """Work out what each row changes from the stored members read as plain rows (an unchanged
        row, the common case of a re-import, costs no more); read the whole stored rows of only the
        members that do change, which ``prepare_member_update`` checks and diffs against."""
        updates = [(r, self.existing[r.external_id]) for r in rows if r.external_id in self.existing]
        fields = set().union(*(row.present for row, _ in updates))
        stored = stored_members(session, [member_id for _, member_id in updates], fields)
        for row, member_id in updates:
            current = stored.get(member_id)
            # A member gone since ``load`` (another transaction): ``prepare_member_update`` reports it on its row.
            self.changes[row.line] = (
                self._changes(row, current) if current else row.payload.model_dump(include=row.present)
            )
        changed = [member_id for row, member_id in updates if self.changes[row.line]]
        self.stored = member_service.stored_member_rows(session, changed)

    def _changes(self, row: ParsedRow[MemberCreate], current: dict[str, Any]) -> dict[str, Any]:
        """The fields of ``row`` that differ from the stored member ``current`` (see ``stored_members``)."""
        wanted = row.payload.model_dump(include=row.present)
        kinds = self.replaced_kinds.get(row.line)
        if "skills" in wanted and kinds is not None:  # keep the stored skills of kinds the file lacks
            wanted["skills"] += [
                {"code": code, "level": level}
                for code, level, category in current["skill_rows"]
                if category not in kinds
            ]
        return {k: v for k, v in wanted.items() if _comparable(k, v) != current.get(k)}

    # -- parsing ------------------------------------------------------------------------------

    def parse(self, cells: RowCells, errors: RowErrors) -> ParsedRow[MemberCreate] | None:
        refs = self.refs
        assert refs is not None
        line = cells.line
        data: dict[str, Any] = {}
        before = len(errors.items)

        def cell(name: str, parse, *, required: bool = False, default: Any = None) -> None:
            if not cells.present(name):
                return
            target = _FIELD_OF.get(name, name)
            raw = cells.get(name)
            if raw is None:
                if required:
                    errors.add(line, name, "required; the cell is empty", "missing")
                else:
                    data[target] = default() if callable(default) else default
                return
            try:
                data[target] = parse(raw)
            except CellError as exc:
                errors.add(line, name, exc.message)

        cell("external_id", text, required=True)
        cell("name", parse_name, required=True)
        cell("sector", text)
        cell("group", lambda v: refs.group(text(v)).id)
        cell("home_area", lambda v: refs.area(text(v)).code, required=True)
        cell("work_area", lambda v: refs.area(text(v)).code)
        cell("phone", parse_phone)
        cell("email", text)
        cell("weekly_cap", parse_int, default=_default("weekly_cap"))
        cell("accepts_cross_area", parse_bool, default=_default("accepts_cross_area"))
        cell("max_distance_km", parse_float)
        self._skill_columns(cells, errors, data)
        cell("blackout_dates", parse_dates, default=list)
        cell("weekly_slots", parse_slots, default=list)
        cell("active", parse_bool, default=True)

        external_id = data.get("external_id")
        if external_id is not None:
            if external_id in self.seen:
                errors.add(
                    line,
                    "external_id",
                    f"duplicate: {external_id!r} is also on row {self.seen[external_id]}",
                    "duplicate",
                )
            else:
                self.seen[external_id] = line
        return finish_row(self, MemberCreate, data, cells, errors, before, external_id, _FIELD_OF)

    def _skill_columns(self, cells: RowCells, errors: RowErrors, data: dict[str, Any]) -> None:
        """Merge the 专业特长/兴趣爱好/资源状况 columns into one ``skills`` list (see the module doc)."""
        present = [name for name in SKILL_COLUMNS if cells.present(name)]
        if not present:
            return
        levels: dict[str, int] = {}
        for name in present:
            raw = cells.get(name)
            if raw is None:
                continue
            try:
                for code, level in self._skills(raw, SKILL_COLUMNS[name]):
                    levels[code] = max(levels.get(code, 0), level)
            except CellError as exc:
                errors.add(cells.line, name, exc.message)
        data["skills"] = [{"code": code, "level": lvl} for code, lvl in levels.items()]
        kinds = {SKILL_COLUMNS[name] for name in present}
        self.replaced_kinds[cells.line] = None if None in kinds else {k for k in kinds if k}

    def _skills(self, value: Any, kind: str | None) -> list[tuple[str, int]]:
        """Skill tokens (code, name or synonym) -> (canonical code, level); a column of one kind
        (兴趣爱好: interest, 资源状况: resource) takes only skills of that kind."""
        assert self.refs is not None
        found: list[tuple[str, int]] = []
        unknown: list[Msg] = []
        for token, level in parse_skills(value):
            try:
                skill = self.refs.skill(token)
            except CellError as exc:
                unknown.append(exc.message)
                continue
            if kind is not None and skill.category != kind:
                unknown.append(msg("cell_skill_kind", value=token, found=str(skill.category), wanted=str(kind)))
                continue
            found.append((skill.code, level or DEFAULT_SKILL_LEVEL))
        if unknown:
            raise CellError(msg("literal", text=unknown))
        return found

    # -- writing ------------------------------------------------------------------------------

    def apply(self, session: Session, caller: Caller, row: ParsedRow[MemberCreate]) -> RowResult:
        """Rows are checked here (``prepare_member`` / ``prepare_member_update``: every check of
        ``create_member`` / ``update_member``) and written together by ``finish``."""
        member_id = self.existing.get(row.external_id or "")
        if member_id is None:
            self.new.append((member_service.prepare_member(session, caller, payload=row.payload), row.line))
            result = RowResult(row.line, row.external_id, "created")
            self._created.append(result)
            return result
        changes = self.changes[row.line]
        if not changes:
            return RowResult(row.line, row.external_id, "unchanged", member_id)
        stored = self.stored.get(member_id)
        self.updates.append(
            member_service.prepare_member_update(session, caller, member_id=member_id, stored=stored, changes=changes)
        )
        self.updated.append(row.line)
        return RowResult(row.line, row.external_id, "updated", member_id)

    def finish(self, session: Session, caller: Caller, errors: RowErrors) -> None:
        """Write the updates together (``update_members``: what one flush of ``update_member``'s
        changes wrote), then store the new members together (``insert_members``). A member changed
        since the file was checked is reported on the first updated row, as that flush's failure
        was; a clash with a member stored meanwhile (a concurrent import) on the rows it hits."""
        try:
            member_service.update_members(session, caller, updates=self.updates)
        except (IntegrityError, StaleDataError):
            session.rollback()
            errors.add(min(self.updated, default=1), "row", msg("import_row_conflict"), "conflict")
            return
        if not self.new:
            return
        try:
            ids = member_service.insert_members(session, caller, members=[m for m, _ in self.new])
        except (IntegrityError, Problem):
            session.rollback()
            self._report_clashes(session, caller, errors)
            return
        for result, member_id in zip(self._created, ids, strict=True):
            result.id = member_id

    def _report_clashes(self, session: Session, caller: Caller, errors: RowErrors) -> None:
        line_of = {m.columns.get("external_id"): line for m, line in self.new}
        taken = session.scalars(
            select(Member.external_id).where(
                Member.district_id == caller.district_id, Member.external_id.in_([k for k in line_of if k])
            )
        ).all()
        for line in sorted(line_of[k] for k in taken) or [self.new[0][1]]:
            errors.add(line, "row", msg("import_row_conflict"), "conflict")


def _default(name: str):
    info = MemberCreate.model_fields[name]
    return lambda: info.get_default(call_default_factory=True)


def stored_members(session: Session, ids: list[int], fields: set[str]) -> dict[int, dict[str, Any]]:
    """Stored members by id in the comparable shape of ``_comparable`` (what a row would say), read
    as plain Core rows in a few IN queries, and only the ``fields`` a file's columns can change
    (a file without a 每周时段 column does not decode anyone's slots); ``skill_rows`` holds
    (code, level, category) of each skill."""
    m = table_of(Member).c
    areas = table_of(Area)
    home, work = areas.alias("home"), areas.alias("work")
    plain = [m[name] for name in _PLAIN_STORED if name in fields]
    columns: list[Any] = [m.id, *plain]
    source: Any = table_of(Member)
    if "home_area" in fields:
        columns.append(home.c.code.label("home_area"))
        source = source.join(home, home.c.id == m.home_area_id)
    if "work_area" in fields:
        columns.append(work.c.code.label("work_area"))
        source = source.outerjoin(work, work.c.id == m.work_area_id)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in session.execute(select(*columns).select_from(source).where(m.id.in_(chunk))):
            stored = row._asdict()
            if "blackout_dates" in stored:
                stored["blackout_dates"] = sorted(str(d) for d in stored["blackout_dates"] or [])
            if "weekly_slots" in stored:
                stored["weekly_slots"] = sorted(
                    (int(s["weekday"]), str(s["start"]), str(s["end"])) for s in stored["weekly_slots"] or []
                )
            found[row.id] = {**stored, "skill_rows": []}
        if "skills" in fields:
            ms, skill = table_of(MemberSkill).c, table_of(Skill)
            for member_id, code, level, category in session.execute(
                select(ms.member_id, skill.c.code, ms.level, skill.c.category)
                .join_from(table_of(MemberSkill), skill, skill.c.id == ms.skill_id)
                .where(ms.member_id.in_(chunk))
            ):
                found[member_id]["skill_rows"].append((code, level, category))
    for member in found.values():
        member["skills"] = sorted((code, level) for code, level, _ in member["skill_rows"])
    return found


#: Row fields stored in a ``members`` column of the same name.
_PLAIN_STORED = (
    "external_id",
    "name",
    "sector",
    "group_id",
    "phone",
    "email",
    "weekly_cap",
    "accepts_cross_area",
    "max_distance_km",
    "blackout_dates",
    "weekly_slots",
    "active",
)
_CHUNK = 500  # ids per IN (...) query


def _comparable(field: str, value: Any) -> Any:
    if field == "skills":
        return sorted((s["code"], s["level"]) for s in value)
    if field == "blackout_dates":
        return sorted(d.isoformat() if hasattr(d, "isoformat") else str(d) for d in value)
    if field == "weekly_slots":
        return sorted((int(s["weekday"]), str(s["start"]), str(s["end"])) for s in value)
    if field == "max_distance_km" and value is not None:
        return float(value)
    return value
