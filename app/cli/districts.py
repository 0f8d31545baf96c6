"""``matcher districts create|list|deactivate``: tenants of one deployment (the platform's view)."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import select

from app.cli.common import cli_session, fail, say
from app.cli.keys import OPERATOR
from app.models import District
from app.services import districts as service

app = typer.Typer(help="Districts (tenants).", no_args_is_help=True)


@app.command("create")
def create(
    code: str = typer.Argument(..., help="Short code, e.g. haidian."),
    name: str = typer.Option(..., help="Display name, e.g. 海淀区."),
    areas: Path | None = typer.Option(None, help="Areas CSV (columns code,name_zh,kind,lat_approx,lon_approx)."),
    timezone: str = typer.Option("Asia/Shanghai", help="IANA time zone of the district."),
) -> None:
    """Create the district and its areas; print the first admin key alone on the last line of stdout."""
    if areas is not None and not areas.is_file():
        fail(say("cli.no_such_file", path=areas), code=2)
    with cli_session() as session:
        rows = service.parse_areas_csv(areas.read_text(encoding="utf-8-sig")) if areas is not None else None
        created = service.create_district(session, OPERATOR, code=code, name=name, timezone=timezone, areas=rows)
        district = created.district
        typer.echo(say("cli.districts.created", code=district.code, name=district.name, areas=created.areas), err=True)
    typer.echo(created.admin_key)


@app.command("list")
def list_() -> None:
    """One line per district: code, name, time zone, active."""
    with cli_session() as session:
        for d in session.scalars(select(District).order_by(District.id)):
            typer.echo(f"{d.code}\t{d.name}\t{d.timezone}\t{'active' if d.active else 'inactive'}")


@app.command("deactivate")
def deactivate(code: str = typer.Argument(...)) -> None:
    """Its keys stop working at once; its data stays."""
    with cli_session() as session:
        service.update_district(session, OPERATOR, code=code, changes={"active": False}, if_match=None)
