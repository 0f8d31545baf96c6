"""Domain errors that every layer may raise; rendered as RFC 9457 problem details
by ``app.api.problems``. Living outside ``app.api`` keeps services free of web imports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
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


@dataclasses.dataclass(frozen=True)
class Msg:
    """A sentence of the problem catalogue (``problem.msg.<name>`` in ``app/i18n/<locale>/problems.py``)
    with its values, kept unrendered so the answer can be written in the caller's language
    (English for logs, the CLI and ``Problem.detail``). A value that is itself a ``Msg`` (the kind
    of object in "member 7 not found") is rendered in the same language, and a list of them is
    rendered joined by "; "."""

    name: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def render(self, locale: str) -> str:
        from app.i18n import t

        return t(f"problem.msg.{self.name}", locale, **{k: _rendered(v, locale) for k, v in self.params.items()})


def _rendered(value: Any, locale: str) -> Any:
    if isinstance(value, Msg):
        return value.render(locale)
    if isinstance(value, list) and value and all(isinstance(v, Msg) for v in value):
        return "; ".join(v.render(locale) for v in value)
    return value


def msg(name: str, /, **params: Any) -> Msg:
    """``msg("unknown_area_code", code="JW")``: the catalogue sentence ``problem.msg.unknown_area_code``."""
    return Msg(name, params)


class FieldError(dict[str, Any]):
    """One entry of a problem's ``errors[]`` (``{field, message, code}``, a plain dict for JSON and
    comparisons) that remembers its catalogue sentence so the message can be given in Chinese."""

    text: Msg | None = None


class Problem(Exception):
    """Raised anywhere below the routers; rendered as problem+json."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        detail: str | Msg | None = None,
        *,
        title: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        members: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """``detail`` is a catalogue sentence (``msg(...)``), so it follows Accept-Language; ``members``
        and ``extra`` are RFC 9457 extension members of the body; ``members`` takes the ones whose
        names are no Python identifier (``from``) or are decided at run time."""
        self.code = code or _DEFAULT_CODES.get(status, "error")
        params = dict(extra.pop("params", None) or {})
        if isinstance(detail, str) and params:
            detail = Msg(self.code, params)  # the older form: the sentence of the code, with params
        #: the catalogue sentence of the detail (None for a literal detail, kept as given)
        self.text: Msg | None = detail if isinstance(detail, Msg) else None
        self.detail = detail.render("en") if isinstance(detail, Msg) else detail
        super().__init__(self.detail or self.code or str(status))
        self.status = status
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors) if errors is not None else None
        self.headers = headers
        self.extra = {**(members or {}), **extra}


PROBLEM_TYPE_PREFIX = "urn:matcher:problem:"


def problem_document(problem: Problem, locale: str | None = None) -> dict[str, Any]:
    """The RFC 9457 body of a problem, without request details (the CLI prints this too).

    For ``locale="zh"`` the title, the detail and the field messages are Chinese (from the
    catalogue sentences the problem carries, ``app/i18n/zh/problems.py``), else English. ``type``
    and ``code`` never change with the language: clients branch on those.
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
    if problem.text is not None:
        body["detail"] = problem.text.render("zh")
    if problem.errors:
        body["errors"] = [_field_in_chinese(e, messages) for e in problem.errors]


def _field_in_chinese(error: dict[str, Any], messages: dict[str, str]) -> dict[str, Any]:
    text = getattr(error, "text", None)
    if isinstance(text, Msg):
        return {**error, "message": text.render("zh")}
    generic = messages.get(f"problem.field.{error.get('code')}")
    return {**error, "message": generic} if generic else dict(error)


def field_error(field: str, message: str | Msg, code: str = "invalid", **extra: Any) -> FieldError:
    """``{field, message, code}`` (and ``extra`` such as ``row``); a ``Msg`` message follows the language."""
    error = FieldError(field=field, message=message.render("en") if isinstance(message, Msg) else message, code=code)
    error.update(extra)
    if isinstance(message, Msg):
        error.text = message
    return error


def invalid(field: str, message: str | Msg, code: str = "invalid", status: int = 422) -> Problem:
    """A validation problem naming one field (the common case in services); the detail is
    "<field>: <message>" in the caller's language."""
    text = message if isinstance(message, Msg) else msg("literal", text=message)
    return Problem(
        status,
        "validation_error",
        msg("field_invalid", field=field, message=text),
        errors=[field_error(field, message, code)],
    )


def not_found(what: str, ident: Any) -> Problem:
    """``what`` names the kind of object (``demand``, ``duty record``): a ``problem.msg.what.<what>``."""
    return Problem(404, "not_found", msg("not_found", what=msg(f"what.{what}"), ident=ident))
