"""``matcher console-link``: a one-time sign-in link for the office console."""

from __future__ import annotations

import typer

from app.cli.common import cli_session
from app.services.console_sessions import create_sign_in_link
from app.services.districts import get_district
from app.settings import get_settings


def console_link(
    role: str = typer.Option(..., help="admin | liaison | reader"),
    area: str | None = typer.Option(None, help="Area code (liaison links only)."),
    base_url: str = typer.Option("http://127.0.0.1:8000", help="Where the console is served."),
    district: str | None = typer.Option(None, help="District code (default MATCHER_DISTRICT_CODE)."),
) -> None:
    """Print a sign-in link, usable once within MATCHER_CONSOLE_LINK_MINUTES, alone on stdout.

    It signs the browser in with a new key of that role; the key itself is never shown."""
    settings = get_settings()
    with cli_session() as session:
        d = get_district(session, code=district or settings.district_code)
        token = create_sign_in_link(
            session, district_id=d.id, role=role, area_code=area, minutes=settings.console_link_minutes
        )
    typer.echo(f"{base_url.rstrip('/')}/login/link/{token}")
