"""Executing one optimization run, whoever calls it (in-process thread, procrastinate worker,
``matcher optimize``): claim -> build the problem -> solve on a separate thread while this
thread keeps the row alive -> store the plan in one transaction.

From the claim to the end, a keep-alive thread writes the run's heartbeat every 2 s (also while
the problem is built and the plan stored), so a run whose process died is noticed within
``STALE_AFTER_S`` plus one recovery pass. While the solver works, this thread polls the run row
about twice a second: it writes progress (best objective
and bound, throttled to one write a second), and turns ``cancel_requested`` into the
solver's cancel Event. Every write is conditional on ``status='running'`` and the attempt
number this executor claimed, so an executor that recovery has already given up on can
never overwrite a newer attempt's results.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from app import solver
from app.db import get_engine, session_scope
from app.domain.enums import ACTIVE_RUN_STATUSES, AssignmentStatus, RunStatus
from app.models import Assignment, OptimizationRun, UnmetDemand
from app.models.base import utcnow
from app.services.audit import audited_delete, audited_update
from app.services.runs.problem_builder import BuiltProblem, build_problem
from app.settings import get_settings
from app.solver import InfeasiblePlanError, Solution, SolverStatus, fixed_pairing, greedy

log = logging.getLogger("app.runs")

POLL_S = 0.5
HEARTBEAT_S = 2.0
PROGRESS_MIN_S = 1.0
#: A running run whose heartbeat is older than this is lost: 5 missed beats. Recovery passes run
#: every ``RECOVERY_EVERY_S``, so a dead executor's run is requeued or failed within about 13 s.
STALE_AFTER_S = 10.0
RECOVERY_EVERY_S = 3.0
MAX_ATTEMPTS = 2

ProgressDisplay = Callable[[dict[str, Any]], None]


def json_safe(value: Any) -> Any:
    """JSON columns reject NaN/inf on PostgreSQL; an unknown number is null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


@dataclass
class _Progress:
    """Written by the solver's callback thread, read by the watcher: a lock keeps pairs whole."""

    objective: float | None = None
    best_bound: float | None = None
    solutions: int = 0
    changed: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def update(self, objective: float, bound: float) -> None:
        with self._lock:
            self.objective, self.best_bound = float(objective), float(bound)
            self.solutions += 1
            self.changed = True

    def take(self) -> dict[str, Any] | None:
        with self._lock:
            if not self.changed:
                return None
            self.changed = False
            return {"objective": self.objective, "best_bound": self.best_bound, "solutions": self.solutions}


def _owned(run_id: int, attempt: int) -> tuple[ColumnElement[bool], ...]:
    """The run is still running under this attempt: the guard of every write a worker makes."""
    return (
        OptimizationRun.id == run_id,
        OptimizationRun.status == RunStatus.RUNNING,
        OptimizationRun.attempts == attempt,
    )


def claim(url: str, run_id: int) -> int | None:
    """queued -> running, atomically; returns the attempt number, or None if not ours to run.

    Status changes go through a Session so the change feed records them; heartbeats and
    progress (see ``_watch``) use a bare connection on purpose: they are not changes anyone
    needs to be told about.
    """
    now = utcnow()
    with session_scope(url) as s:
        claimed = audited_update(
            s,
            OptimizationRun,
            OptimizationRun.id == run_id,
            OptimizationRun.status == RunStatus.QUEUED,
            values={
                "status": RunStatus.RUNNING,
                "attempts": OptimizationRun.attempts + 1,
                "started_at": now,
                "heartbeat_at": now,
                "error": None,
                "version": OptimizationRun.version + 1,
            },
        )
        if len(claimed) != 1:
            return None
        return s.scalar(select(OptimizationRun.attempts).where(OptimizationRun.id == run_id))


