"""``matcher demo``: a fresh database holding a realistic week of 朝阳区 needs, ready to try.

Loading lives in ``app.demo.load_demo``; this module only parses options and prints. Later
steps for the demo week (e.g. running the optimisation) slot in between the two.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta

import typer

from app.cli.common import fail, say
from app.demo.data import CHANNEL_LABELS, DISTRICT_NAME
from app.demo.load import DemoRefused, load_demo
from app.demo.summary import DemoSummary
from app.errors import Problem
from app.services.runs.service import parse_week as parse_iso_week
from app.settings import get_settings


def next_monday(today: date | None = None) -> date:
    """The Monday of the coming week (a week ahead when today is a Monday)."""
    today = today or date.today()
    return today + timedelta(days=7 - today.weekday())


def parse_week(text: str) -> date:
    """``2026-W49`` (ISO week) -> the Monday it starts on (the same rule as the runs API)."""
    try:
        return parse_iso_week(text.strip()).start
    except Problem as exc:
        raise typer.BadParameter(exc.errors[0]["message"] if exc.errors else str(exc), param_hint="--week") from None


def demo(
    seed: int = typer.Option(7, help="Random seed; the same seed always gives the same data."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Target database (default: MATCHER_DATABASE_URL, else ./matcher.db)."
    ),
    week: str | None = typer.Option(None, help="ISO week of the demo needs, e.g. 2026-W49 (default: next week)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    reset: bool = typer.Option(False, "--reset", help="Allow wiping a PostgreSQL database (drops its schema)."),
) -> None:
    """Build a FRESH demo database for 朝阳区 (43 areas, 410 members, ~250 needs) and summarise it.

    An SQLite file is deleted and recreated; a PostgreSQL database is only wiped with --reset.
    """
    week_start = parse_week(week) if week else next_monday()
    url = database_url or get_settings().database_url
    try:
        summary = load_demo(url, seed, week_start, reset_postgresql=reset)
    except DemoRefused as exc:
        fail(str(exc), code=2)
    if not as_json:
        typer.echo(render_text(summary))
    # Then a full optimisation of the demo week, its figures beside both baselines.
    from app.cli.optimize import optimize_demo_week

    summary.extra.update(optimize_demo_week(url, summary.district, summary.week, echo=not as_json))
    # Publish it: each proposed member gets a message (log channel) with a personal link.
    run = summary.extra.get("run") or {}
    if run.get("status") == "succeeded":
        from app.services.notifications.demo import publish_with_example_links

        links = publish_with_example_links(url, summary.district, int(run["id"]))
        summary.extra["links"] = links
        if not as_json:
            typer.echo(render_links(links))
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False))


def render_links(links: dict) -> str:
    p = links["published"]
    lines = [say("cli.demo.published", count=p.get("published")), say("cli.demo.links")]
    lines += [f"  {t['member']} · {t['need']}: {t['url']}" for t in links["task_links"]]
    if links.get("member_link"):
        lines.append(
            say("cli.demo.member_link", member=links["member_link"]["member"], url=links["member_link"]["url"])
        )
    return "\n".join(lines)


def _columns(text: str) -> int:
    """Terminal width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_text(s: DemoSummary) -> str:
    c = s.counts
    width = max(s.demands_by_channel.values(), default=1)
    lines = [
        say("cli.demo.ready", district=DISTRICT_NAME, url=s.database_url),
        say("cli.demo.facts", seed=s.seed, week=s.week, start=s.week_start, end=s.week_end, elapsed=s.elapsed_s),
        "",
        say(
            "cli.demo.counts_reference",
            areas=c["areas"],
            communities=c["communities"],
            groups=c["groups"],
            paired=c["group_areas"],
            skills=c["skills"],
        ),
        say(
            "cli.demo.counts_people",
            members=c["members"],
            member_skills=c["member_skills"],
            demands=c["demands"],
            exclusions=c["demand_exclusions"],
            duty_records=c["duty_records"],
        ),
        "",
        say("cli.demo.by_channel"),
    ]
    for channel, n in s.demands_by_channel.items():
        bar = "#" * max(1, round(30 * n / width))
        label = CHANNEL_LABELS.get(channel, "")
        pad = " " * max(0, 14 - _columns(label))
        lines.append(f"  {channel:<17} {label}{pad} {n:>4}  {bar}")
    lines.append(say("cli.demo.by_priority"))
    lines += [f"  {p}: {n}" for p, n in s.demands_by_priority.items()]
    lines += [
        "",
        say("cli.demo.without_activity", count=s.members_without_activity, members=c["members"]),
        "",
        say("cli.demo.admin_key", key=s.admin_key),
        say("cli.demo.try"),
        f"  MATCHER_DATABASE_URL='{s.database_url}' matcher serve",
        f"  curl -H 'Authorization: Bearer {s.admin_key}' http://127.0.0.1:8000/v1/areas",
    ]
    return "\n".join(lines)
