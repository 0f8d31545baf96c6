"""``matcher keys create|list|revoke|rotate``: the same service as ``/v1/api-keys``."""

from __future__ import annotations

from datetime import datetime, timedelta

import typer

from app.cli.common import cli_session, fail, say
from app.domain.enums import Role
from app.models import ApiKey, District
from app.services.api_keys import ROTATION_GRACE, create_api_key, key_status, revoke_key, rotate_key
from app.services.districts import get_district
from app.services.identity import NO_DISTRICT, Caller
from app.settings import get_settings

app = typer.Typer(help="API keys.", no_args_is_help=True)

#: The CLI runs with the operator's shell access: it manages every key, like a platform key.
OPERATOR = Caller(api_key_id=0, name="cli", role=Role.PLATFORM, district_id=NO_DISTRICT)


@app.command("create")
def create(
    role: str = typer.Option(..., help="admin | liaison | reader | platform"),
    area: str | None = typer.Option(None, help="Area code (liaison keys only)."),
    name: str = typer.Option("cli", help="A label to tell keys apart."),
    district: str | None = typer.Option(None, help="District code (default MATCHER_DISTRICT_CODE)."),
    expires_at: datetime | None = typer.Option(None, help="Optional expiry, ISO 8601 (UTC if no offset)."),
) -> None:
    """Create a key and print it alone on stdout (it is not stored in clear)."""
    with cli_session() as session:
        district_id = None
        if role != Role.PLATFORM:
            district_id = get_district(session, code=district or get_settings().district_code).id
        raw = create_api_key(
            session, district_id=district_id, role=role, name=name, area_code=area, expires_at=expires_at
        )
    typer.echo(raw)


@app.command("list")
def list_keys(district: str | None = typer.Option(None, help="Only this district's keys.")) -> None:
    """One line per key: id, status, role, district, prefix, name, last use, expiry. Never a secret."""
    from sqlalchemy import select

    with cli_session() as session:
        codes: dict[int, str] = dict(session.execute(select(District.id, District.code)).all())
        stmt = select(ApiKey).order_by(ApiKey.id)
        if district:
            stmt = stmt.where(ApiKey.district_id == get_district(session, code=district).id)
        for key in session.scalars(stmt):
            typer.echo(
                "\t".join(
                    [
                        str(key.id),
                        key_status(key),
                        key.role,
                        codes.get(key.district_id, "-") if key.district_id else "-",
                        f"mk_{key.prefix}_…",
                        key.name,
                        key.last_used_at.isoformat() if key.last_used_at else "-",
                        key.expires_at.isoformat() if key.expires_at else "-",
                    ]
                )
            )


@app.command("revoke")
def revoke(key_id: int = typer.Argument(..., help="Key id (from `matcher keys list`).")) -> None:
    """Revoke a key at once: its next request gets 401."""
    with cli_session() as session:
        key = revoke_key(session, OPERATOR, key_id=key_id)
        typer.echo(f"{key.id}\t{key_status(key)}")


@app.command("rotate")
def rotate(
    key_id: int = typer.Argument(..., help="Key id (from `matcher keys list`)."),
    grace_hours: float = typer.Option(ROTATION_GRACE.total_seconds() / 3600, help="Old secret valid this long."),
) -> None:
    """Print the new secret alone on stdout; the old one keeps working for the grace period."""
    if grace_hours < 0:
        fail(say("cli.keys.grace_negative"), code=2)
    with cli_session() as session:
        _, issued = rotate_key(session, OPERATOR, key_id=key_id, grace=timedelta(hours=grace_hours))
    typer.echo(issued.secret)