def fail_run(url: str, run_id: int, error: str, *, attempt: int | None = None) -> None:
    """Mark a run failed with its reason, in its own transaction.

    With ``attempt``: only while that attempt still owns the run (a run recovered by another
    worker is no longer ours to end). Without: whenever it has not ended yet (``matcher optimize``
    interrupted while the run was queued or running).
    """
    if attempt is not None:
        guard = _owned(run_id, attempt)
    else:
        guard = (OptimizationRun.id == run_id, OptimizationRun.status.in_(ACTIVE_RUN_STATUSES))
    with session_scope(url) as s:
        audited_update(
            s,
            OptimizationRun,
            *guard,
            values={
                "status": RunStatus.FAILED,
                "error": error[:4000],
                "finished_at": utcnow(),
                "heartbeat_at": utcnow(),
                "version": OptimizationRun.version + 1,
            },
        )


@dataclass
class _Outcome:
    solution: Solution | None = None
    fixed: Solution | None = None
    greedy: Solution | None = None
    error: BaseException | None = None


def execute_run(
    url: str, run_id: int, *, display: ProgressDisplay | None = None, num_workers: int | None = None
) -> str:
    """Run one queued run to its end; returns the final status (or the status found)."""
    attempt = claim(url, run_id)
    if attempt is None:
        with session_scope(url) as s:
            status = s.scalar(select(OptimizationRun.status).where(OptimizationRun.id == run_id))
        log.info("run %s not claimed (status %s)", run_id, status)
        return status or "missing"
    workers = num_workers or get_settings().solver_workers
    with _keep_alive(url, run_id, attempt):
        return _execute_claimed(url, run_id, attempt, workers, display)


