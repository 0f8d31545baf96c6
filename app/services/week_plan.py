"""The plan of one ISO week as the office reads it: who goes where, grouped by day, area or member;
the same rows for the XLSX/CSV export and the print page.

A liaison sees only assignments of its own area (as in the API). Times are Beijing time.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus, ResponseMethod
from app.i18n import label, t
from app.i18n.format import LOCAL_TZ, format_date, format_datetime, to_local
from app.models import Assignment, Demand
from app.services.assignments import explanation_text
from app.services.identity import Caller
from app.services.reports.table import Table, to_xlsx
from app.services.runs.service import Window, parse_week

# What the plan page shows: the current plan, and declines (with their reason) beside it.
PLAN_STATUSES = (
    AssignmentStatus.PUBLISHED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.COMPLETED,
    AssignmentStatus.DECLINED,
)
GROUPINGS = ("day", "area", "member")


def utc_bounds(window: Window) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of the window in Beijing time, as UTC instants."""
    start = datetime.combine(window.start, time(0), LOCAL_TZ).astimezone(UTC)
    end = datetime.combine(window.end + timedelta(days=1), time(0), LOCAL_TZ).astimezone(UTC)
    return start, end


@dataclass
class PlanRow:
    assignment_id: int
    status: str
    version: int
    member_id: int
    member_name: str
    member_area: str
    demand_id: int
    demand_title: str
    community: str
    area_code: str
    area_name: str
    starts_at: datetime
    ends_at: datetime
    cross_area: bool
    distance_km: float | None
    explanation: str | None
    decline_reason: str | None
    response_method: str | None
    outcome: str | None
    satisfaction: int | None

    @property
    def day(self) -> date:
        return to_local(self.starts_at).date()

    @property
    def place(self) -> str:
        return f"{self.area_name} {self.community}"


@dataclass
class WeekPlan:
    window: Window
    rows: list[PlanRow]

    def grouped(self, by: str) -> list[tuple[str, list[PlanRow]]]:
        """Rows in groups (day, area or member), groups and rows in a stable order."""
        keyed: dict[Any, list[PlanRow]] = defaultdict(list)
        names: dict[Any, str] = {}
        key: Any
        for row in self.rows:
            if by == "area":
                key, name = row.area_code, row.area_name
            elif by == "member":
                key, name = (row.member_name, row.member_id), row.member_name
            else:
                key, name = row.day, format_date(row.day)
            keyed[key].append(row)
            names[key] = name
        return [(names[k], keyed[k]) for k in sorted(keyed)]


def _distance(explanation: dict | None) -> float | None:
    km = (explanation or {}).get("distance_km")
    return float(km) if isinstance(km, (int, float)) and not isinstance(km, bool) else None


def week_plan(session: Session, caller: Caller, *, week: str, area: str | None = None) -> WeekPlan:
    """Assignments of demands starting in ``week`` (published, accepted, completed, declined)."""
    window = parse_week(week)
    start, end = utc_bounds(window)
    stmt = (
        select(Assignment)
        .join(Demand, Demand.id == Assignment.demand_id)
        .where(
            Assignment.district_id == caller.district_id,
            Assignment.status.in_([s.value for s in PLAN_STATUSES]),
            Demand.starts_at >= start,
            Demand.starts_at < end,
        )
        .order_by(Demand.starts_at, Assignment.id)
    )
    if caller.role == "liaison":
        stmt = stmt.where(Assignment.area_id == caller.area_id)
    rows = []
    for a in session.scalars(stmt).unique():
        d, m = a.demand, a.member
        if area and d.area.code != area:
            continue
        rows.append(
            PlanRow(
                assignment_id=a.id,
                status=a.status,
                version=a.version,
                member_id=m.id,
                member_name=m.name,
                member_area=m.home_area.name,
                demand_id=d.id,
                demand_title=d.title,
                community=d.community.name,
                area_code=d.area.code,
                area_name=d.area.name,
                starts_at=d.starts_at,
                ends_at=d.ends_at,
                cross_area=m.home_area_id != d.area_id,
                distance_km=_distance(a.explanation),
                explanation=a.explanation_text or explanation_text(a.explanation),
                decline_reason=a.decline_reason,
                response_method=a.response_method,
                outcome=a.outcome,
                satisfaction=a.satisfaction,
            )
        )
    return WeekPlan(window=window, rows=rows)


def plan_table(plan: WeekPlan) -> Table:
    """The export's one sheet: a row per assignment, Chinese column names from the catalogue."""
    keys = (
        "assignment_id", "status", "member", "demand", "community", "area", "starts_at", "ends_at",
        "place", "distance_km", "explanation", "decline_reason", "response_method", "outcome",
    )  # fmt: skip
    table = Table(
        title=t("console.plan.export_title", week=plan.window.week or ""),
        columns=[(k, t(f"console.plan.col.{k}")) for k in keys],
    )
    for r in plan.rows:
        table.rows.append(
            {
                "assignment_id": r.assignment_id,
                "status": label(AssignmentStatus(r.status)),
                "member": r.member_name,
                "demand": r.demand_title,
                "community": r.community,
                "area": r.area_name,
                "starts_at": format_datetime(r.starts_at),
                "ends_at": format_datetime(r.ends_at),
                "place": r.place,
                "distance_km": r.distance_km if r.cross_area else None,
                "explanation": r.explanation,
                "decline_reason": r.decline_reason,
                "response_method": label(ResponseMethod(r.response_method)) if r.response_method else None,
                "outcome": r.outcome,
            }
        )
    return table


def plan_xlsx(plan: WeekPlan) -> bytes:
    return to_xlsx(plan_table(plan))


def plan_csv(plan: WeekPlan) -> bytes:
    """UTF-8 with a byte-order mark and Chinese headers, so Excel on Chinese Windows opens it as is."""
    table = plan_table(plan)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.labels)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in table.values(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
