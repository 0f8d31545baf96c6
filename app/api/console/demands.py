"""民需: the demand table, create/edit forms with the API's validation shown per field, cancel,
skill type-ahead (pinyin) and 建议技能 (jieba). Rules stay in app.services.demands."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from annotated_types import Interval
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.api.console.web import BlankIsNone, ConsoleRoute, PostDep, Posted, SignedInDep, page, see_other
from app.api.deps import SessionDep
from app.api.schemas.common import DbId
from app.api.schemas.demands import DemandCreate, DemandUpdate
from app.domain.enums import Channel, DemandStatus
from app.errors import Problem
from app.i18n import t
from app.i18n.format import to_local
from app.i18n.problem_text import errors_by_field, form_errors
from app.schemas.common import from_form
from app.services import demands as demand_service
from app.services.console_sessions import require
from app.services.demand_search import PAGE_SIZES, SORTS, DemandFilters, form_choices, search_demands
from app.services.identity import Caller
from app.services.runs.service import parse_week
from app.services.skill_suggest import SkillSuggestion, find_skills, suggest_skills
from app.services.skills import normalize_token, token_index

router = APIRouter(prefix="/console", tags=["console"], route_class=ConsoleRoute, include_in_schema=False)
FORM_FIELDS = (
    "external_id", "community_id", "title", "description", "channel", "priority",
    "min_members", "max_members", "starts_at", "ends_at",
)  # fmt: skip
Text = Annotated[str | None, Query(max_length=200)]
IdQ = Annotated[DbId | None, BlankIsNone, Query()]


@router.get("/demands", response_class=HTMLResponse)
def demand_list(
    signed: SignedInDep,
    session: SessionDep,
    q: Text = None,
    area: Text = None,
    community_id: IdQ = None,
    status: Annotated[DemandStatus | None, BlankIsNone, Query()] = None,
    channel: Annotated[Channel | None, BlankIsNone, Query()] = None,
    priority: Annotated[Annotated[int, Interval(ge=1, le=5)] | None, BlankIsNone, Query()] = None,
    skill: Text = None,
    date_from: Annotated[date | None, BlankIsNone, Query()] = None,
    date_to: Annotated[date | None, BlankIsNone, Query()] = None,
    week: Annotated[str | None, Query(max_length=10)] = None,
    sort: Annotated[str, Query(max_length=20)] = "starts_at",
    desc: bool = False,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> HTMLResponse:
    if week and not (date_from or date_to):
        window = parse_week(week)
        date_from, date_to = window.start, window.end
    filters = DemandFilters(
        area=area or None,
        community_id=community_id,
        status=status,
        channel=channel,
        priority=priority,
        skill=skill or None,
        date_from=date_from,
        date_to=date_to,
        q=q or None,
    )
    result = search_demands(
        session, signed.caller, filters=filters, sort=sort, descending=desc, page=page_no, per_page=per_page
    )
    query = {k: v for k, v in vars(filters).items() if v not in (None, "")}
    return page(
        signed,
        "console/demands.html",
        nav="demands",
        title=t("console.demands.title"),
        result=result,
        f=filters,
        query={**query, "per_page": per_page},
        sort=sort,
        desc=desc,
        sorts=list(SORTS),
        page_sizes=PAGE_SIZES,
        choices=form_choices(session, signed.caller),
    )


def _values(posted: Posted) -> dict[str, Any]:
    values: dict[str, Any] = {k: posted.text(k) for k in FORM_FIELDS}
    values["required_skills"] = posted.texts("required_skills")
    return values


def _payload(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Form strings -> the API's request shape; blanks are left out (so a required one is 'missing')."""
    data: dict[str, Any] = {k: v for k, v in values.items() if k in FORM_FIELDS and v != ""}
    data["required_skills"] = values["required_skills"]
    if not creating:  # an emptied optional field clears it
        for optional in ("description", "external_id"):
            data.setdefault(optional, None)
    return data


def _skill_options(
    session: Session,
    caller: Caller,
    *,
    selected: list[str],
    q: str = "",
    suggestions: list[SkillSuggestion] | None = None,
) -> list[dict[str, Any]]:
    """Suggested skills first (checked, with why), then the chosen ones, then the matches of ``q``."""
    choices = form_choices(session, caller).skills
    by_code = {s.code: s for s in choices}
    index = token_index(session, district_id=caller.district_id)
    chosen = {index[normalize_token(c)].code for c in selected if normalize_token(c) in index}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for s in suggestions or []:
        out.append({"skill": s.skill, "checked": True, "why": s.matched_words})
        seen.add(s.skill.code)
    for code in [c for c in by_code if c in chosen]:
        if code not in seen:
            out.append({"skill": by_code[code], "checked": True, "why": None})
            seen.add(code)
    pool = find_skills(session, district_id=caller.district_id, query=q) if q else choices
    for skill in pool:
        if skill.code not in seen:
            out.append({"skill": skill, "checked": False, "why": None})
            seen.add(skill.code)
    return out


