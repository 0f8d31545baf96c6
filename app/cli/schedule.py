"""``matcher schedule show|set``: a district's weekly optimisation (stored with its settings)."""

from __future__ import annotations

import json

import typer

from app.cli.common import cli_session
from app.domain.enums import Role
from app.services import district_settings as service
from app.services.districts import get_district
from app.services.identity import Caller
from app.settings import get_settings

app = typer.Typer(help="The weekly optimisation schedule of a district.", no_args_is_help=True)

DISTRICT = typer.Option(None, help="District code (default MATCHER_DISTRICT_CODE).")


def _caller(session, code: str | None) -> Caller:
    district = get_district(session, code=code or get_settings().district_code)
    return Caller(api_key_id=0, name="matcher schedule", role=Role.ADMIN, district_id=district.id)


@app.command("show")
def show(district: str | None = DISTRICT) -> None:
    """Print the schedule as JSON (with the district's time zone)."""
    with cli_session() as session:
        caller = _caller(session, district)
        settings = service.read_settings(session, caller)
        tz = get_district(session, code=district or get_settings().district_code).timezone
    typer.echo(json.dumps({**settings.schedule.model_dump(), "timezone": tz}, ensure_ascii=False))


@app.command("set")
def set_(
    district: str | None = DISTRICT,
    enabled: bool | None = typer.Option(None, "--enabled/--disabled", help="Run the weekly optimisation or not."),
    weekday: int | None = typer.Option(None, min=0, max=6, help="0 = Monday ... 6 = Sunday."),
    time: str | None = typer.Option(None, help="HH:MM in the district's time zone."),
    publish: bool | None = typer.Option(None, "--publish/--no-publish", help="Publish automatically."),
) -> None:
    """Change any part of the schedule; prints the result."""
    given = {"enabled": enabled, "weekday": weekday, "time": time, "publish": publish}
    changes = {k: v for k, v in given.items() if v is not None}
    with cli_session() as session:
        settings = service.update_settings(
            session, _caller(session, district), changes={"schedule": changes}, if_match=None
        )
    typer.echo(json.dumps(settings.schedule.model_dump(), ensure_ascii=False))
