"""Reports (`/v1/reports/...`): JSON by default, CSV or XLSX on request.

The format comes from `?format=json|csv|xlsx` if given, else from the `Accept` header
(text/csv, the XLSX media type, or JSON for application/json, */* or no header). An
Accept header naming only formats we do not produce gets a 406 problem. CSV headers are
the stable machine keys; XLSX headers are the Chinese labels office staff read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from app.api.deps import CallerDep, SessionDep
from app.api.http import CSV, XLSX, FormatQ, negotiate
from app.api.schemas.common import PROBLEM_RESPONSES, DbId, OpenAPIResponses, ServiceDate
from app.api.schemas.reports import DutyReportOut, NeedsReportOut, RunReportOut, SkillGapReportOut
from app.api.unit_of_work import UnitOfWorkRoute
from app.services import reports as service
from app.services.reports.table import Table, to_csv, to_xlsx

router = APIRouter(
    route_class=UnitOfWorkRoute,
    prefix="/v1/reports",
    tags=["reports"],
    responses={**PROBLEM_RESPONSES, 406: {"description": "Accept names no format this report is produced in"}},
)

_FILE_CONTENT: OpenAPIResponses = {
    200: {"content": {CSV: {}, XLSX: {}}, "description": "The report (JSON, CSV or XLSX)"}
}


def respond(fmt: str, body, tables: list[Table], filename: str):
    if fmt == "csv":
        return Response(
            to_csv(tables[0]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(*tables),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    return JSONResponse(jsonable_encoder(body, by_alias=True))


@router.get(
    "/duty",
    response_model=DutyReportOut,
    responses=_FILE_CONTENT,
    summary="Annual duty compliance per member, group or area",
)
def duty(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year (default this year)")] = None,
    by: Annotated[Literal["member", "group", "area"], Query()] = "member",
    format: FormatQ = None,
):
    """Records per kind (suggestion 建议, information 信息, activity 活动); `met` = at least one of each.
    CSV columns for by=member: member_id, name, group, home_area, suggestion, information, activity, met, missing
    (kinds joined by ';')."""
    fmt = negotiate(request, format)
    year = year or date.today().year
    report = service.duty_report(session, caller, year=year, by=by)
    return respond(fmt, DutyReportOut.model_validate(report), [report.table()], f"duty-{year}-{by}")


@router.get(
    "/needs",
    response_model=NeedsReportOut,
    responses=_FILE_CONTENT,
    summary="Demands raised, covered and unmet (with causes), speed, response methods, satisfaction",
)
def needs(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    date_from: Annotated[
        ServiceDate | None, Query(alias="from", description="First day (default 1 Jan this year)")
    ] = None,
    date_to: Annotated[
        ServiceDate | None, Query(alias="to", description="Last day, inclusive (default 31 Dec)")
    ] = None,
    by: Annotated[Literal["area", "skill"], Query()] = "area",
    format: FormatQ = None,
):
    fmt = negotiate(request, format)
    report = service.needs_report(session, caller, date_from=date_from, date_to=date_to, by=by)
    return respond(
        fmt, NeedsReportOut.model_validate(report), [report.table()], f"needs-{report.date_from}-{report.date_to}-{by}"
    )


@router.get(
    "/skill-gaps",
    response_model=SkillGapReportOut,
    responses=_FILE_CONTENT,
    summary="Skills most often required but unmet, and how many members hold them",
)
def skill_gaps(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    date_from: Annotated[ServiceDate | None, Query(alias="from")] = None,
    date_to: Annotated[ServiceDate | None, Query(alias="to")] = None,
    format: FormatQ = None,
):
    fmt = negotiate(request, format)
    report = service.skill_gap_report(session, caller, date_from=date_from, date_to=date_to)
    return respond(
        fmt,
        SkillGapReportOut.model_validate(report),
        [report.table()],
        f"skill-gaps-{report.date_from}-{report.date_to}",
    )


@router.get(
    "/runs/{run_id}",
    response_model=RunReportOut,
    responses=_FILE_CONTENT,
    summary="A run's figures beside its baselines, flows, loads, coverage and unmet demands",
)
def run(run_id: DbId, request: Request, caller: CallerDep, session: SessionDep, format: FormatQ = None):
    """CSV carries the metrics table; XLSX adds one sheet each for coverage, flows, loads and unmet demands."""
    fmt = negotiate(request, format)
    report = service.run_report(session, caller, run_id=run_id)
    return respond(fmt, RunReportOut.model_validate(report), report.tables(), f"run-{run_id}")
