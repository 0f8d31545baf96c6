"""Problem details and field errors as sentences for a person (the console shows these).

The API's problem+json carries stable codes (``code`` of the problem, ``code`` of each entry in
``errors[]``); the words for them live in the catalogue under ``console.problem.<code>`` and
``console.field_error.<code>``. An unknown code falls back to a general sentence, never to the
English developer text.
"""

from __future__ import annotations

from typing import Any

from app.i18n import catalogue, t


def _has(key: str) -> bool:
    return key in catalogue("zh")


def problem_text(problem: Any, locale: str | None = None) -> str:
    for key in (f"console.problem.{problem.code}", f"console.problem.status_{problem.status}"):
        if _has(key):
            return t(key, locale)
    return t("console.problem.generic", locale)


def field_message(error: dict[str, Any], locale: str | None = None) -> str:
    """The console's sentence for the error's code, else the API's short Chinese text for it (the
    same catalogue the problem+json uses), else a general sentence."""
    code = error.get("code", "invalid")
    for key in (f"console.field_error.{code}", f"problem.field.{code}"):
        if _has(key):
            return t(key, locale)
    return t("console.field_error.invalid", locale)


def errors_by_field(problem: Any, locale: str | None = None, *, fields: Any = None) -> dict[str, str]:
    """``{field: sentence}`` for showing each error next to its form field (first error wins).

    An error about a field the form does not show (``fields`` given) goes to ``_form``."""
    out: dict[str, str] = {}
    for err in problem.errors or []:
        field = str(err.get("field", "")).split(".")[0]
        if fields is not None and field not in fields:
            field = "_form"
        out.setdefault(field, field_message(err, locale))
    if not out:
        out["_form"] = problem_text(problem, locale)
    return out


def form_errors(exc: Any, locale: str | None = None) -> dict[str, str]:
    """A form's validation errors (a pydantic ``ValidationError``) as ``{field: sentence}``, the
    first error of each field, like ``errors_by_field`` for a problem."""
    out: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "body"
        out.setdefault(field, field_message({"code": err["type"]}, locale))
    return out
