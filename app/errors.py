"""Domain errors that every layer may raise; rendered as RFC 9457 problem details
by ``app.api.problems``. Living outside ``app.api`` keeps services free of web imports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raised anywhere below the routers; rendered as problem+json."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        members: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """``members`` and ``extra`` are RFC 9457 extension members of the body; ``members`` takes
        the ones whose names are no Python identifier (``from``) or are decided at run time."""
        super().__init__(detail or code or str(status))
        self.status = status
        self.code = code or _DEFAULT_CODES.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        self.detail = detail
        self.errors = errors
        self.headers = headers
        #: values for the translated detail (``problem.detail.<code>`` in the catalogue), given as
        #: ``params={...}``; taken out of ``extra`` so they are never rendered as members
        self.params: dict[str, Any] = dict(extra.pop("params", None) or {})
        self.extra = {**(members or {}), **extra}


PROBLEM_TYPE_PREFIX = "urn:matcher:problem:"


def problem_document(problem: Problem, locale: str | None = None) -> dict[str, Any]:
    """The RFC 9457 body of a problem, without request details (the CLI prints this too).

    Texts are raised in English; for ``locale="zh"`` the title, the detail and the field messages
    the catalogue knows (``app/i18n/zh/problems.py``) are Chinese. ``type`` and ``code`` never
    change with the language: clients branch on those.
    """
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + problem.code,
        "title": problem.title,
        "status": problem.status,
        "code": problem.code,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extra)
    if locale == "zh":
        _in_chinese(body, problem)
    return body


def _in_chinese(body: dict[str, Any], problem: Problem) -> None:
    from app.i18n import catalogue

    messages = catalogue("zh")
    if problem.title == _TITLES.get(problem.status) and f"problem.title.{problem.status}" in messages:
        body["title"] = messages[f"problem.title.{problem.status}"]
    template = messages.get(f"problem.detail.{problem.code}")
    if template is not None and body.get("detail"):
        params = dict(problem.params)
        if "what" in params:
            params["what"] = messages.get(f"problem.what.{params['what']}", params["what"])
        # a problem raised without the values its Chinese text needs keeps its English detail
        with contextlib.suppress(KeyError, IndexError):
            body["detail"] = template.format(**params)
    if problem.errors:
        body["errors"] = [_field_in_chinese(e, messages) for e in problem.errors]


def _field_in_chinese(error: dict[str, Any], messages: dict[str, str]) -> dict[str, Any]:
    text = messages.get(f"problem.field.{error.get('code')}")
    return {**error, "message": text} if text else error


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def invalid(field: str, message: str, code: str = "invalid", status: int = 422) -> Problem:
    """A validation problem naming one field (the common case in services)."""
    return Problem(
        status,
        "validation_error",
        f"{field}: {message}",
        errors=[field_error(field, message, code)],
        params={"fields": field},
    )


def not_found(what: str, ident: Any) -> Problem:
    return Problem(404, "not_found", f"{what} {ident} not found", params={"what": what, "ident": ident})
