"""Publishing: a run's proposals become the current plan, in one transaction.

* Only a succeeded run, or a cancelled one that stored its best plan so far, can be published.
* Publishing an older run over a newer published run of an overlapping window is refused
  (409 ``newer_run_published``): the newer plan already took later declines into account.
* The run's proposals become ``published``; the previous plan's ``published`` rows of the
  demands this run planned become ``superseded`` (except the pairs a repair run kept);
  ``accepted``, ``completed`` and ``declined`` rows are never touched.
* A proposal that can no longer stand (its demand was closed or cancelled meanwhile, the
  pair was declined, or the pair is already live) is left ``proposed`` and counted as skipped.
* Each planned demand is ``assigned`` when its live members reach ``min_members``, else ``open``.
* The run's status becomes ``published`` (the change feed announces the new plan from it).
* The members are told in the same transaction (``tell_members``: notification outbox rows).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.enums import (
    LIVE_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    DemandStatus,
    NotificationEvent,
    RunMode,
    RunStatus,
)
from app.errors import Problem, msg
from app.models import Assignment, Demand, Notification, OptimizationRun
from app.models.base import utcnow
from app.services.runs.service import get_run
from app.settings import NotifySettings
from app.solver.types import SolverStatus

LIVE = LIVE_ASSIGNMENT_STATUSES
DEMAND_PLANNABLE = (DemandStatus.OPEN, DemandStatus.ASSIGNED)


def _lock(session: Session, run: OptimizationRun) -> None:
    """Serialise publishes of one district: PostgreSQL locks the district row; on SQLite the
    first write takes the database's single write lock for the whole transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT id FROM districts WHERE id = :d FOR UPDATE"), {"d": run.district_id})
    else:
        session.execute(text("UPDATE optimization_runs SET id = id WHERE id = :r"), {"r": run.id})


def publishable(run: OptimizationRun) -> bool:
    """A succeeded run, or a cancelled one whose best plan so far is kept -- unless the cancel came
    while candidates were still being generated: that plan never considered the demands not yet
    reached, and publishing it would replace their proposals with nothing."""
    if run.status == RunStatus.SUCCEEDED:
        return True
    stats = run.stats or {}
    return (
        run.status == RunStatus.CANCELLED
        and bool(stats.get("partial"))
        and bool(stats.get("candidates_complete", True))
        and run.solver_status == SolverStatus.CANCELLED
    )


def tell_members(
    session: Session, *, run: OptimizationRun, published: list[Assignment], superseded: list[Assignment]
) -> None:
    """Queue the messages of a publish in its own transaction: an invitation to every newly
    proposed member (a repair invitation after a repair run), a withdrawal to every member
    who had been told about a proposal that is now superseded (whose links are revoked)."""
    from app.services.notifications import links, outbox

    cfg = NotifySettings()
    event = NotificationEvent.REPAIR_PROPOSAL if run.mode == RunMode.REPAIR else NotificationEvent.PROPOSAL
    for a in published:
        outbox.enqueue(session, event=event, assignment=a, cfg=cfg)
    if superseded:
        ids = [a.id for a in superseded]
        links.revoke_for_assignments(session, assignment_ids=ids, reason="superseded")
        told = set(session.scalars(select(Notification.assignment_id).where(Notification.assignment_id.in_(ids))))
        again = {(a.demand_id, a.member_id) for a in published}  # re-proposed: the invitation says it
        for a in superseded:
            if a.id in told and (a.demand_id, a.member_id) not in again:
                outbox.enqueue(session, event=NotificationEvent.CANCELLED, assignment=a, cfg=cfg)


def publish_run(session: Session, caller, *, run_id: int) -> tuple[OptimizationRun, dict[str, int]]:
    """Make the run's plan current (flushes; the caller commits once). Publishing again is a
    no-op that answers the first publish's summary."""
    run = get_run(session, caller, run_id=run_id)
    if run.status == RunStatus.PUBLISHED:
        return run, dict((run.stats or {}).get("publish") or {})
    _lock(session, run)
    session.refresh(run)
    if run.status == RunStatus.PUBLISHED:
        return run, dict((run.stats or {}).get("publish") or {})
    _check_publishable(session, run)
    plan = (run.stats or {}).get("plan") or {}
    demand_ids = [int(d) for d in plan.get("demand_ids", [])]
    kept = {(int(d), int(m)) for d, m in plan.get("kept_pairs", [])}
    summary = {"published": 0, "superseded": 0, "skipped": 0, "demands_assigned": 0, "demands_open": 0}
    demands: dict[int, Demand] = {}
    if demand_ids:
        demands = {d.id: d for d in session.scalars(select(Demand).where(Demand.id.in_(demand_ids))).unique()}
    superseded = _supersede_earlier_plans(session, run, demand_ids, kept)
    newly_published = _publish_proposals(session, run, demand_ids, demands, summary)
    summary["superseded"] = len(superseded)
    tell_members(session, run=run, published=newly_published, superseded=superseded)
    _settle_demand_statuses(session, demand_ids, demands, summary)
    run.status = RunStatus.PUBLISHED
    run.published_at = utcnow()
    published_from = RunStatus.CANCELLED if run.solver_status == SolverStatus.CANCELLED else RunStatus.SUCCEEDED
    run.stats = {**(run.stats or {}), "publish": summary, "published_from": published_from}
    session.flush()
    return run, summary


