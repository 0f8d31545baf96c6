"""Optimization runs: create (queue + hand to the executor in one transaction), read, list,
cancel. The solve itself lives in ``execute.py``; making a plan current in ``publish.py``.

Only one active (queued/running) run per district and window: the partial unique index
``uq_optimization_runs_active_window`` enforces it in the database; the check here only
gives the friendlier answer (naming the active run) in the common, non-racing case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.enums import ACTIVE_RUN_STATUSES, Role, RunMode, RunStatus
from app.domain.times import stored_utc
from app.errors import Problem, invalid, msg
from app.models import Area, Demand, OptimizationRun, UnmetDemand
from app.models.base import utcnow
from app.services.audit import audited_update
from app.services.crud import get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate
from app.services.runs.executor import Executor
from app.services.runs.problem_builder import run_solver_options

RUN_STATUSES = tuple(RunStatus)
MODES = tuple(RunMode)
MAX_WINDOW_DAYS = 35
WEEK_RE = re.compile(r"^(\d{4})-?W(\d{2})$")  # ISO 8601 extended or basic form


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive
    week: str | None


def parse_week(week: str, field: str = "week") -> Window:
    m = WEEK_RE.match(week or "")
    if not m:
        raise invalid(field, msg("iso_week"))
    if not 2000 <= int(m.group(1)) <= 2100:  # the range the API accepts for dates and report years
        raise invalid(field, msg("week_year"))
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise invalid(field, msg("week_not_in_year", week=week)) from None
    return Window(monday, monday + timedelta(days=6), f"{m.group(1)}-W{m.group(2)}")


def resolve_window(week: str | None, window_start: date | None, window_end: date | None) -> Window:
    if week is not None:
        if window_start is not None or window_end is not None:
            raise invalid("week", msg("week_or_window"))
        return parse_week(week)
    if window_start is None and window_end is None:
        raise invalid("week", msg("week_required"), "missing")
    if window_start is None:
        raise invalid("window_start", msg("required_with", other="window_end"), "missing")
    if window_end is None:
        raise invalid("window_end", msg("required_with", other="window_start"), "missing")
    if window_end < window_start:
        raise invalid("window_end", msg("not_before", other="window_start"))
    if (window_end - window_start).days + 1 > MAX_WINDOW_DAYS:
        raise invalid("window_end", msg("window_too_long", days=MAX_WINDOW_DAYS))
    iso = window_start.isocalendar()
    is_week = window_start.weekday() == 0 and (window_end - window_start).days == 6
    return Window(window_start, window_end, f"{iso.year}-W{iso.week:02d}" if is_week else None)


def _scope_ids(session: Session, district_id: int, scope: list[str] | None) -> list[int] | None:
    if scope is None:
        return None
    codes = list(dict.fromkeys(c.strip() for c in scope))
    if not codes or any(not c for c in codes):
        raise invalid("scope", msg("scope_list"))
    found = dict(
        session.execute(select(Area.code, Area.id).where(Area.district_id == district_id, Area.code.in_(codes))).all()
    )
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise invalid("scope", msg("unknown_area_codes", codes=", ".join(unknown)), "unknown")
    return [found[c] for c in codes]


def _already_active(existing_id: int | None) -> Problem:
    return Problem(
        409,
        "run_already_active",
        msg("run_already_active_id", id=existing_id) if existing_id else msg("run_already_active"),
        members={"run_id": existing_id} if existing_id else None,
    )


def solver_options(data: dict[str, Any]) -> dict[str, Any]:
    """Reproducibility options of a run, recorded on it: deterministic (default true, for API
    and scheduled runs alike) and the solver seed."""
    deterministic = data.get("deterministic")
    deterministic = True if deterministic is None else deterministic
    if not isinstance(deterministic, bool):
        raise invalid("deterministic", msg("true_or_false"))
    seed = data.get("seed")
    seed = 0 if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise invalid("seed", msg("between", low=0, high=2147483647))
    return {"deterministic": deterministic, "seed": seed}


def create_run(
    session: Session, caller: Caller, *, data: dict[str, Any], executor: Executor, default_time_limit_s: float = 10.0
) -> OptimizationRun:
    """Insert a queued run and hand it to the executor, in the caller's transaction (no commit)."""
    window = resolve_window(data.get("week"), data.get("window_start"), data.get("window_end"))
    mode = data.get("mode") or RunMode.FULL
    if mode not in MODES:
        raise invalid("mode", msg("one_of", values="full, repair"))
    time_limit = data.get("time_limit_s")
    time_limit = float(default_time_limit_s if time_limit is None else time_limit)
    if not 1 <= time_limit <= 300:
        raise invalid("time_limit_s", msg("between_seconds", low=1, high=300))
    scope_ids = _scope_ids(session, caller.district_id, data.get("scope"))
    weights = {k: v for k, v in (data.get("weights") or {}).items() if v is not None} or None
    options = solver_options(data)

    existing = session.scalar(
        select(OptimizationRun.id).where(
            OptimizationRun.district_id == caller.district_id,
            OptimizationRun.window_start == window.start,
            OptimizationRun.window_end == window.end,
            OptimizationRun.status.in_(ACTIVE_RUN_STATUSES),
        )
    )
    if existing:
        raise _already_active(existing)
    run = OptimizationRun(
        district_id=caller.district_id,
        window_start=window.start,
        window_end=window.end,
        week=window.week,
        mode=mode,
        scope_area_ids=scope_ids,
        weights=weights,
        time_limit_s=time_limit,
        status=RunStatus.QUEUED,
        cancel_requested=False,
        attempts=0,
        created_by=caller.name,
        stats={"solver_options": options},
    )
    session.add(run)
    try:
        with session.begin_nested():  # a racing twin trips the partial unique index here
            session.flush()
    except IntegrityError:
        raise _already_active(None) from None
    executor.enqueue(session, run.id)
    return run


