"""Which finished runs may be published (app.services.runs.publish.publishable)."""

from __future__ import annotations

from app.domain.enums import RunStatus
from app.models import OptimizationRun
from app.services.runs.publish import publishable
from app.solver import SolverStatus


def _run(status: RunStatus, solver_status: SolverStatus | None, **stats) -> OptimizationRun:
    return OptimizationRun(status=status, solver_status=solver_status, stats=stats)


def test_a_succeeded_run_is_publishable():
    assert publishable(_run(RunStatus.SUCCEEDED, SolverStatus.OPTIMAL, partial=False))


def test_a_run_cancelled_after_candidate_generation_keeps_its_best_plan():
    assert publishable(_run(RunStatus.CANCELLED, SolverStatus.CANCELLED, partial=True, candidates_complete=True))
    assert publishable(_run(RunStatus.CANCELLED, SolverStatus.CANCELLED, partial=True))  # runs stored before the flag


def test_a_run_cancelled_during_candidate_generation_is_not_publishable():
    run = _run(RunStatus.CANCELLED, SolverStatus.CANCELLED, partial=True, candidates_complete=False)
    assert not publishable(run)


def test_failed_and_queued_runs_are_not_publishable():
    assert not publishable(_run(RunStatus.FAILED, None))
    assert not publishable(_run(RunStatus.QUEUED, None))
