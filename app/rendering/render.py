"""Jinja2 rendering of the report pages (templates ship as package data in app/templates).

Pages load nothing from outside the service: the console's stylesheet and the vendored htmx
come from /static, charts are inline SVG, so they work on an offline intranet and print cleanly.
Every word comes from the catalogue (``t``), enum values through ``label``, dates through
``when`` / ``day`` (app.i18n.format).
"""

from __future__ import annotations

from datetime import UTC
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from app.domain import enums
from app.i18n import label, t
from app.i18n.format import format_date, format_datetime, format_time
from app.i18n.problem_text import field_message, problem_text
from app.rendering import charts


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("app", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["local"] = _local
    env.filters["label"] = label  # enum value -> its name in the catalogue
    env.filters["when"] = format_datetime
    env.filters["day"] = format_date
    env.filters["hhmm"] = format_time
    env.globals["t"] = t
    env.globals["label"] = label
    env.globals["E"] = enums
    env.globals["problem_text"] = problem_text
    env.globals["field_message"] = field_message
    return env


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _local(value: Any) -> str:
    """A stored timestamp (UTC; SQLite returns it without offset) as Beijing time."""
    if value is None:
        return "—"

    from app.domain.times import LOCAL_TZ

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def _svgs(figures: dict) -> dict[str, Markup]:
    # The SVG is produced by matplotlib from our own data with text drawn as paths; labels that
    # came from user data are rendered as glyph outlines, never as markup, so it is safe to inline.
    return {name: Markup(charts.to_svg(fig)) for name, fig in figures.items()}


def run_page_context(report) -> dict[str, Any]:
    """What run.html needs (also rendered inside the console by app.api.console.runs)."""
    from app.services.reports.runs import PLAN_LABELS, PLANS, STATUS_LABELS

    return {
        "title": t("console.report.run_title", id=report.id),
        "r": report,
        "charts": _svgs(charts.run_figures(report)),
        "plans": PLANS,
        "plan_labels": PLAN_LABELS,
        "status_labels": STATUS_LABELS,
    }


def duty_page_context(report) -> dict[str, Any]:
    """What duty.html needs (also rendered inside the console by app.api.console.duty)."""
    from app.services.reports.duty import KIND_LABELS

    return {
        "title": t("console.report.duty_title", year=report.year),
        "r": report,
        "charts": _svgs(charts.duty_figures(report)),
        "kind_labels": KIND_LABELS,
    }


def run_page(report, **layout: Any) -> str:
    return render("run.html", **run_page_context(report), **layout)


def duty_page(report, **layout: Any) -> str:
    return render("duty.html", **duty_page_context(report), **layout)


def error_page(status: int, title: str, detail: str | None) -> str:
    return render("error.html", title=f"{status} {title}", status=status, heading=title, detail=detail)
