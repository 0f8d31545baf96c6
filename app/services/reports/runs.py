"""One optimization run read back for people: its figures beside both baselines
(fixed pairing 定点包片, greedy), where members went (home area -> demand area), how
the load spread, coverage per area and what stayed unmet and why.

The run's plan is its Assignment rows (its proposals; accepted pairs it kept belong to
earlier runs) except declined ones (a proposal a member turned down is no longer part of
the plan). Its demands are those in ``stats.plan.demand_ids`` plus any it assigned or left
unmet; coverage per area counts a demand covered unless the run left it unmet. A liaison sees the run's district-wide
figures but only its own area's rows: flows into its area, its area's members'
loads, its area's coverage and unmet demands.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import AssignmentStatus, Role, RunStatus
from app.i18n import label
from app.models import Area, Assignment, Demand, Member, OptimizationRun, UnmetDemand
from app.services.crud import get_scoped
from app.services.identity import Caller
from app.services.reports.needs import CAUSE_LABELS
from app.services.reports.table import Table

STATUS_LABELS = {status.value: label(status) for status in RunStatus}
PLANS = ("optimized", "fixed_pairing", "greedy")
PLAN_LABELS = {"optimized": "优化方案", "fixed_pairing": "定点包片（基线）", "greedy": "贪心（基线）"}
METRIC_LABELS = {
    "demands_total": "需求总数",
    "demands_covered": "满足需求数",
    "weighted_coverage": "加权覆盖率",
    "assignments": "安排人次",
    "mean_skill_score": "平均技能匹配度",
    "cross_area_share": "跨片比例",
    "mean_distance_km": "平均距离（km）",
    "load_peak": "最高负荷",
    "load_std": "负荷标准差",
    "zero_activity_members": "本年度尚无活动的委员",
    "zero_activity_members_served": "其中本期获得安排",
}


@dataclass
class MetricRow:
    metric: str
    label: str
    optimized: float | None
    fixed_pairing: float | None
    greedy: float | None


@dataclass
class AreaCoverage:
    area_id: int
    code: str
    name: str
    demands: int
    covered: int
    unmet: int


@dataclass
class Flow:
    from_area: str  # member's home area code
    to_area: str  # demand's area code
    count: int


@dataclass
class MemberLoad:
    member_id: int
    name: str
    home_area: str
    load: int


@dataclass
class UnmetRow:
    demand_id: int
    title: str
    area: str
    area_name: str
    cause: str
    cause_label: str
    assigned: int
    text: str


@dataclass
class RunReport:
    id: int
    status: str
    week: str | None
    window_start: Any
    window_end: Any
    mode: str
    solver_status: str | None
    objective: float | None
    best_bound: float | None
    gap: float | None
    published_at: Any
    finished_at: Any
    metrics: list[MetricRow] = field(default_factory=list)
    coverage: list[AreaCoverage] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    loads: list[MemberLoad] = field(default_factory=list)
    unmet: list[UnmetRow] = field(default_factory=list)
    area_codes: list[str] = field(default_factory=list)  # matrix axes, in area order
    area_names: dict[str, str] = field(default_factory=dict)
    scoped_to_area: str | None = None  # set for a liaison

    def flow_matrix(self) -> list[list[int]]:
        idx = {c: i for i, c in enumerate(self.area_codes)}
        m = [[0] * len(self.area_codes) for _ in self.area_codes]
        for f in self.flows:
            if f.from_area in idx and f.to_area in idx:
                m[idx[f.from_area]][idx[f.to_area]] += f.count
        return m

    def table(self) -> Table:
        cols = [("metric", "指标代码"), ("label", "指标"), *[(p, PLAN_LABELS[p]) for p in PLANS]]
        return Table(f"优化批次{self.id}", cols, [vars(m) for m in self.metrics])

    def tables(self) -> list[Table]:
        """Every part of the report, one sheet each (XLSX)."""
        return [
            self.table(),
            Table(
                "片区覆盖",
                [
                    ("code", "片区代码"),
                    ("name", "片区"),
                    ("demands", "需求数"),
                    ("covered", "已满足"),
                    ("unmet", "未满足"),
                ],
                [vars(c) for c in self.coverage],
            ),
            Table(
                "跨片流向",
                [("from_area", "委员所在片区"), ("to_area", "需求所在片区"), ("count", "人次")],
                [vars(f) for f in self.flows],
            ),
            Table(
                "委员负荷",
                [("member_id", "委员编号"), ("name", "姓名"), ("home_area", "所在片区"), ("load", "安排数")],
                [vars(m) for m in self.loads],
            ),
            Table(
                "未满足需求",
                [
                    ("demand_id", "需求编号"),
                    ("title", "需求"),
                    ("area_name", "片区"),
                    ("cause", "原因代码"),
                    ("cause_label", "原因"),
                    ("text", "说明"),
                ],
                [vars(u) for u in self.unmet],
            ),
        ]


def latest_run_id(session: Session, *, district_id: int) -> int | None:
    """The latest run that has figures (for `matcher report --png` without --run).

    Checked in Python: a JSON column may hold a JSON null, which SQL's IS NULL does not see.
    """
    recent = session.execute(
        select(OptimizationRun.id, OptimizationRun.stats)
        .where(OptimizationRun.district_id == district_id)
        .order_by(OptimizationRun.id.desc())
        .limit(100)
    )
    return next((rid for rid, stats in recent if isinstance(stats, dict) and stats.get("optimized")), None)


def _number(v: Any) -> float | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _section(stats: dict[str, Any], key: str) -> dict[str, Any]:
    """One plan's metrics out of the stored stats JSON; anything but an object reads as empty."""
    value = stats.get(key)
    return value if isinstance(value, dict) else {}


