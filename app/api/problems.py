"""RFC 9457 problem details: one error shape for every 4xx/5xx the service returns.

``type`` is a stable URN per error code so integrators can branch on it; ``errors``
names the offending fields for validation failures.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import PROBLEM_TYPE_PREFIX, Msg, Problem, field_error, msg, problem_document

log = logging.getLogger("app.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = PROBLEM_TYPE_PREFIX


def preferred_locale(accept_language: str | None) -> str:
    """'zh' when Accept-Language prefers Chinese (any zh-* tag) over English, else 'en'."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((accept_language or "").split(",")):
        tag, *options = [p.strip() for p in part.split(";")]
        q = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    q = float(option[2:])
                except ValueError:
                    q = 0.0
        lang = tag.lower().split("-")[0]
        if lang in ("zh", "en") and q > 0 and (best is None or (-q, index) < (-best[0], best[1])):
            best = (q, index, lang)
    return best[2] if best else "en"


def problem_body(problem: Problem, request: Request | None = None) -> dict[str, Any]:
    """The problem document plus where it happened (path and request id) for an HTTP answer,
    in Chinese when the request's Accept-Language prefers it."""
    locale = preferred_locale(request.headers.get("accept-language")) if request is not None else "en"
    body = problem_document(problem, locale)
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    return body


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    locale = preferred_locale(request.headers.get("accept-language")) if request is not None else "en"
    headers = {
        **(problem.headers or {}),
        "Content-Language": "zh-CN" if locale == "zh" else "en",
        "Vary": "Accept-Language",
    }
    return JSONResponse(
        problem_body(problem, request),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _loc_to_field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if len(parts) == 2 and parts[0] == "header":
        return parts[1]  # a header is named as sent: 'Idempotency-Key', 'If-Match'
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else (f"{where}.{'.'.join(rest)}" if rest else where)
    return ".".join(parts)


def precondition_required() -> Problem:
    return Problem(
        428,
        "precondition_required",
        msg("precondition_required"),
        errors=[field_error("If-Match", msg("header_missing"), "missing")],
    )


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = list(exc.errors())
    missing_if_match = [
        e for e in errors if tuple(e.get("loc", ())) == ("header", "If-Match") and e.get("type") == "missing"
    ]
    if missing_if_match and len(missing_if_match) == len(errors):
        return precondition_required()  # otherwise valid: 428 (RFC 6585); with other errors a 422 lists all
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem(
            400,
            "malformed_json",
            msg("malformed_json"),
            errors=[field_error("body", msg("malformed_json_field"), "json_invalid")],
        )
    fields = []
    for e in errors:
        loc = e.get("loc", ())
        fields.append(field_error(_loc_to_field(loc), str(e.get("msg", "invalid")), str(e.get("type", "invalid"))))
    names = ", ".join(sorted({f["field"] for f in fields}))
    return Problem(422, "validation_error", msg("validation_error", fields=names), errors=fields)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _http_detail(status: int, detail: str | None) -> Msg | str | None:
    """Starlette's own errors (404 of an unknown path, ...) carry its English reason phrase as
    detail; the catalogue says it in the caller's language."""
    if status == 404 and detail in (None, "Not Found"):
        return msg("no_such_path")
    return detail


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at this path (the 405's Allow header), found by
    asking each route whether it would take the request with that method."""
    from starlette.routing import Match

    scope = dict(request.scope)
    return [
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in request.app.router.routes)
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return problem_response(validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            text = msg("method_not_allowed", method=request.method, allow=headers["Allow"])
            return problem_response(Problem(405, detail=text, headers=headers), request)
        return problem_response(
            Problem(exc.status_code, detail=_http_detail(exc.status_code, detail), headers=headers or None), request
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, _exc: StaleDataError):
        # Two writers read the same version and both passed If-Match; the loser's UPDATE found the
        # version gone. Its precondition failed as surely as a stale ETag's: 412 (409 only for the
        # POST actions that may be sent without If-Match).
        if request.headers.get("if-match") is not None:
            return problem_response(
                Problem(
                    412,
                    "precondition_failed",
                    msg("lost_race"),
                ),
                request,
            )
        return problem_response(Problem(409, "concurrent_update", msg("concurrent_update")), request)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error: %s", exc.orig)
        return problem_response(Problem(409, "conflict", msg("conflict")), request)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # Backstop: request schemas bound ids and refuse NUL/NaN, so reaching here means a value
        # slipped past them (e.g. out of a column's range); it is still the client's input, not a 500.
        log.warning("database refused a value: %s", exc.orig)
        return problem_response(Problem(422, "invalid_value", msg("invalid_value")), request)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError):
        log.error("database unavailable: %s", exc.orig)
        return problem_response(Problem(503, "database_unavailable", msg("database_unavailable")), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception):
        log.exception("unhandled error")
        return problem_response(Problem(500, detail=msg("internal_error")), request)
