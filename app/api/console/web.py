"""What every console page shares: the signed-in caller, the CSRF check, rendering, headers,
and errors shown as pages (or a redirect to the sign-in page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BeforeValidator
from starlette.datastructures import FormData

from app.api.deps import SessionDep
from app.api.problems import problem_response, validation_problem
from app.errors import Problem, msg
from app.rendering import render
from app.services import console_sessions as sessions
from app.services.audit import Actor, set_actor
from app.services.console_sessions import SignedIn
from app.services.identity import Caller

# Scripts only from this service (no inline script anywhere); inline style attributes stay
# allowed for the server-rendered SVG charts. Nothing may be loaded from another origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CSP,
}


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


BlankIsNone = BeforeValidator(_blank_is_none)
"""A filter form sends every field, the unchosen ones empty: an empty query value means 'not given'."""


class SignInRequired(Exception):
    """No live console session: browsers are sent to the sign-in page."""


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "text/html" not in accept


class ConsoleRoute(APIRoute):
    """Errors of console pages: a redirect to /login when signed out, else an HTML error page
    (problem+json for a client that asks for JSON)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.headers.get("hx-request"):
                    return Response(status_code=401, headers={"HX-Redirect": "/login"})
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            except (Problem, RequestValidationError) as exc:
                problem = exc if isinstance(exc, Problem) else validation_problem(exc)
                if wants_json(request):
                    return problem_response(problem, request)
                caller = getattr(request.state, "caller", None)
                signed = getattr(request.state, "signed_in", None)
                html = render.render(
                    "console/error.html",
                    title=f"{problem.status}",
                    status=problem.status,
                    problem=problem,
                    me=caller,
                    csrf=signed.csrf_token if signed else None,
                    nav=None,
                )
                return HTMLResponse(
                    html, status_code=problem.status, headers={**PAGE_HEADERS, **(problem.headers or {})}
                )

        return route


def signed_in(request: Request, session: SessionDep) -> SignedIn:
    found = sessions.resolve(session, token=request.cookies.get(sessions.COOKIE_NAME))
    if found is None:
        raise SignInRequired
    request.state.caller = found.caller
    request.state.signed_in = found
    set_actor(session, actor=Actor.for_console(found.caller, request_id=getattr(request.state, "request_id", None)))
    return found


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


@dataclass(frozen=True)
class Posted:
    """A console POST that passed the CSRF check: who sent it and its form fields."""

    signed: SignedIn
    form: FormData
    htmx: bool = False  # sent by htmx (answer with a fragment), not by a plain form

    @property
    def caller(self) -> Caller:
        return self.signed.caller

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def texts(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]


async def csrf_checked(request: Request, signed: SignedInDep) -> Posted:
    """Every console POST carries the session's CSRF token (form field or X-CSRF-Token header)."""
    form = await request.form()
    token = request.headers.get(sessions.CSRF_HEADER)
    if not token:
        value = form.get(sessions.CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not signed.csrf_ok(token):
        raise Problem(403, "csrf_failed", msg("csrf_form"))
    return Posted(signed=signed, form=form, htmx=is_htmx(request))


PostDep = Annotated[Posted, Depends(csrf_checked)]


def page(signed: SignedIn | None, template: str, *, nav: str | None, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a console template with what the layout needs (who, CSRF token, active menu)."""
    caller: Caller | None = signed.caller if signed else context.pop("me", None)
    html = render.render(
        template,
        me=caller,
        csrf=signed.csrf_token if signed else None,
        nav=nav,
        can=(lambda action: caller is not None and sessions.can(caller, action=action)),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def see_other(url: str) -> RedirectResponse:
    """After a successful form POST: go to the result page (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def coming_week(today: date | None = None) -> str:
    """The ISO week that starts next Monday (a week ahead when today is a Monday)."""
    today = today or date.today()
    monday = today + timedelta(days=7 - today.weekday())
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))
