"""Server-rendered report pages for district office staff (`/reports/...`).

Authentication: the same API keys as the JSON API, sent either as
`Authorization: Bearer <key>` or as `?key=<key>` so staff can open a link in a browser.
Trade-off of the query parameter: a key in a URL can end up in browser history,
bookmarks and proxy logs. We limit the damage: the access log records only the path
(never the query string), pages send `Referrer-Policy: no-referrer` and
`Cache-Control: no-store`, pages make no outside requests, and a read-only or liaison
key is what such links should carry. A liaison key sees only its own area's rows.
Signed in to the office console, the session cookie is enough (the console never puts a key in a
URL); the pages share the console's layout and navigation.

Errors: problem+json for API clients (Accept names JSON and not HTML), a small HTML
page for browsers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from app.api.console.web import PAGE_HEADERS
from app.api.deps import SessionDep, raw_api_key
from app.api.problems import problem_response, validation_problem
from app.api.schemas.common import DbId, OpenAPIResponses
from app.errors import Problem, msg
from app.rendering import render
from app.services import console_sessions
from app.services import reports as service
from app.services.api_keys import authenticate
from app.services.identity import Caller


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "text/html" not in accept


class PageRoute(APIRoute):
    """Renders errors of page routes as HTML for browsers, problem+json for API clients."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except (Problem, RequestValidationError) as exc:
                problem = exc if isinstance(exc, Problem) else validation_problem(exc)
                if wants_json(request):
                    return problem_response(problem, request)
                html = render.error_page(problem.status, problem.title, problem.detail)
                return HTMLResponse(
                    html, status_code=problem.status, headers={**PAGE_HEADERS, **(problem.headers or {})}
                )

        return route


def _error_response(description: str) -> dict[str, Any]:
    """Errors of a page come as HTML for a browser, as problem+json for a client that asks for JSON."""
    return {
        "description": description,
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
        },
    }


PAGE_RESPONSES: OpenAPIResponses = {
    status: _error_response(text)
    for status, text in {
        400: "Malformed request",
        401: "Missing or invalid API key",
        403: "Role not allowed",
        404: "Not found (or not visible to this key)",
        422: "Validation failed",
    }.items()
}

router = APIRouter(
    prefix="/reports", tags=["pages"], route_class=PageRoute, include_in_schema=True, responses=PAGE_RESPONSES
)


def page_caller(
    request: Request,
    session: SessionDep,
    key: Annotated[str | None, Query(description="API key, for links opened in a browser.")] = None,
) -> Caller:
    raw = raw_api_key(request) or key
    if not raw:  # a console session works too (the console links here without a key)
        signed = console_sessions.resolve(session, token=request.cookies.get(console_sessions.COOKIE_NAME))
        if signed is not None:
            request.state.caller = signed.caller
            return signed.caller
        raise Problem(
            401,
            "missing_api_key",
            msg("missing_api_key_page"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = authenticate(session, raw=raw)
    request.state.caller = caller
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/runs/{run_id}", response_class=HTMLResponse, summary="Run report page (HTML)")
def run_page(run_id: DbId, caller: PageCaller, session: SessionDep):
    """The run's figures beside both baselines, cross-area flows, member loads, coverage and unmet demands."""
    return _page(render.run_page(service.run_report(session, caller, run_id=run_id), me=caller, nav="runs"))


@router.get("/duty/{year}", response_class=HTMLResponse, summary="Annual duty page (HTML)")
def duty_page(year: Annotated[int, Path(ge=2000, le=2100)], caller: PageCaller, session: SessionDep):
    """Duty compliance by group (stacked bars) and the members missing each kind."""
    return _page(render.duty_page(service.duty_report(session, caller, year=year, by="group"), me=caller, nav="duty"))
