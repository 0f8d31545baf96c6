"""履职: the annual duty report inside the console, and recording a suggestion or an information
report for a member (app.services.duty, as POST /v1/duty-records)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from annotated_types import Interval
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.api.console.web import BlankIsNone, ConsoleRoute, PostDep, SignedInDep, page, see_other
from app.api.deps import SessionDep
from app.api.schemas.duty import DutyRecordCreate
from app.domain.enums import DutyKind
from app.errors import Problem, field_error, msg
from app.i18n import t
from app.i18n.problem_text import errors_by_field, form_errors
from app.rendering import render
from app.schemas.common import from_form
from app.services import duty as duty_service
from app.services import reports as report_service
from app.services.console_sessions import require
from app.services.member_directory import member_choices

router = APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)
RECORDABLE = (DutyKind.SUGGESTION, DutyKind.INFORMATION)  # activities come from completed assignments


def _duty_page(signed, session, *, year: int, values: dict, errors: dict | None = None, status: int = 200,
               flash: str | None = None) -> HTMLResponse:  # fmt: skip
    report = report_service.duty_report(session, signed.caller, year=year, by="group")
    return page(
        signed,
        "console/duty.html",
        nav="duty",
        status=status,
        flash=flash,
        members=member_choices(session, signed.caller),
        kinds=RECORDABLE,
        v=values,
        errs=errors or {},
        year=year,
        **render.duty_page_context(report),
    )


def _empty() -> dict:
    return {"member_id": "", "kind": "suggestion", "date": date.today().isoformat(), "title": ""}


@router.get("/duty", response_class=HTMLResponse)
def duty_page(
    signed: SignedInDep,
    session: SessionDep,
    year: Annotated[Annotated[int, Interval(ge=2000, le=2100)] | None, BlankIsNone, Query()] = None,
    saved: bool = False,
) -> HTMLResponse:
    year = year or date.today().year
    flash = t("console.duty.saved") if saved else None
    return _duty_page(signed, session, year=year, values=_empty(), flash=flash)


@router.post("/duty")
def record_duty(posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="duty.write")
    values = {k: posted.text(k) for k in ("member_id", "kind", "date", "title")}
    year = date.today().year
    try:
        payload = from_form(DutyRecordCreate, {k: v for k, v in values.items() if v})
        if payload.kind not in RECORDABLE:
            raise Problem(
                422, "validation_error", msg("invalid_form"), errors=[field_error("kind", "", "literal_error")]
            )
        duty_service.create_record(session, posted.caller, data=payload.model_dump())
    except ValidationError as exc:
        errors = form_errors(exc)
        return _duty_page(posted.signed, session, year=year, values=values, errors=errors, status=422)
    except Problem as exc:
        session.rollback()
        if exc.status not in (403, 409, 422):
            raise
        return _duty_page(
            posted.signed,
            session,
            year=year,
            values=values,
            errors=errors_by_field(exc, fields=values),
            status=exc.status,
        )
    return see_other(f"/console/duty?year={payload.date.year}&saved=true")
