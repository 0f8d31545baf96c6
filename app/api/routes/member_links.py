"""Members' personal pages: ``/t/{token}`` (one task) and ``/m/{token}`` (all their tasks).

No account and no API key: the unguessable token in the path is the credential (see
``app.services.notifications.links``). Pages are Chinese, work at 360 px without JavaScript,
and load nothing from outside. Every form is a POST carrying the link's ``nonce``; a request
whose ``Origin`` is another site is refused, so another page cannot post in the member's name
(and no cookie exists that a browser could attach). After a POST the browser is sent back to
the page (303), so a reload never answers twice. Links are rate-limited per token and per
client address (429, a Chinese page or problem+json). Answers go through the assignment
service, on the API's rules.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import SessionDep
from app.api.problems import problem_response
from app.api.routes.pages import wants_json
from app.domain.enums import LinkKind, ResponseMethod
from app.errors import Problem
from app.i18n import t
from app.models import MemberLink
from app.rendering.render import render
from app.services import member_tasks
from app.services.audit import Actor, set_actor
from app.services.notifications.links import LinkProblem, nonce_ok, token_hash
from app.services.ratelimit import link_limiter
from app.settings import NotifySettings

HEADERS = {
    "Cache-Control": "no-store",
    # same-origin: the token never goes to another site, and our own form posts keep their Origin.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
_LINK_STATUS = {"unknown": 404, "expired": 410, "revoked": 410}
MAX_FORM_BYTES = 16 * 1024

router = APIRouter(tags=["member links"], include_in_schema=False)
Token = Annotated[str, Path(max_length=200)]


def _html(template: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(render(template, t=t, **context), status_code=status, headers=HEADERS)


def _message(request: Request, status: int, key: str, back: str | None = None, **params) -> Response:
    heading, body = t(f"link.error.{key}.title"), t(f"link.error.{key}.body", **params)
    if wants_json(request):
        return problem_response(Problem(status, f"link_{key}", body, title=heading), request)
    return _html("member/message.html", status, title=heading, heading=heading, body=body, back=back)


def _limited(request: Request, token: str) -> Response | None:
    cfg = NotifySettings()
    client = request.client.host if request.client else "?"
    wait = max(
        link_limiter.hit("token:" + token_hash(token)[:32], cfg.link_rate_per_token),
        link_limiter.hit("client:" + client, cfg.link_rate_per_client),
    )
    if not wait:
        return None
    response = _message(request, 429, "rate", seconds=int(wait) + 1)
    response.headers["Retry-After"] = str(int(wait) + 1)
    return response


def _foreign_origin(request: Request) -> bool:
    """A POST that says it comes from another site. ``Origin: null`` (privacy settings, no-referrer
    policies) says nothing and is let through: the nonce, known only to the token's holder, decides."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:MAX_FORM_BYTES]
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items() if v}


def _open(session, request: Request, token: str, kind: LinkKind) -> MemberLink | Response:
    limited = _limited(request, token)
    if limited is not None:
        return limited
    try:
        link = member_tasks.open_link(session, token=token, kind=kind)
    except LinkProblem as exc:
        return _message(request, _LINK_STATUS[exc.reason], exc.reason)
    rid = getattr(request.state, "request_id", None)
    set_actor(session, actor=Actor.for_member_link(member_id=link.member_id, link_id=link.id, request_id=rid))
    return link


def _task_context(link: MemberLink, task, action: str) -> dict:
    return {
        "task": task,
        "action": action,
        "nonce": link.form_nonce,
        "reasons": member_tasks.DECLINE_REASONS,
        "methods": [m.value for m in ResponseMethod],
    }


async def _open_form(
    session, request: Request, token: str, kind: LinkKind, back: str
) -> tuple[MemberLink, dict[str, str]] | Response:
    """A member's POST: the live link and its form, or the page that refuses it (rate limit,
    expired/revoked link, another site's form or a wrong nonce)."""
    link = _open(session, request, token, kind)
    if isinstance(link, Response):
        return link
    form = await _form(request)
    if _foreign_origin(request) or not nonce_ok(link, form.get("nonce")):
        return _message(request, 403, "form", back=back)
    return link, form