def _form_page(
    signed: Any,
    session: Session,
    *,
    values: dict[str, Any],
    demand: Any = None,
    errors: dict[str, str] | None = None,
    suggestions: list[SkillSuggestion] | None = None,
    status: int = 200,
    flash: str | None = None,
) -> HTMLResponse:
    caller = signed.caller
    return page(
        signed,
        "console/demand_form.html",
        nav="demands",
        status=status,
        title=t("console.demands.edit_title", id=demand.id) if demand else t("console.demands.new_title"),
        v=values,
        demand=demand,
        errs=errors or {},
        choices=form_choices(session, caller),
        channels=list(Channel),
        options=_skill_options(session, caller, selected=values["required_skills"], suggestions=suggestions),
        suggested=suggestions is not None,
        flash=flash,
    )


EMPTY = {**dict.fromkeys(FORM_FIELDS, ""), "priority": "3", "min_members": "1", "required_skills": []}


@router.get("/demands/new", response_class=HTMLResponse)
def new_demand(signed: SignedInDep, session: SessionDep) -> HTMLResponse:
    require(signed.caller, action="demand.write")
    return _form_page(signed, session, values=dict(EMPTY))


def _suggest(session: Session, caller: Caller, values: dict[str, Any]) -> list[SkillSuggestion]:
    text = f"{values.get('title', '')}\n{values.get('description', '')}"
    return suggest_skills(session, district_id=caller.district_id, text=text)


@router.post("/demands/new", response_class=HTMLResponse)
def create_demand(posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="demand.write")
    values = _values(posted)
    if posted.text("action") == "suggest":  # the 建议技能 button without JavaScript
        return _form_page(posted.signed, session, values=values, suggestions=_suggest(session, posted.caller, values))
    try:
        payload = from_form(DemandCreate, _payload(values, creating=True))
        demand = demand_service.create_demand(session, posted.caller, payload=payload)
    except ValidationError as exc:
        return _form_page(posted.signed, session, values=values, errors=form_errors(exc), status=422)
    except Problem as exc:
        session.rollback()
        if exc.status not in (404, 409, 422):
            raise
        return _form_page(posted.signed, session, values=values, errors=errors_by_field(exc), status=exc.status)
    return see_other(f"/console/demands/{demand.id}?saved=1")


def _values_of(demand: Any) -> dict[str, Any]:
    return {
        "external_id": demand.external_id or "",
        "community_id": str(demand.community_id),
        "title": demand.title,
        "description": demand.description or "",
        "channel": demand.channel,
        "priority": str(demand.priority),
        "min_members": str(demand.min_members),
        "max_members": str(demand.max_members),
        "starts_at": to_local(demand.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": to_local(demand.ends_at).strftime("%Y-%m-%dT%H:%M"),
        "required_skills": [s.code for s in demand.required_skills],
        "version": demand.version,
    }


@router.get("/demands/{demand_id}", response_class=HTMLResponse)
def demand_page(demand_id: DbId, signed: SignedInDep, session: SessionDep, saved: bool = False) -> HTMLResponse:
    demand = demand_service.get_demand(session, signed.caller, demand_id=demand_id)
    flash = t("console.saved") if saved else None
    return _form_page(signed, session, values=_values_of(demand), demand=demand, flash=flash)


@router.post("/demands/{demand_id}", response_class=HTMLResponse)
def update_demand(demand_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="demand.write")
    demand = demand_service.get_demand(session, posted.caller, demand_id=demand_id)
    values = {**_values(posted), "version": posted.text("version")}
    if posted.text("action") == "suggest":
        sugg = _suggest(session, posted.caller, values)
        return _form_page(posted.signed, session, values=values, demand=demand, suggestions=sugg)
    try:
        changes = from_form(DemandUpdate, _payload(values, creating=False)).model_dump(exclude_unset=True)
        demand_service.update_demand(
            session, posted.caller, demand_id=demand_id, changes=changes, if_match=f'"v{values["version"]}"'
        )
    except ValidationError as exc:
        errors = form_errors(exc)
        return _form_page(posted.signed, session, values=values, demand=demand, errors=errors, status=422)
    except Problem as exc:
        session.rollback()
        if exc.status not in (404, 409, 412, 422):
            raise
        errors = errors_by_field(exc)
        return _form_page(posted.signed, session, values=values, demand=demand, errors=errors, status=exc.status)
    return see_other(f"/console/demands/{demand_id}?saved=1")


@router.post("/demands/{demand_id}/cancel")
def cancel_demand(demand_id: DbId, posted: PostDep, session: SessionDep) -> Response:
    require(posted.caller, action="demand.write")
    demand_service.cancel_demand(session, posted.caller, demand_id=demand_id, if_match=f'"v{posted.text("version")}"')
    return see_other(f"/console/demands/{demand_id}?saved=1")


@router.get("/skills/picker", response_class=HTMLResponse)
def skill_picker(
    signed: SignedInDep,
    session: SessionDep,
    skill_q: Text = None,
    required_skills: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """Type-ahead (htmx): the chosen skills stay, then the catalogue entries matching the query."""
    options = _skill_options(session, signed.caller, selected=required_skills or [], q=skill_q or "")
    return page(signed, "console/skill_options.html", nav=None, options=options, suggested=False)


@router.post("/skills/suggest", response_class=HTMLResponse)
def skill_suggest(posted: PostDep, session: SessionDep) -> HTMLResponse:
    """建议技能 (htmx): suggestions from the form's title and description, each with why."""
    values = _values(posted)
    sugg = _suggest(session, posted.caller, values)
    options = _skill_options(session, posted.caller, selected=values["required_skills"], suggestions=sugg)
    return page(posted.signed, "console/skill_options.html", nav=None, options=options, suggested=True)