@contextmanager
def _keep_alive(url: str, run_id: int, attempt: int) -> Iterator[None]:
    """Beat the run's heartbeat every ``HEARTBEAT_S`` while the block runs (build, solve, store)."""
    engine = get_engine(url)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(OptimizationRun)
                        .where(*_owned(run_id, attempt))
                        .values(heartbeat_at=utcnow(), version=OptimizationRun.version + 1)
                    )
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried next beat
                log.warning("run %s: heartbeat write failed", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _execute_claimed(url: str, run_id: int, attempt: int, workers: int, display: ProgressDisplay | None) -> str:
    """Build, solve and store a run this executor has claimed as ``attempt``."""
    try:
        with session_scope(url) as s:
            built = build_problem(s, run=s.get_one(OptimizationRun, run_id), num_workers=workers)
    except Exception as exc:  # noqa: BLE001 - the reason is stored on the run
        log.exception("run %s: building the problem failed", run_id)
        fail_run(url, run_id, f"building the problem failed: {type(exc).__name__}: {exc}", attempt=attempt)
        return RunStatus.FAILED

    problem = built.problem
    cancel = threading.Event()
    progress = _Progress()
    outcome = _Outcome()

    def work() -> None:
        try:
            outcome.solution = solver.solve(problem, on_progress=progress.update, cancel=cancel)
            outcome.fixed = fixed_pairing(problem)
            outcome.greedy = greedy(problem)
        except BaseException as exc:  # noqa: BLE001 - handed back to the watcher
            outcome.error = exc

    started = time.monotonic()
    solver_thread = threading.Thread(target=work, name=f"solve-{run_id}", daemon=True)
    solver_thread.start()
    lost = _watch(url, run_id, attempt, solver_thread, cancel, progress, started, display)
    if lost:
        log.warning("run %s attempt %s: no longer ours (recovered elsewhere); result dropped", run_id, attempt)
        return "lost"
    error = outcome.error
    if error is not None:
        if isinstance(error, InfeasiblePlanError):
            reason = f"solver produced an infeasible plan: {error}"
        else:
            reason = f"solver error: {type(error).__name__}: {error}"
        log.error("run %s failed: %s", run_id, reason, exc_info=(type(error), error, error.__traceback__))
        fail_run(url, run_id, reason, attempt=attempt)
        return RunStatus.FAILED
    try:
        return store_result(url, run_id, attempt, built, outcome)
    except Exception as exc:  # noqa: BLE001 - the reason is stored on the run
        log.exception("run %s: storing the plan failed", run_id)
        fail_run(url, run_id, f"storing the plan failed: {type(exc).__name__}: {exc}", attempt=attempt)
        return RunStatus.FAILED


def _watch(
    url: str,
    run_id: int,
    attempt: int,
    thread: threading.Thread,
    cancel: threading.Event,
    progress: _Progress,
    started: float,
    display: ProgressDisplay | None,
) -> bool:
    """Keep the row alive until the solver thread ends; True if the run was taken from us."""
    engine = get_engine(url)
    last_write = 0.0
    pending: dict[str, Any] | None = None
    latest: dict[str, Any] = {}
    while thread.is_alive():
        thread.join(POLL_S)
        now = time.monotonic()
        fresh = progress.take()
        if fresh is not None:
            pending = fresh
            latest = fresh
        if display is not None:
            display({"elapsed_s": now - started, **latest})
        try:
            with engine.begin() as conn:
                row = conn.execute(
                    select(OptimizationRun.cancel_requested, OptimizationRun.status, OptimizationRun.attempts).where(
                        OptimizationRun.id == run_id
                    )
                ).first()
                if row is None or row.status != RunStatus.RUNNING or row.attempts != attempt:
                    cancel.set()
                    thread.join()
                    return True
                if row.cancel_requested and not cancel.is_set():
                    log.info("run %s: cancel requested; stopping the solver", run_id)
                    cancel.set()
                values: dict[str, Any] = {}  # the heartbeat itself is ``_keep_alive``'s
                if pending is not None and now - last_write >= PROGRESS_MIN_S:
                    values["progress"] = json_safe(
                        {
                            **pending,
                            "pid": os.getpid(),
                            "elapsed_s": round(now - started, 2),
                            "updated_at": utcnow().isoformat(),
                        }
                    )
                    values["heartbeat_at"] = utcnow()
                    pending = None
                    last_write = now
                if values:
                    conn.execute(
                        update(OptimizationRun)
                        .where(*_owned(run_id, attempt))
                        .values(**values, version=OptimizationRun.version + 1)
                    )
        except Exception:  # noqa: BLE001 - a missed heartbeat is retried next tick
            log.warning("run %s: heartbeat/progress write failed", run_id, exc_info=True)
    return False


def _metrics(solution: Solution | None) -> dict[str, Any] | None:
    return json_safe(solution.metrics) if solution is not None else None


def _localise(text: str, codes: tuple[str, ...] | frozenset[str], names: dict[str, str], sort: bool) -> str:
    """The solver writes skill codes; staff read skill names (持有 law -> 持有 法律咨询)."""
    seq = sorted(codes) if sort else list(codes)
    if not seq:
        return text
    return text.replace("、".join(seq), "、".join(names.get(c, c) for c in seq), 1)


_SOLVER_FIGURES = (
    "method",
    "build_s",
    "solve_s",
    "wall_s",
    "candidate_pairs",
    "coverage_value",
    "coverage_bound",
    "rest_value",
    "rest_bound",
    "top_k",
)


def _run_stats(built: BuiltProblem, outcome: _Outcome, *, cancelled: bool) -> dict[str, Any]:
    """What the run shows of its solve: the plan's figures beside both baselines, the solver's
    figures and options, counts, and which demands, members and kept pairs it planned."""
    sol, problem = outcome.solution, built.problem
    assert sol is not None
    proposals = sum(1 for a in sol.assignments if not a.pinned)
    return {
        "optimized": _metrics(sol),
        "fixed_pairing": _metrics(outcome.fixed),
        "greedy": _metrics(outcome.greedy),
        "partial": cancelled,
        "candidates_complete": sol.stats.candidates_complete,
        "objectives": {
            "optimized": sol.stats.objective,
            "fixed_pairing": outcome.fixed.stats.objective if outcome.fixed else None,
            "greedy": outcome.greedy.stats.objective if outcome.greedy else None,
        },
        "solver": {k: getattr(sol.stats, k) for k in _SOLVER_FIGURES},
        "counts": {
            "members": len(problem.members),
            "demands": len(problem.demands),
            "proposals": proposals,
            "pinned": len(sol.assignments) - proposals,
            "unmet": len(sol.unmet),
            "covered": sol.metrics.demands_covered,
            "candidate_pairs": sol.stats.candidate_pairs,
        },
        "solver_options": {
            "deterministic": problem.deterministic,
            "seed": problem.random_seed,
            "num_workers": problem.num_workers,
            "time_limit_s": problem.time_limit_s,
        },
        "cap_weeks": built.cap_weeks,
        "executor_pid": os.getpid(),  # the process that solved it (on SQLite: not the API's)
        "plan": {
            "demand_ids": sorted(d.id for d in problem.demands),
            "member_ids": sorted(m.id for m in problem.members),  # the run's own members, for its report
            "kept_pairs": sorted([list(p) for p in built.kept_pairs]),
        },
    }


def _finish_run_row(
    s: Session, run_id: int, attempt: int, sol: Solution, status: RunStatus, stats: dict[str, Any]
) -> bool:
    """Mark the run finished with its figures, if this attempt still owns it (taking the row
    first: row lock / SQLite write lock). False: another attempt took it over."""
    now = utcnow()
    progress = {"objective": sol.stats.objective, "best_bound": sol.stats.best_bound, "final": True}
    owned = audited_update(
        s,
        OptimizationRun,
        *_owned(run_id, attempt),
        values={
            "status": status,
            "solver_status": sol.stats.status,
            "objective": json_safe(sol.stats.objective),
            "best_bound": json_safe(sol.stats.best_bound),
            "gap": json_safe(sol.stats.gap),
            "stats": json_safe(stats),
            "finished_at": now,
            "heartbeat_at": now,
            "progress": json_safe({**progress, "updated_at": now.isoformat()}),
            "version": OptimizationRun.version + 1,
        },
    )
    return len(owned) == 1


def _store_plan(s: Session, run_id: int, district_id: int, built: BuiltProblem, sol: Solution) -> None:
    """The run's proposals and unmet demands, replacing what an earlier attempt may have written;
    texts name skills as staff know them."""
    audited_delete(s, Assignment, Assignment.run_id == run_id, Assignment.status == AssignmentStatus.PROPOSED)
    audited_delete(s, UnmetDemand, UnmetDemand.run_id == run_id)
    required = {d.id: d.required_skills for d in built.problem.demands}
    for a in sol.assignments:
        if a.pinned:
            continue
        e = a.explanation
        s.add(
            Assignment(
                district_id=district_id,
                run_id=run_id,
                demand_id=a.demand_id,
                member_id=a.member_id,
                area_id=built.demand_area_ids[a.demand_id],
                status=AssignmentStatus.PROPOSED,
                score=round(sum(e.terms.values()), 4),
                explanation=json_safe({k: v for k, v in dataclasses.asdict(e).items() if k != "text"}),
                explanation_text=_localise(e.text, e.skill_overlap, built.skill_names, sort=False),
            )
        )
    for u in sol.unmet:
        s.add(
            UnmetDemand(
                district_id=district_id,
                run_id=run_id,
                demand_id=u.demand_id,
                cause=u.cause.value,
                assigned=u.assigned,
                detail=json_safe(dict(u.detail)),
                text=_localise(u.text, required[u.demand_id], built.skill_names, sort=True),
            )
        )


def store_result(url: str, run_id: int, attempt: int, built: BuiltProblem, outcome: _Outcome) -> str:
    """Store a solve's outcome in one transaction: the run row, its proposals and unmet demands.
    Returns the run's status, or ``lost`` when another attempt owns the run by now."""
    sol = outcome.solution
    assert sol is not None
    # A solve that finished before it noticed the cancel has a complete plan: that is a success.
    cancelled = sol.stats.status == SolverStatus.CANCELLED
    status = RunStatus.CANCELLED if cancelled else RunStatus.SUCCEEDED
    stats = _run_stats(built, outcome, cancelled=cancelled)
    with session_scope(url) as s:
        if not _finish_run_row(s, run_id, attempt, sol, status, stats):
            s.rollback()
            return "lost"
        district_id = s.scalar(select(OptimizationRun.district_id).where(OptimizationRun.id == run_id))
        assert district_id is not None  # the row was just updated
        _store_plan(s, run_id, district_id, built, sol)
    counts = stats["counts"]
    log.info(
        "run %s %s: %s proposals, %s unmet, objective %.2f (%s)",
        run_id,
        status,
        counts["proposals"],
        counts["unmet"],
        sol.stats.objective,
        sol.stats.status,
    )
    return status


# ---------------------------------------------------------------------------------------------
# Recovery: a run whose executor died must not stay "running" forever.


def recover_stale_runs(
    url: str, enqueue: Callable[[Session, int], object] | None, *, stale_after_s: float = STALE_AFTER_S
) -> list[tuple[int, str]]:
    """Requeue (attempts < MAX_ATTEMPTS, via ``enqueue``) or fail runs with a stale heartbeat.

    ``enqueue`` is the executor's hand-off, run in the same transaction as the requeue; with
    none (nobody could execute a requeued run) stale runs are failed outright. The query is one
    indexed look-up on ``status`` (a handful of running rows), cheap enough for every 3 s.
    """
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    actions: list[tuple[int, str]] = []
    with session_scope(url) as s:
        stale = s.execute(
            select(OptimizationRun.id, OptimizationRun.attempts)
            .where(
                OptimizationRun.status == RunStatus.RUNNING,
                ((OptimizationRun.heartbeat_at.is_not(None)) & (OptimizationRun.heartbeat_at < cutoff))
                | (OptimizationRun.heartbeat_at.is_(None)),
            )
            .order_by(OptimizationRun.id)
        ).all()
        for run_id, attempts in stale:
            action = _give_up(s, run_id, attempts, enqueue, lost=f"no heartbeat for {int(stale_after_s)} s")
            if action is not None:
                actions.append((run_id, action))
    for run_id, action in actions:
        log.warning("recovery: run %s %s (stale heartbeat)", run_id, action)
    return actions


def abandon_run(url: str, run_id: int, *, reason: str, enqueue: Callable[[Session, int], object] | None) -> str | None:
    """The process executing a run is known dead (its supervisor reaped it): requeue or fail
    the run now, with the reason; None if the run had already ended. A run the dead process
    never claimed is failed (requeueing it would not count an attempt, so could loop)."""
    with session_scope(url) as s:
        row = s.execute(
            select(OptimizationRun.status, OptimizationRun.attempts).where(OptimizationRun.id == run_id)
        ).first()
        if row is None:
            return None
        if row.status == RunStatus.QUEUED:
            fail_run(url, run_id, f"{reason} before it started the run")
            return RunStatus.FAILED
        if row.status != RunStatus.RUNNING:
            return None
        return _give_up(s, run_id, row.attempts, enqueue, lost=reason)


def _give_up(
    s: Session, run_id: int, attempts: int, enqueue: Callable[[Session, int], object] | None, *, lost: str
) -> str | None:
    """Requeue or fail a lost run, guarded by the attempt seen; the action taken, or None."""
    guard = _owned(run_id, attempts)
    if enqueue is not None and attempts < MAX_ATTEMPTS:
        values: dict[str, Any] = {
            "status": RunStatus.QUEUED,
            "heartbeat_at": None,
            "progress": None,
            "error": f"worker lost during attempt {attempts} ({lost}); requeued",
        }
    else:
        values = {
            "status": RunStatus.FAILED,
            "finished_at": utcnow(),
            "error": f"worker lost ({lost} after {attempts} attempt(s))",
        }
    if len(audited_update(s, OptimizationRun, *guard, values={**values, "version": OptimizationRun.version + 1})) != 1:
        return None
    if values["status"] == RunStatus.QUEUED:
        assert enqueue is not None
        enqueue(s, run_id)
        return "requeued"
    return RunStatus.FAILED


def queued_run_ids(url: str) -> list[int]:
    with session_scope(url) as s:
        return list(
            s.scalars(
                select(OptimizationRun.id)
                .where(OptimizationRun.status == RunStatus.QUEUED)
                .order_by(OptimizationRun.id)
            )
        )