def _answer_problem(request: Request, exc: Problem, back: str) -> Response:
    key = "invalid" if exc.status == 422 else "conflict"
    return _message(request, exc.status, key, back=back, detail=exc.detail or exc.code)


@router.get("/t/{token}", response_class=HTMLResponse)
def task_page(token: Token, request: Request, session: SessionDep, done: str | None = None):
    link = _open(session, request, token, LinkKind.TASK)
    if isinstance(link, Response):
        return link
    task = member_tasks.task_view(member_tasks.assignment_of(session, link=link))
    done = done if done in ("accepted", "declined", "completed") else None
    return _html("member/task.html", title=t("link.task.title"), done=done, **_task_context(link, task, f"/t/{token}"))


@router.post("/t/{token}")
async def task_answer(token: Token, request: Request, session: SessionDep):
    opened = await _open_form(session, request, token, LinkKind.TASK, f"/t/{token}")
    if isinstance(opened, Response):
        return opened
    link, form = opened
    try:
        state = member_tasks.answer(session, link=link, action=form.get("action", ""), form=form)
    except Problem as exc:
        session.rollback()  # nothing of a refused answer is kept (the request's unit of work commits the rest)
        return _answer_problem(request, exc, f"/t/{token}")
    return RedirectResponse(f"/t/{token}?done={state}", status_code=303, headers=HEADERS)


@router.get("/m/{token}", response_class=HTMLResponse)
def member_page(token: Token, request: Request, session: SessionDep, done: str | None = None):
    link = _open(session, request, token, LinkKind.MEMBER)
    if isinstance(link, Response):
        return link
    tasks = [
        {"task": member_tasks.task_view(a), "action": f"/m/{token}/tasks/{a.id}"}
        for a in member_tasks.open_tasks(session, link=link)
    ]
    done_text = None
    if done in ("accepted", "declined", "completed"):
        done_text = t(f"link.done.{done}")
    elif done == "blackout":
        done_text = t("link.blackout.saved")
    return _html(
        "member/member.html",
        title=t("link.member.title"),
        name=member_tasks.member_name(session, link=link),
        tasks=tasks,
        nonce=link.form_nonce,
        reasons=member_tasks.DECLINE_REASONS,
        methods=[m.value for m in ResponseMethod],
        blackouts=member_tasks.blackouts(session, link=link),
        blackout_action=f"/m/{token}/blackout",
        done=bool(done_text),
        done_text=done_text,
    )


@router.post("/m/{token}/tasks/{assignment_id}")
async def member_answer(
    token: Token, assignment_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request, session: SessionDep
):
    opened = await _open_form(session, request, token, LinkKind.MEMBER, f"/m/{token}")
    if isinstance(opened, Response):
        return opened
    link, form = opened
    try:
        state = member_tasks.answer(
            session, link=link, action=form.get("action", ""), form=form, assignment_id=assignment_id
        )
    except Problem as exc:
        session.rollback()
        if exc.status == 404:
            return _message(request, 404, "unknown")
        return _answer_problem(request, exc, f"/m/{token}")
    return RedirectResponse(f"/m/{token}?done={state}", status_code=303, headers=HEADERS)


@router.post("/m/{token}/blackout")
async def member_blackout(token: Token, request: Request, session: SessionDep):
    opened = await _open_form(session, request, token, LinkKind.MEMBER, f"/m/{token}")
    if isinstance(opened, Response):
        return opened
    link, form = opened
    try:
        member_tasks.set_blackout(session, link=link, add=form.get("add"), remove=form.get("remove"))
    except Problem as exc:
        session.rollback()
        return _answer_problem(request, exc, f"/m/{token}")
    return RedirectResponse(f"/m/{token}?done=blackout", status_code=303, headers=HEADERS)
