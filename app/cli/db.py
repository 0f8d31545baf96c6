from __future__ import annotations

import typer

from app import migrate
from app.settings import get_settings

app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database to REVISION (default: head)."""
    migrate.upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}", err=True)
