from __future__ import annotations

import typer

from app.cli.common import cli_session
from app.services.api_keys import create_api_key
from app.services.districts import get_district
from app.settings import get_settings

app = typer.Typer(help="API keys.", no_args_is_help=True)


@app.command("create")
def create(
    role: str = typer.Option(..., help="admin | liaison | reader"),
    area: str | None = typer.Option(None, help="Area code (liaison keys only)."),
    name: str = typer.Option("cli", help="A label to tell keys apart."),
    district: str | None = typer.Option(None, help="District code (default MATCHER_DISTRICT_CODE)."),
) -> None:
    """Create a key and print it alone on stdout (it is not stored in clear)."""
    with cli_session() as session:
        d = get_district(session, district or get_settings().district_code)
        raw = create_api_key(session, d.id, role, name, area)
    typer.echo(raw)
