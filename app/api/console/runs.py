"""优化: start a run (week, optional scope, main weights as bounded sliders), watch it live (htmx
polls a fragment while it is queued or running), cancel, compare with the baselines, see the diff
against the current plan, publish. The same services as /v1/optimization-runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from app.api.console.web import ConsoleRoute, PostDep, SignedInDep, coming_week, page, see_other
from app.api.deps import SessionDep, SettingsDep
from app.api.schemas.common import DbId
from app.domain.enums import ACTIVE_RUN_STATUSES
from app.errors import Problem
from app.i18n import t
from app.i18n.problem_text import errors_by_field
from app.rendering import render
from app.services import reports as report_service
from app.services.console_sessions import require
from app.services.demand_search import form_choices
from app.services.runs import service as run_service
from app.services.runs.console_weights import SLIDERS, weights_from_form
from app.services.runs.diff import plan_diff
from app.services.runs.executor import get_executor
from app.services.runs.publish import publish_run, publishable
from app.services.runs.service import run_view

router = APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)


def _runs_page(signed, session, settings, *, week: str, errors: dict[str, str] | None = None, status: int = 200):
    runs = run_service.list_runs(session, signed.caller, status=None, week=None, cursor=None, limit=200).items
    return page(
        signed,
        "console/runs.html",
        nav="runs",
        status=status,
        title=t("console.runs.title"),
        runs=sorted(runs, key=lambda r: -r.id)[:30],
        week=week,
        areas=form_choices(session, signed.caller).areas,
        sliders=SLIDERS,
        time_limit=settings.solver_time_limit_s,
        errs=errors or {},
    )


@router.get("/runs", response_class=HTMLResponse)
def runs_page(
    signed: SignedInDep,
    session: SessionDep,
    settings: SettingsDep,
    week: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    return _runs_page(signed, session, settings, week=week or coming_week())


@router.post("/runs")
def start_run(posted: PostDep, session: SessionDep, settings: SettingsDep) -> Response:
    require(posted.caller, action="run.manage")
    week = posted.text("week")
    try:
        data = {
            "week": week,
            "scope": posted.texts("scope") or None,
            "weights": weights_from_form({s.name: posted.text(s.name) for s in SLIDERS}),
            "time_limit_s": float(posted.text("time_limit_s")) if posted.text("time_limit_s") else None,
        }
        run = run_service.create_run(
            session,
            posted.caller,
            data=data,
            executor=get_executor(settings),
            default_time_limit_s=settings.solver_time_limit_s,
        )
    except ValueError:
        session.rollback()
        return _runs_page(posted.signed, session, settings, week=week, status=422,
                          errors={"time_limit_s": t("console.field_error.float_parsing")})  # fmt: skip
    except Problem as exc:
        session.rollback()
        if exc.status not in (409, 422):
            raise
        return _runs_page(posted.signed, session, settings, week=week, errors=errors_by_field(exc), status=exc.status)
    return see_other(f"/console/runs/{run.id}")


def _live_context(signed, session, run_id: int) -> dict:
    run = run_service.get_run(session, signed.caller, run_id=run_id)
    view = run_view(session, run=run)
    finished = run.status not in ACTIVE_RUN_STATUSES
    report = report_service.run_report(session, signed.caller, run_id=run_id) if finished and run.stats else None
    diff = plan_diff(session, signed.caller, run_id=run_id) if finished and publishable(run) else None
    return {"run": view, "active": not finished, "report": report, "diff": diff, "can_publish": publishable(run)}


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: DbId, signed: SignedInDep, session: SessionDep, published: bool = False) -> HTMLResponse:
    context = _live_context(signed, session, run_id)
    flash = t("console.runs.published_flash") if published else None
    return page(
        signed, "console/run.html", nav="runs", title=t("console.runs.run_n", id=run_id), flash=flash, **context
    )


@router.get("/runs/{run_id}/live", response_class=HTMLResponse)
def run_live(run_id: DbId, signed: SignedInDep, session: SessionDep) -> HTMLResponse:
    """The polled fragment: status and progress; once finished, the result, the diff and publish."""
    return page(signed, "console/run_live.html", nav=None, **_live_context(signed, session, run_id))


@router.get("/runs/{run_id}/report", response_class=HTMLResponse)
def run_report_page(run_id: DbId, signed: SignedInDep, session: SessionDep) -> HTMLResponse:
    """The run report (charts beside both baselines) inside the console."""
    report = report_service.run_report(session, signed.caller, run_id=run_id)
    return page(signed, "run.html", nav="runs", **render.run_page_context(report))


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="run.manage")
    run_service.cancel_run(session, posted.caller, run_id=run_id)
    return see_other(f"/console/runs/{run_id}")


@router.post("/runs/{run_id}/publish")
def publish(run_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="run.manage")
    publish_run(session, posted.caller, run_id=run_id)
    return see_other(f"/console/runs/{run_id}?published=true")
