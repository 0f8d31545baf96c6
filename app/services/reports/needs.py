"""Needs (民需) raised in a period: covered or not, why not, how fast, how well.

Definitions (the numbers staff will quote, so they are fixed here):
- A demand belongs to the period its date (``starts_at``) falls in, ``from``..``to`` inclusive
  (Beijing days, like every date staff see), so November's report shows November's needs however early they were registered.
  Cancelled demands are left out.
- Covered: at least ``min_members`` live assignments (published, accepted or completed);
  proposals of unpublished runs and declined ones do not count. Everything else is unmet.
- Unmet cause: from the UnmetDemand rows of the latest *published* run that left the demand
  unmet; failing that, the latest run that did; ``not_planned`` if no run has looked at it.
- Days to assignment: demand registered (``created_at``) -> first member acceptance.
  Days to completion: registered -> last completed assignment. Medians over demands.
- Response methods and satisfaction: over completed assignments.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus, DemandStatus, Role
from app.domain.times import LOCAL_TZ
from app.errors import invalid, msg
from app.models import Area, Assignment, Demand, Member, MemberSkill, OptimizationRun, Skill, UnmetDemand
from app.services.assignments import LIVE_STATUSES
from app.services.identity import Caller
from app.services.reports.table import Table

NOT_PLANNED = "not_planned"
CAUSES = (
    "no_skill_holder",
    "only_conflicted_or_declined",
    "cross_area_blocked",
    "holders_unavailable",
    "holders_at_capacity",
    NOT_PLANNED,
)
CAUSE_LABELS = {
    "no_skill_holder": "无人具备所需技能",
    "only_conflicted_or_declined": "利益冲突或已婉拒",
    "cross_area_blocked": "跨片受限",
    "holders_unavailable": "时段不可用",
    "holders_at_capacity": "委员任务已满",
    NOT_PLANNED: "尚未进入匹配",
}
NO_SKILL_KEY = "(none)"


@dataclass
class DemandFacts:
    """Everything the needs reports know about one demand in the period."""

    id: int
    title: str
    area_id: int
    skill_codes: list[str]
    covered: bool
    cause: str | None
    cause_text: str | None
    days_to_assignment: float | None
    days_to_completion: float | None
    methods: list[str]
    satisfaction: list[int]


@dataclass
class NeedsRow:
    key: str  # area code or skill code
    name: str
    raised: int
    covered: int
    unmet: int
    causes: dict[str, int]
    median_days_to_assignment: float | None
    median_days_to_completion: float | None
    response_methods: dict[str, int]
    mean_satisfaction: float | None


@dataclass
class NeedsReport:
    date_from: date
    date_to: date
    by: str
    rows: list[NeedsRow] = field(default_factory=list)
    total: NeedsRow | None = None
    unmet_demands: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> Table:
        label = "片区" if self.by == "area" else "技能"
        cols = [
            ("key", "代码"),
            ("name", label),
            ("raised", "需求数"),
            ("covered", "已满足"),
            ("unmet", "未满足"),
            *[(f"unmet_{c}", "未满足：" + CAUSE_LABELS[c]) for c in CAUSES],
            ("median_days_to_assignment", "到安排天数中位数"),
            ("median_days_to_completion", "到完成天数中位数"),
            ("response_methods", "回复方式"),
            ("mean_satisfaction", "平均满意度"),
        ]
        rows = []
        for r in self.rows + ([self.total] if self.total else []):
            d = {
                k: getattr(r, k)
                for k in (
                    "key",
                    "name",
                    "raised",
                    "covered",
                    "unmet",
                    "median_days_to_assignment",
                    "median_days_to_completion",
                    "response_methods",
                    "mean_satisfaction",
                )
            }
            d.update({f"unmet_{c}": r.causes.get(c, 0) for c in CAUSES})
            rows.append(d)
        return Table(f"民需报表（按{label}）", cols, rows)


@dataclass
class SkillGapRow:
    code: str
    name: str
    required: int  # demands in the period requiring the skill
    unmet: int  # ... of which unmet
    holders: int  # active members holding it (district-wide: a recruiting signal)


@dataclass
class SkillGapReport:
    date_from: date
    date_to: date
    rows: list[SkillGapRow] = field(default_factory=list)

    def table(self) -> Table:
        cols = [
            ("code", "技能代码"),
            ("name", "技能"),
            ("required", "需求数"),
            ("unmet", "未满足需求数"),
            ("holders", "具备该技能的委员数"),
        ]
        return Table("技能缺口", cols, [vars(r) for r in self.rows])


def period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """Default: the current calendar year."""
    today = date.today()
    date_from = date_from or date(today.year, 1, 1)
    date_to = date_to or date(date_from.year, 12, 31)
    if date_to < date_from:
        raise invalid("to", msg("to_before_from"))
    if (date_to - date_from).days > 3 * 366:
        raise invalid("to", msg("report_span"))
    return date_from, date_to


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    if (start.tzinfo is None) != (end.tzinfo is None):  # SQLite drops the offset; all stored values are UTC
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return round((end - start).total_seconds() / 86400, 4)


def demand_facts(session: Session, caller: Caller, *, date_from: date, date_to: date) -> list[DemandFacts]:
    lo = datetime.combine(date_from, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)
    hi = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=LOCAL_TZ).astimezone(UTC)
    stmt = (
        select(Demand)
        .where(
            Demand.district_id == caller.district_id,
            Demand.starts_at >= lo,
            Demand.starts_at < hi,
            Demand.status != DemandStatus.CANCELLED,
        )
        .order_by(Demand.id)
    )
    if caller.role == Role.LIAISON:
        stmt = stmt.where(Demand.area_id == caller.area_id)
    demands = list(session.scalars(stmt))
    ids = [d.id for d in demands]
    if not ids:
        return []
    assignments: dict[int, list[Assignment]] = defaultdict(list)
    for chunk in _chunks(ids):
        for a in session.scalars(select(Assignment).where(Assignment.demand_id.in_(chunk))):
            assignments[a.demand_id].append(a)
    causes = _latest_causes(session, caller.district_id, ids)
    out = []
    for d in demands:
        live = [a for a in assignments[d.id] if a.status in LIVE_STATUSES]
        covered = len(live) >= d.min_members
        accepted = [a.accepted_at for a in live if a.accepted_at is not None]
        done = [a for a in live if a.status == AssignmentStatus.COMPLETED]
        completed = [a.completed_at for a in done if a.completed_at is not None]
        cause, text = (None, None) if covered else causes.get(d.id, (NOT_PLANNED, "尚未进入任何一次优化"))
        out.append(
            DemandFacts(
                id=d.id,
                title=d.title,
                area_id=d.area_id,
                skill_codes=[s.code for s in d.required_skills],
                covered=covered,
                cause=cause,
                cause_text=text,
                days_to_assignment=_days(d.created_at, min(accepted)) if accepted else None,
                days_to_completion=_days(d.created_at, max(completed)) if completed else None,
                methods=[a.response_method for a in done if a.response_method],
                satisfaction=[a.satisfaction for a in done if a.satisfaction is not None],
            )
        )
    return out


def _chunks(ids: list[int], n: int = 500):
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def _latest_causes(session: Session, district_id: int, ids: list[int]) -> dict[int, tuple[str, str]]:
    """demand id -> (cause, text) from the latest published run, else the latest run, that left it unmet."""
    best: dict[int, tuple[tuple, str, str]] = {}
    for chunk in _chunks(ids):
        q = (
            select(
                UnmetDemand.demand_id,
                UnmetDemand.cause,
                UnmetDemand.text,
                OptimizationRun.id,
                OptimizationRun.published_at,
            )
            .join(OptimizationRun, OptimizationRun.id == UnmetDemand.run_id)
            .where(UnmetDemand.district_id == district_id, UnmetDemand.demand_id.in_(chunk))
        )
        for demand_id, cause, text, run_id, published_at in session.execute(q):
            rank = (published_at is not None, run_id)
            if demand_id not in best or rank > best[demand_id][0]:
                best[demand_id] = (rank, cause, text)
    return {k: (v[1], v[2]) for k, v in best.items()}


def _median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 4) if vals else None


def _row(key: str, name: str, facts: list[DemandFacts]) -> NeedsRow:
    sat = [s for f in facts for s in f.satisfaction]
    return NeedsRow(
        key=key,
        name=name,
        raised=len(facts),
        covered=sum(1 for f in facts if f.covered),
        unmet=sum(1 for f in facts if not f.covered),
        causes=dict(sorted(Counter(f.cause for f in facts if f.cause is not None).items())),  # only unmet have one
        median_days_to_assignment=_median([f.days_to_assignment for f in facts]),
        median_days_to_completion=_median([f.days_to_completion for f in facts]),
        response_methods=dict(sorted(Counter(m for f in facts for m in f.methods).items())),
        mean_satisfaction=round(sum(sat) / len(sat), 4) if sat else None,
    )


def needs_report(
    session: Session, caller: Caller, *, date_from: date | None, date_to: date | None, by: str = "area"
) -> NeedsReport:
    if by not in ("area", "skill"):
        raise invalid("by", msg("one_of", values="area, skill"))
    date_from, date_to = period(date_from, date_to)
    facts = demand_facts(session, caller, date_from=date_from, date_to=date_to)
    report = NeedsReport(date_from=date_from, date_to=date_to, by=by)
    buckets: dict[str, list[DemandFacts]] = defaultdict(list)
    names: dict[str, str] = {}
    if by == "area":
        areas = {a.id: a for a in session.scalars(select(Area).where(Area.district_id == caller.district_id))}
        for f in facts:
            a = areas[f.area_id]
            buckets[a.code].append(f)
            names[a.code] = a.name
    else:
        skills = dict(
            session.execute(select(Skill.code, Skill.name).where(Skill.district_id == caller.district_id)).all()
        )
        for f in facts:
            for code in f.skill_codes or [NO_SKILL_KEY]:
                buckets[code].append(f)
                names[code] = skills.get(code, "（无技能要求）")
    report.rows = [_row(k, names[k], buckets[k]) for k in sorted(buckets)]
    report.total = _row("*", "合计", facts)
    area_names = dict(session.execute(select(Area.id, Area.name).where(Area.district_id == caller.district_id)).all())
    report.unmet_demands = [
        {"demand_id": f.id, "title": f.title, "area": area_names.get(f.area_id), "cause": f.cause, "text": f.cause_text}
        for f in facts
        if not f.covered
    ]
    return report


def skill_gap_report(
    session: Session, caller: Caller, *, date_from: date | None, date_to: date | None
) -> SkillGapReport:
    date_from, date_to = period(date_from, date_to)
    facts = demand_facts(session, caller, date_from=date_from, date_to=date_to)
    required: Counter = Counter()
    unmet: Counter = Counter()
    for f in facts:
        for code in f.skill_codes:
            required[code] += 1
            if not f.covered:
                unmet[code] += 1
    skills = {s.code: s for s in session.scalars(select(Skill).where(Skill.district_id == caller.district_id))}
    holders = Counter(
        dict(
            session.execute(
                select(Skill.code, func.count())
                .select_from(MemberSkill)
                .join(Skill, Skill.id == MemberSkill.skill_id)
                .join(Member, Member.id == MemberSkill.member_id)
                .where(Member.district_id == caller.district_id, Member.active.is_(True))
                .group_by(Skill.code)
            ).all()
        )
    )
    rows = [
        SkillGapRow(
            code=c,
            name=skills[c].name if c in skills else c,
            required=required[c],
            unmet=unmet[c],
            holders=int(holders.get(c, 0)),
        )
        for c in required
    ]
    rows.sort(key=lambda r: (-r.unmet, -r.required, r.holders, r.code))
    return SkillGapReport(date_from=date_from, date_to=date_to, rows=rows)
