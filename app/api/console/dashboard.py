"""本周概览: the week at a glance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from app.api.console.web import ConsoleRoute, SignedInDep, coming_week, page
from app.api.deps import SessionDep
from app.i18n import t
from app.services.overview import week_overview

router = APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)
WeekQ = Annotated[str | None, Query(max_length=10, description="ISO week, e.g. 2026-W49")]


@router.get("", response_class=HTMLResponse)
def dashboard(signed: SignedInDep, session: SessionDep, week: WeekQ = None) -> HTMLResponse:
    overview = week_overview(session, signed.caller, week=week or coming_week())
    return page(
        signed,
        "console/dashboard.html",
        nav="dashboard",
        title=t("console.dashboard.title", week=overview.window.week),
        o=overview,
        week=overview.window.week,
    )
