"""委员: the member directory (search by name incl. pinyin, group, area, skill) and a member's page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.api.console.web import BlankIsNone, ConsoleRoute, SignedInDep, coming_week, is_htmx, page
from app.api.deps import SessionDep
from app.api.schemas.common import DbId
from app.i18n import t
from app.services.demand_search import form_choices
from app.services.member_directory import groups_of, member_profile, search_members

router = APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/members", response_class=HTMLResponse)
def directory(
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    q: Text = None,
    group_id: Annotated[DbId | None, BlankIsNone, Query()] = None,
    area: Text = None,
    skill: Text = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    result = search_members(
        session, signed.caller, q=q, group_id=group_id, area=area or None, skill=skill or None, page=page_no
    )
    query = {k: v for k, v in {"q": q, "group_id": group_id, "area": area, "skill": skill}.items() if v}
    context: dict[str, Any] = {"result": result, "query": query}
    if is_htmx(request) and request.headers.get("hx-target") == "member-results":  # type-ahead: the list only
        return page(signed, "console/member_results.html", nav=None, **context)
    choices = form_choices(session, signed.caller)
    return page(
        signed,
        "console/members.html",
        nav="members",
        title=t("console.members.title"),
        groups=groups_of(session, signed.caller),
        areas=choices.areas,
        skills=choices.skills,
        **context,
    )


@router.get("/members/{member_id}", response_class=HTMLResponse)
def member_page(
    member_id: DbId, signed: SignedInDep, session: SessionDep, week: Annotated[str | None, Query(max_length=10)] = None
) -> HTMLResponse:
    profile = member_profile(session, signed.caller, member_id=member_id, week=week or coming_week())
    return page(
        signed, "console/member.html", nav="members", title=profile.member.name, p=profile, week=profile.window.week
    )
