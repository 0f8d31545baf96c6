"""Sign-in and sign-out of the office console (rules in app.services.console_sessions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.api.console.web import ConsoleRoute, PostDep, page, see_other
from app.api.deps import SessionDep, SettingsDep
from app.errors import Problem, msg
from app.i18n import t
from app.i18n.problem_text import problem_text
from app.services import console_sessions as sessions
from app.services.console_sessions import NewSession

router = APIRouter(tags=["console"], route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never another origin) is a place to go after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


def _set_session_cookie(response: Response, request: Request, new: NewSession, hours: float) -> None:
    response.set_cookie(
        sessions.COOKIE_NAME,
        new.token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(sessions.LOGIN_CSRF_COOKIE, path="/login")


def _login_form(request: Request, *, error: str | None = None, status: int = 200, next_url: str = "") -> Response:
    token = sessions.new_login_csrf()
    response = page(
        None,
        "console/login.html",
        nav=None,
        status=status,
        title=_title(),
        login_csrf=token,
        error=error,
        next_url=next_url,
    )
    return _with_login_csrf(response, request, token)


def _with_login_csrf(response: Response, request: Request, token: str) -> Response:
    """The sign-in forms' CSRF token also goes into a cookie only /login reads (double submit)."""
    response.set_cookie(
        sessions.LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


def _check_login_csrf(request: Request, csrf_token: str) -> None:
    if not sessions.login_csrf_ok(request.cookies.get(sessions.LOGIN_CSRF_COOKIE), csrf_token):
        raise Problem(403, "csrf_failed", msg("csrf_sign_in"))


def _title() -> str:
    return t("console.login.title")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    """Signed in: the dashboard; signed out: the sign-in page."""
    signed = sessions.resolve(session, token=request.cookies.get(sessions.COOKIE_NAME))
    return see_other("/console" if signed else "/login")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:  # noqa: A002 - the query parameter's name
    return _login_form(request, next_url=_safe_next(next) if next else "")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002 - the form field's name
) -> Response:
    _check_login_csrf(request, csrf_token)
    if not api_key.strip():
        return _login_form(request, error=problem_text(Problem(401, "missing_api_key")), status=401, next_url=next)
    try:
        new = sessions.sign_in_with_key(session, raw_key=api_key, hours=settings.console_session_hours)
    except Problem as exc:
        session.rollback()
        return _login_form(request, error=problem_text(exc), status=401, next_url=next)
    response = see_other(_safe_next(next))
    _set_session_cookie(response, request, new, settings.console_session_hours)
    return response


@router.get("/login/link/{token}", response_class=HTMLResponse)
def link_page(request: Request, token: str) -> Response:
    """A confirm button, so a link preview or prefetch does not use up the one-time link."""
    csrf = sessions.new_login_csrf()
    response = page(None, "console/link.html", nav=None, title=_title(), token=token, login_csrf=csrf)
    return _with_login_csrf(response, request, csrf)


@router.post("/login/link/{token}", response_class=HTMLResponse)
def redeem_link(
    request: Request,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _check_login_csrf(request, csrf_token)
    new = sessions.redeem_sign_in_link(session, token=token, hours=settings.console_session_hours)
    response = see_other("/console")
    _set_session_cookie(response, request, new, settings.console_session_hours)
    return response


@router.post("/logout")
def logout(request: Request, _signed: PostDep, session: SessionDep) -> Response:
    sessions.sign_out(session, token=request.cookies.get(sessions.COOKIE_NAME))
    response = see_other("/login")
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response