def _metrics(stats: dict | None) -> list[MetricRow]:
    stats = stats or {}
    plans = {p: _section(stats, p) for p in PLANS}
    keys = list(METRIC_LABELS) + sorted({k for p in plans.values() for k in p} - set(METRIC_LABELS))
    rows = []
    for k in keys:
        values = {p: _number(plans[p].get(k)) for p in PLANS}
        if all(v is None for v in values.values()):
            continue
        rows.append(MetricRow(metric=k, label=METRIC_LABELS.get(k, k), **values))
    objectives = stats.get("objectives")
    if isinstance(objectives, dict) and any(_number(objectives.get(p)) is not None for p in PLANS):
        rows.append(MetricRow(metric="objective", label="目标函数值", **{p: _number(objectives.get(p)) for p in PLANS}))
    return rows


def _run_members(session: Session, caller: Caller, run: OptimizationRun) -> dict[int, Member]:
    """The members the run planned with (recorded with its result), not today's directory: a run
    of 410 members still reports 410 after 20 more joined. Runs stored before the record was kept
    fall back to the district's active members."""
    recorded = ((run.stats or {}).get("plan") or {}).get("member_ids")
    stmt = select(Member).where(Member.district_id == caller.district_id)
    if recorded is not None:
        ids = [int(i) for i in recorded]
        return {m.id: m for m in session.scalars(stmt.where(Member.id.in_(ids)))} if ids else {}
    return {m.id: m for m in session.scalars(stmt.where(Member.active.is_(True)))}


