"""``matcher links member EXTERNAL_ID``: a member's personal ``/m/`` link, printed once.

The office hands it to a member (or puts it in the member portal): with it the member sees all
their open tasks and sets the dates they cannot serve. Only its hash is stored.
"""

from __future__ import annotations

import typer
from sqlalchemy import select

from app.cli.common import cli_session, fail
from app.models import Member
from app.services.districts import get_district
from app.services.notifications.links import mint_member_link
from app.settings import NotifySettings, get_settings

app = typer.Typer(help="Personal links for members.", no_args_is_help=True)


@app.command("member")
def member(
    external_id: str = typer.Argument(..., help="The member's id in the member portal (external_id)."),
    district: str | None = typer.Option(None, help="District code (default MATCHER_DISTRICT_CODE)."),
) -> None:
    """Print a new /m/ link for the member alone on stdout (valid MATCHER_MEMBER_LINK_DAYS days)."""
    cfg = NotifySettings()
    with cli_session() as session:
        d = get_district(session, code=district or get_settings().district_code)
        found = session.scalar(select(Member).where(Member.district_id == d.id, Member.external_id == external_id))
        if found is None:
            fail(f"no member with external_id {external_id!r} in district {d.code}", code=2)
            return
        minted = mint_member_link(session, district_id=d.id, member_id=found.id, cfg=cfg)
    typer.echo(minted.url(cfg.public_base_url))