def get_run(session: Session, caller: Caller, *, run_id: int) -> OptimizationRun:
    return get_scoped(session, model=OptimizationRun, obj_id=run_id, caller=caller, what="optimization run")


def list_runs(
    session: Session, caller: Caller, *, status: str | None, week: str | None, cursor: str | None, limit: int
) -> Page[OptimizationRun]:
    stmt = select(OptimizationRun).where(OptimizationRun.district_id == caller.district_id)
    if status is not None:
        if status not in RUN_STATUSES:
            raise invalid("status", msg("one_of", values=", ".join(RUN_STATUSES)))
        stmt = stmt.where(OptimizationRun.status == status)
    if week is not None:
        w = parse_week(week)
        stmt = stmt.where(OptimizationRun.window_start == w.start, OptimizationRun.window_end == w.end)
    return paginate(session, stmt=stmt, id_column=OptimizationRun.id, cursor=cursor, limit=limit)


def cancel_run(session: Session, caller: Caller, *, run_id: int) -> OptimizationRun:
    """Queued: cancelled at once. Running: flag it; the executor's watcher stops the solver
    within about a second and stores the best plan found so far. Flushes, no commit."""
    run = get_run(session, caller, run_id=run_id)
    now = utcnow()
    cancelled = audited_update(
        session,
        OptimizationRun,
        OptimizationRun.id == run.id,
        OptimizationRun.status == RunStatus.QUEUED,
        values={
            "status": RunStatus.CANCELLED,
            "cancel_requested": True,
            "finished_at": now,
            "error": "cancelled before it started",
            "version": OptimizationRun.version + 1,
        },
    )
    if len(cancelled) != 1:
        flagged = audited_update(
            session,
            OptimizationRun,
            OptimizationRun.id == run.id,
            OptimizationRun.status == RunStatus.RUNNING,
            values={"cancel_requested": True, "version": OptimizationRun.version + 1},
        )
        if len(flagged) != 1:
            session.refresh(run)
            raise Problem(
                409,
                "run_not_active",
                msg("run_not_active", id=run.id, status=run.status),
                run_status=run.status,
            )
    session.flush()
    session.refresh(run)
    return run


# ------------------------------------------------------------------------------- views


def run_view(session: Session, *, run: OptimizationRun) -> dict[str, Any]:
    """The API shape of a run (scope as area codes; internal plan bookkeeping left out)."""
    scope = None
    if run.scope_area_ids:
        codes = dict(session.execute(select(Area.id, Area.code).where(Area.id.in_(run.scope_area_ids))).all())
        scope = [codes.get(i, str(i)) for i in run.scope_area_ids]
    stats = dict(run.stats) if run.stats else None
    counts = stats.pop("counts", None) if stats else None
    if stats:
        stats.pop("plan", None)
    t = lambda v: stored_utc(v) if v is not None else None  # noqa: E731 - SQLite returns naive UTC
    return {
        "id": run.id,
        "status": run.status,
        "mode": run.mode,
        "week": run.week,
        "window_start": run.window_start,
        "window_end": run.window_end,
        "scope": scope,
        "weights": run.weights,
        "time_limit_s": run.time_limit_s,
        "cancel_requested": run.cancel_requested,
        "attempts": run.attempts,
        "solver_status": run.solver_status,
        "deterministic": run_solver_options(run)["deterministic"],
        "seed": run_solver_options(run)["seed"],
        "objective": run.objective,
        "best_bound": run.best_bound,
        "gap": run.gap,
        "progress": run.progress,
        "counts": counts,
        "stats": stats,
        "error": run.error,
        "created_by": run.created_by,
        "started_at": t(run.started_at),
        "finished_at": t(run.finished_at),
        "heartbeat_at": t(run.heartbeat_at),
        "published_at": t(run.published_at),
        "created_at": t(run.created_at),
        "updated_at": t(run.updated_at),
        "version": run.version,
    }


def list_unmet(
    session: Session, caller: Caller, *, run_id: int, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """Unmet demands of a run with their reason; a liaison sees its own area only."""
    run = get_run(session, caller, run_id=run_id)
    stmt = select(UnmetDemand).where(UnmetDemand.run_id == run.id)
    if caller.role == Role.LIAISON:
        stmt = stmt.join(Demand, Demand.id == UnmetDemand.demand_id).where(Demand.area_id == caller.area_id)
    page = paginate(session, stmt=stmt, id_column=UnmetDemand.id, cursor=cursor, limit=limit)
    demand_ids = [u.demand_id for u in page.items]
    demands = (
        {d.id: d for d in session.scalars(select(Demand).where(Demand.id.in_(demand_ids))).unique()}
        if demand_ids
        else {}
    )
    items = []
    for u in page.items:
        d = demands.get(u.demand_id)
        items.append(
            {
                "id": u.id,
                "run_id": u.run_id,
                "demand_id": u.demand_id,
                "demand_title": d.title if d else None,
                "area": d.area.code if d else None,
                "community_id": d.community_id if d else None,
                "priority": d.priority if d else None,
                "min_members": d.min_members if d else None,
                "assigned": u.assigned,
                "cause": u.cause,
                "detail": u.detail,
                "text": u.text,
            }
        )
    return Page(items=items, next_cursor=page.next_cursor)
