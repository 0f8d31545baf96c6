"""派单: who goes where in a week, grouped by day, area or member; accept / decline / complete on
a member's behalf; the same view as XLSX, CSV (UTF-8 with BOM) and a print page (one area per page).
State changes go through app.services.assignments, exactly as the JSON API's."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import parse_qs, urlparse

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.api.console.web import (
    PAGE_HEADERS,
    ConsoleRoute,
    PostDep,
    Posted,
    SignedInDep,
    coming_week,
    page,
    see_other,
)
from app.api.deps import SessionDep
from app.api.http import XLSX
from app.api.schemas.assignments import CompleteIn, DeclineIn
from app.api.schemas.common import DbId
from app.domain.enums import ResponseMethod
from app.errors import Problem
from app.i18n import t
from app.i18n.problem_text import problem_text
from app.schemas.common import from_form
from app.services import assignments as assignment_service
from app.services.console_sessions import require
from app.services.demand_search import form_choices
from app.services.week_plan import WeekPlan, plan_csv, plan_xlsx, week_plan

router = APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)
WeekQ = Annotated[str | None, Query(max_length=10)]
AreaQ = Annotated[str | None, Query(max_length=20)]


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    signed: SignedInDep,
    session: SessionDep,
    week: WeekQ = None,
    by: Literal["day", "area", "member"] = "day",
    area: AreaQ = None,
) -> HTMLResponse:
    plan = week_plan(session, signed.caller, week=week or coming_week(), area=area or None)
    return page(
        signed,
        "console/plan.html",
        nav="plan",
        title=t("console.plan.title", week=plan.window.week),
        plan=plan,
        groups=plan.grouped(by),
        by=by,
        area=area or "",
        week=plan.window.week,
        areas=form_choices(session, signed.caller).areas,
        methods=list(ResponseMethod),
        back=f"/console/plan?week={plan.window.week}&by={by}" + (f"&area={area}" if area else ""),
    )


@router.get("/plan/print", response_class=HTMLResponse)
def plan_print(signed: SignedInDep, session: SessionDep, week: WeekQ = None, area: AreaQ = None) -> HTMLResponse:
    plan = week_plan(session, signed.caller, week=week or coming_week(), area=area or None)
    return page(
        signed,
        "console/plan_print.html",
        nav="plan",
        title=t("console.plan.print_title", week=plan.window.week),
        plan=plan,
        groups=plan.grouped("area"),
        week=plan.window.week,
    )


def _download(body: bytes, media_type: str, filename: str) -> Response:
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/plan.xlsx")
def plan_export_xlsx(signed: SignedInDep, session: SessionDep, week: WeekQ = None, area: AreaQ = None) -> Response:
    plan = week_plan(session, signed.caller, week=week or coming_week(), area=area or None)
    return _download(plan_xlsx(plan), XLSX, f"plan-{plan.window.week}.xlsx")


@router.get("/plan.csv")
def plan_export_csv(signed: SignedInDep, session: SessionDep, week: WeekQ = None, area: AreaQ = None) -> Response:
    plan = week_plan(session, signed.caller, week=week or coming_week(), area=area or None)
    return _download(plan_csv(plan), "text/csv; charset=utf-8", f"plan-{plan.window.week}.csv")


def _after_action(posted: Posted, session: SessionDep, assignment_id: int, error: str | None = None) -> Response:
    """htmx: the updated row alone; a plain form: back to the plan page."""
    back = posted.text("back")
    if not back.startswith("/console/plan"):
        back = "/console/plan"
    if not posted.htmx:
        if error:
            raise Problem(422, "validation_error", error)
        return see_other(back)
    row = next((r for r in _plan_of(posted, session, back).rows if r.assignment_id == assignment_id), None)
    return page(
        posted.signed,
        "console/plan_row.html",
        nav=None,
        r=row,
        back=back,
        methods=list(ResponseMethod),
        row_error=error,
        assignment_id=assignment_id,
    )


def _plan_of(posted: Posted, session: SessionDep, back: str) -> WeekPlan:
    params = parse_qs(urlparse(back).query)
    week = (params.get("week") or [coming_week()])[0]
    return week_plan(session, posted.caller, week=week)


@router.post("/assignments/{assignment_id}/accept")
def accept(assignment_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="assignment.respond")
    assignment_service.accept(
        session, posted.caller, assignment_id=assignment_id, if_match=f'"v{posted.text("version")}"'
    )
    return _after_action(posted, session, assignment_id)


@router.post("/assignments/{assignment_id}/decline")
def decline(assignment_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="assignment.respond")
    try:
        payload = from_form(DeclineIn, {"reason": posted.text("reason")})
    except ValidationError:
        return _after_action(posted, session, assignment_id, t("console.plan.reason_required"))
    assignment_service.decline(
        session,
        posted.caller,
        assignment_id=assignment_id,
        reason=payload.reason,
        if_match=f'"v{posted.text("version")}"',
    )
    return _after_action(posted, session, assignment_id)


@router.post("/assignments/{assignment_id}/complete")
def complete(assignment_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="assignment.complete")
    data = {
        "response_method": posted.text("response_method") or None,
        "outcome": posted.text("outcome") or None,
        "satisfaction": posted.text("satisfaction") or None,
    }
    try:
        payload = from_form(CompleteIn, {k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        return _after_action(posted, session, assignment_id, t(f"console.plan.invalid.{field}"))
    try:
        assignment_service.complete(
            session,
            posted.caller,
            assignment_id=assignment_id,
            data=payload.model_dump(),
            if_match=f'"v{posted.text("version")}"',
        )
    except Problem as exc:
        if exc.status != 409 or not posted.htmx:
            raise
        session.rollback()
        return _after_action(posted, session, assignment_id, problem_text(exc))
    return _after_action(posted, session, assignment_id)
