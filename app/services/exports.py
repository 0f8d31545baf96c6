"""Spreadsheet exports of members, demands and assignments (CSV with a UTF-8 BOM, or XLSX).

The member and demand sheets use the column headers and cell forms the importer reads
(``app.services.imports``), so an office can export, edit in Excel and import the file
back: rows are matched by 编号 (external_id), an unedited row is ``unchanged`` and keeps
its version, and an edited cell updates that field only. A key that may not read phone
numbers gets no 电话 column at all (an empty one would clear the phones on re-import).

Exports hold every row the filters select, not a page (at most ``MAX_EXPORT_ROWS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from app.domain.enums import AssignmentStatus, Channel, DemandStatus
from app.errors import Problem, msg
from app.i18n import label, t
from app.models import Demand, Member
from app.services.imports.columns import DEMAND_COLUMNS, MEMBER_COLUMNS, SKILL_COLUMNS
from app.services.imports.values import LOCAL_TZ, NO, WEEKDAY_NAMES, YES
from app.services.pagination import Page
from app.services.reports.table import Table, to_xlsx

#: An export larger than this is refused (413): narrow the filters.
MAX_EXPORT_ROWS = 50_000
_PAGE = 500


def header(columns: tuple, field: str) -> str:
    """The header the importer knows a field by first (its Chinese name)."""
    return next(c.aliases[0] for c in columns if c.field == field)


def all_rows(fetch: Callable[[str | None, int], Page[Any]]) -> Iterator[Any]:
    """Every row of a keyset-paginated listing, page by page."""
    cursor: str | None = None
    seen = 0
    while True:
        page = fetch(cursor, _PAGE)
        seen += len(page.items)
        if seen > MAX_EXPORT_ROWS:
            raise Problem(413, "export_too_large", msg("export_too_large", limit=MAX_EXPORT_ROWS))
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _yes_no(value: bool) -> str:
    return YES if value else NO


def _number(value: float | None) -> Any:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _local(moment: datetime) -> str:
    local = moment.astimezone(LOCAL_TZ)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def _skills(member: Member, kind: str | None) -> str:
    """'法律咨询:3;金融:2' for the skills of one kind (all expertise for 专业特长)."""
    wanted = kind or "expertise"
    items = sorted(member.skills, key=lambda ms: ms.skill_id)
    return ";".join(f"{ms.skill.name}:{ms.level}" for ms in items if ms.skill.category == wanted)


def _slots(member: Member) -> str:
    slots = sorted(member.weekly_slots or [], key=lambda s: (int(s["weekday"]), str(s["start"])))
    return ";".join(f"{WEEKDAY_NAMES[int(s['weekday'])]} {s['start']}-{s['end']}" for s in slots)


def members_table(members: Iterator[Member], *, with_phones: bool) -> Table:
    """The member sheet (委员名册) in the importer's columns; skills split by kind."""
    fields = [c.field for c in MEMBER_COLUMNS if with_phones or c.field not in ("phone", "email")]

    def row(m: Member) -> dict[str, Any]:
        values: dict[str, Any] = {
            "external_id": m.external_id,
            "name": m.name,
            "sector": m.sector,
            "group": m.group.name if m.group else None,
            "home_area": m.home_area.code,
            "work_area": m.work_area.code if m.work_area else None,
            "phone": m.phone,
            "email": getattr(m, "email", None),
            "weekly_cap": m.weekly_cap,
            "accepts_cross_area": _yes_no(m.accepts_cross_area),
            "max_distance_km": _number(m.max_distance_km),
            "blackout_dates": ";".join(sorted(str(d) for d in m.blackout_dates or [])),
            "weekly_slots": _slots(m),
            "active": _yes_no(m.active),
        }
        for name, kind in SKILL_COLUMNS.items():
            values[name] = _skills(m, kind)
        return {header(MEMBER_COLUMNS, f): values.get(f) for f in fields}

    labels = [header(MEMBER_COLUMNS, f) for f in fields]
    return Table(t("export.members.title"), [(x, x) for x in labels], [row(m) for m in members])


def demands_table(demands: Iterator[Demand]) -> Table:
    """The demand sheet (民需台账) in the importer's columns, plus the status (ignored on import)."""
    fields = [c.field for c in DEMAND_COLUMNS]
    status = t("export.demands.status")

    def row(d: Demand) -> dict[str, Any]:
        values = {
            "external_id": d.external_id,
            "community": d.community.name,
            "area": d.area.code,
            "title": d.title,
            "description": d.description,
            "channel": label(Channel(d.channel)),
            "priority": d.priority,
            "required_skills": ";".join(s.name for s in sorted(d.required_skills, key=lambda s: s.id)),
            "min_members": d.min_members,
            "max_members": d.max_members,
            "starts_at": _local(d.starts_at),
            "ends_at": _local(d.ends_at),
            "excluded_members": ";".join(
                sorted(m.external_id for m in d.excluded_members if m.external_id is not None)
            ),
        }
        out = {header(DEMAND_COLUMNS, f): values.get(f) for f in fields}
        out[status] = label(DemandStatus(d.status))
        return out

    labels = [header(DEMAND_COLUMNS, f) for f in fields] + [status]
    return Table(t("export.demands.title"), [(x, x) for x in labels], [row(d) for d in demands])


_ASSIGNMENT_FIELDS = (
    "id",
    "run_id",
    "status",
    "demand_id",
    "demand",
    "area",
    "community",
    "starts_at",
    "member_external_id",
    "member",
    "phone",
    "score",
    "explanation",
    "decline_reason",
)


def assignments_table(views: Iterator[Any], *, with_phones: bool) -> Table:
    """Who serves which need (read-only: assignments are never imported)."""
    fields = [f for f in _ASSIGNMENT_FIELDS if with_phones or f != "phone"]

    def row(v: Any) -> dict[str, Any]:
        a = v.assignment
        values = {
            "id": a.id,
            "run_id": a.run_id,
            "status": label(AssignmentStatus(a.status)),
            "demand_id": a.demand_id,
            "demand": a.demand.title,
            "area": a.demand.area.code,
            "community": a.demand.community.name,
            "starts_at": _local(a.demand.starts_at),
            "member_external_id": a.member.external_id,
            "member": a.member.name,
            "phone": a.member.phone,
            "score": round(a.score, 4) if a.score is not None else None,
            "explanation": a.explanation_text,
            "decline_reason": a.decline_reason,
        }
        return {t(f"export.assignments.{f}"): values[f] for f in fields}

    labels = [t(f"export.assignments.{f}") for f in fields]
    return Table(t("export.assignments.title"), [(x, x) for x in labels], [row(v) for v in views])


def to_csv_bytes(table: Table) -> bytes:
    """CSV with the Chinese headers, UTF-8 with the BOM Excel needs to read it as UTF-8."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.labels)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in (row.get(k) for k in table.keys)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def to_xlsx_bytes(table: Table) -> bytes:
    return to_xlsx(table)