def _check_publishable(session: Session, run: OptimizationRun) -> None:
    """409 unless the run may be published: it succeeded (or was cancelled with its best plan),
    and no newer run over an overlapping window has been published since."""
    if not publishable(run):
        raise Problem(
            409,
            "run_not_publishable",
            msg("run_not_publishable", id=run.id, status=run.status),
            run_status=run.status,
        )
    newer = session.scalar(
        select(OptimizationRun.id)
        .where(
            OptimizationRun.district_id == run.district_id,
            OptimizationRun.id > run.id,
            OptimizationRun.published_at.is_not(None),
            OptimizationRun.window_start <= run.window_end,
            OptimizationRun.window_end >= run.window_start,
        )
        .order_by(OptimizationRun.id.desc())
        .limit(1)
    )
    if newer is not None:
        raise Problem(
            409,
            "newer_run_published",
            msg("newer_run_published", newer=newer, id=run.id),
            newer_run_id=newer,
        )


def _supersede_earlier_plans(
    session: Session, run: OptimizationRun, demand_ids: list[int], kept: set[tuple[int, int]]
) -> list[Assignment]:
    """Earlier runs' published assignments of these demands end, except the pairs this run kept."""
    superseded: list[Assignment] = []
    if not demand_ids:
        return superseded
    old = session.scalars(
        select(Assignment).where(
            Assignment.demand_id.in_(demand_ids),
            Assignment.status == AssignmentStatus.PUBLISHED,
            Assignment.run_id.is_distinct_from(run.id),
        )
    ).unique()
    for a in old:
        if (a.demand_id, a.member_id) not in kept:
            a.status = AssignmentStatus.SUPERSEDED
            superseded.append(a)
    session.flush()
    return superseded


def _publish_proposals(
    session: Session, run: OptimizationRun, demand_ids: list[int], demands: dict[int, Demand], summary: dict[str, int]
) -> list[Assignment]:
    """The run's proposals become published, skipping demands no longer plannable and pairs that
    are live (or declined) already."""
    taken = {
        (d, m): s
        for d, m, s in session.execute(
            select(Assignment.demand_id, Assignment.member_id, Assignment.status).where(
                Assignment.demand_id.in_(demand_ids or [-1]), Assignment.status.in_((*LIVE, AssignmentStatus.DECLINED))
            )
        )
    }
    proposals = session.scalars(
        select(Assignment)
        .where(Assignment.run_id == run.id, Assignment.status == AssignmentStatus.PROPOSED)
        .order_by(Assignment.id)
    ).unique()
    published: list[Assignment] = []
    for a in list(proposals):
        d = demands.get(a.demand_id) or session.get(Demand, a.demand_id)
        if d is None or d.status not in DEMAND_PLANNABLE or (a.demand_id, a.member_id) in taken:
            summary["skipped"] += 1
            continue
        a.status = AssignmentStatus.PUBLISHED
        taken[(a.demand_id, a.member_id)] = AssignmentStatus.PUBLISHED
        published.append(a)
    summary["published"] = len(published)
    session.flush()
    return published


def _settle_demand_statuses(
    session: Session, demand_ids: list[int], demands: dict[int, Demand], summary: dict[str, int]
) -> None:
    """A plannable demand is ``assigned`` once it has ``min_members`` live assignments, else ``open``."""
    live = Counter(
        dict(
            session.execute(
                select(Assignment.demand_id, func.count())
                .where(Assignment.demand_id.in_(demand_ids or [-1]), Assignment.status.in_(LIVE))
                .group_by(Assignment.demand_id)
            ).all()
        )
    )
    for d_id in demand_ids:
        d = demands.get(d_id)
        if d is None or d.status not in DEMAND_PLANNABLE:
            continue
        target = DemandStatus.ASSIGNED if live.get(d_id, 0) >= d.min_members else DemandStatus.OPEN
        if d.status != target:
            d.status = target
        summary["demands_assigned" if target == DemandStatus.ASSIGNED else "demands_open"] += 1