def run_report(session: Session, caller: Caller, *, run_id: int) -> RunReport:
    """A run's report: cross-area flows, member loads, coverage and unmet demands per area; a
    liaison sees its own area's part."""
    run = get_scoped(session, model=OptimizationRun, obj_id=run_id, caller=caller, what="optimization run")
    areas = list(session.scalars(select(Area).where(Area.district_id == caller.district_id).order_by(Area.id)))
    by_id = {a.id: a for a in areas}
    own = caller.area_id if caller.role == Role.LIAISON else None
    report = RunReport(
        id=run.id,
        status=run.status,
        week=run.week,
        window_start=run.window_start,
        window_end=run.window_end,
        mode=run.mode,
        solver_status=run.solver_status,
        objective=run.objective,
        best_bound=run.best_bound,
        gap=run.gap,
        published_at=run.published_at,
        finished_at=run.finished_at,
        metrics=_metrics(run.stats),
        scoped_to_area=by_id[own].code if own in by_id else None,
    )
    plan = [
        a
        for a in session.scalars(select(Assignment).where(Assignment.run_id == run.id).order_by(Assignment.id))
        if a.status != AssignmentStatus.DECLINED
    ]
    unmet = list(session.scalars(select(UnmetDemand).where(UnmetDemand.run_id == run.id).order_by(UnmetDemand.id)))
    demands = _report_demands(session, caller, run, plan, unmet)
    members = _run_members(session, caller, run)
    for a in plan:  # members deactivated since still show with their load
        members.setdefault(a.member_id, a.member)
    _add_flows_and_loads(report, plan, members, by_id, own)
    _add_coverage_and_unmet(report, areas, demands, unmet, own)
    used = {c for f in report.flows for c in (f.from_area, f.to_area)}
    report.area_codes = [a.code for a in areas if a.code in used]
    report.area_names = {a.code: a.name for a in areas}
    return report


def _report_demands(
    session: Session, caller: Caller, run: OptimizationRun, plan: list[Assignment], unmet: list[UnmetDemand]
) -> dict[int, Demand]:
    """Every demand the run considered, planned or left unmet."""
    planned = ((run.stats or {}).get("plan") or {}).get("demand_ids") or []
    demand_ids = {int(d) for d in planned} | {a.demand_id for a in plan} | {u.demand_id for u in unmet}
    if not demand_ids:
        return {}
    query = select(Demand).where(Demand.district_id == caller.district_id, Demand.id.in_(demand_ids))
    return {d.id: d for d in session.scalars(query)}


def _add_flows_and_loads(
    report: RunReport, plan: list[Assignment], members: dict[int, Member], by_id: dict[int, Area], own: int | None
) -> None:
    """Home area -> demand area counts, and each member's number of activities in the plan."""
    flows: Counter = Counter()
    load: Counter = Counter()
    for a in plan:
        home = members[a.member_id].home_area_id
        load[a.member_id] += 1
        if own is None or a.area_id == own:
            flows[(by_id[home].code, by_id[a.area_id].code)] += 1
    report.flows = [Flow(f, t, n) for (f, t), n in sorted(flows.items())]
    report.loads = sorted(
        (
            MemberLoad(m.id, m.name, by_id[m.home_area_id].code, load[m.id])
            for m in members.values()
            if own is None or m.home_area_id == own
        ),
        key=lambda x: (-x.load, x.member_id),
    )


def _add_coverage_and_unmet(
    report: RunReport, areas: list[Area], demands: dict[int, Demand], unmet: list[UnmetDemand], own: int | None
) -> None:
    """Demands covered and unmet per area, and the unmet ones with their cause."""
    by_id = {a.id: a for a in areas}
    unmet_ids = {u.demand_id for u in unmet}
    per_area: dict[int, list[int]] = defaultdict(list)
    for d in demands.values():
        per_area[d.area_id].append(d.id)
    report.coverage = [
        AreaCoverage(
            a.id,
            a.code,
            a.name,
            len(per_area[a.id]),
            sum(1 for d in per_area[a.id] if d not in unmet_ids),
            sum(1 for d in per_area[a.id] if d in unmet_ids),
        )
        for a in areas
        if per_area[a.id] and (own is None or a.id == own)
    ]
    report.unmet = [
        UnmetRow(
            u.demand_id,
            demands[u.demand_id].title,
            by_id[demands[u.demand_id].area_id].code,
            by_id[demands[u.demand_id].area_id].name,
            u.cause,
            CAUSE_LABELS.get(u.cause, u.cause),
            u.assigned,
            u.text,
        )
        for u in unmet
        if u.demand_id in demands and (own is None or demands[u.demand_id].area_id == own)
    ]
