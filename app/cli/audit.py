"""``matcher audit --since``: the audit trail on the terminal, one JSON object a line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import typer

from app.cli.common import cli_session, fail
from app.cli.keys import OPERATOR
from app.services.audit import list_audit
from app.services.districts import get_district


def _since(text: str) -> datetime:
    """``2026-12-01T08:00`` (UTC unless it has an offset) or a duration back from now: ``2h``, ``3d``."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since: not a time or duration: {text!r} (e.g. 2026-12-01T08:00 or 24h)", code=2)
        raise
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def audit(
    since: str = typer.Option("24h", help="A time (ISO 8601) or a duration back from now (30m, 24h, 7d)."),
    district: str | None = typer.Option(None, help="Only this district (default: all)."),
    entity: str | None = typer.Option(None, help="Only this entity (table name, e.g. demands)."),
) -> None:
    start = _since(since)
    with cli_session() as session:
        district_id = get_district(session, district).id if district else None
        cursor = None
        while True:
            page = list_audit(session, OPERATOR, entity=entity, since=start, cursor=cursor, limit=500)
            for e in page.items:
                if district_id is not None and e.district_id != district_id:
                    continue
                row = {
                    "id": e.id,
                    "at": e.created_at.isoformat(),
                    "district_id": e.district_id,
                    "actor": {
                        "kind": e.actor_kind,
                        "key_id": e.actor_key_id,
                        "role": e.actor_role,
                        "label": e.actor_label,
                    },
                    "acting_as": e.acting_as,
                    "action": e.action,
                    "entity": e.entity,
                    "entity_id": e.entity_id,
                    "changes": e.changes,
                    "request_id": e.request_id,
                }
                typer.echo(json.dumps(row, ensure_ascii=False))
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
