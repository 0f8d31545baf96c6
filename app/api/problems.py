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

from app.errors import PROBLEM_TYPE_PREFIX, Problem, field_error, problem_document

log = logging.getLogger("app.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = PROBLEM_TYPE_PREFIX


def problem_body(problem: Problem, request: Request | None = None) -> dict[str, Any]:
    """The problem document plus where it happened (path and request id) for an HTTP answer."""
    body = problem_document(problem)
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    return body


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem_body(problem, request),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _loc_to_field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else (f"{where}.{'.'.join(rest)}" if rest else where)
    return ".".join(parts)


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem(
            400,
            "malformed_json",
            "The request body is not valid JSON.",
            errors=[field_error("body", "malformed JSON", "json_invalid")],
        )
    fields = []
    for e in errors:
        loc = e.get("loc", ())
        fields.append(field_error(_loc_to_field(loc), str(e.get("msg", "invalid")), str(e.get("type", "invalid"))))
    names = ", ".join(sorted({f["field"] for f in fields}))
    return Problem(422, "validation_error", f"Invalid fields: {names}", errors=fields)


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
        return problem_response(Problem(exc.status_code, detail=detail, headers=getattr(exc, "headers", None)), request)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, _exc: StaleDataError):
        return problem_response(
            Problem(409, "concurrent_update", "The object was changed by another request; re-read and retry."), request
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error: %s", exc.orig)
        return problem_response(
            Problem(409, "conflict", "The change conflicts with stored data (duplicate or missing reference)."), request
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # Backstop: request schemas bound ids and refuse NUL/NaN, so reaching here means a value
        # slipped past them (e.g. out of a column's range); it is still the client's input, not a 500.
        log.warning("database refused a value: %s", exc.orig)
        return problem_response(Problem(422, "invalid_value", "A value is out of range or not storable."), request)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError):
        log.error("database unavailable: %s", exc.orig)
        return problem_response(
            Problem(503, "database_unavailable", "The database is busy or unreachable; retry."), request
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception):
        log.exception("unhandled error")
        return problem_response(Problem(500), request)
