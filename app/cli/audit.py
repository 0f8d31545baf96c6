"""``matcher audit --since``: the audit trail on the terminal, one JSON object a line (``--summary``:\nrows counted by actor, entity and action)."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from sqlalchemy.orm import Session

from app.cli.common import cli_session, fail, say
from app.cli.keys import OPERATOR
from app.domain.enums import ActorKind
from app.models import AuditEvent
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
    actor_kind: ActorKind | None = typer.Option(None, "--actor-kind", help="Only this kind of actor."),
    summary: bool = typer.Option(False, "--summary", help="Rows counted by actor, entity and action instead."),
) -> None:
    start = _since(since)
    with cli_session() as session:
        district_id = get_district(session, code=district).id if district else None
        events = (
            e
            for e in _events(session, entity, actor_kind, start)
            if district_id is None or e.district_id == district_id
        )
        if summary:
            _print_summary(events)
            return
        for e in events:
            typer.echo(json.dumps(_row(e), ensure_ascii=False))


def _events(session: Session, entity: str | None, kind: ActorKind | None, start: datetime) -> Iterator[AuditEvent]:
    cursor = None
    while True:
        page = list_audit(session, OPERATOR, entity=entity, actor_kind=kind, since=start, cursor=cursor, limit=500)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _row(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.created_at.isoformat(),
        "district_id": e.district_id,
        "actor": {"kind": e.actor_kind, "key_id": e.actor_key_id, "role": e.actor_role, "label": e.actor_label},
        "acting_as": e.acting_as,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "changes": e.changes,
        "request_id": e.request_id,
    }


def _print_summary(events: Iterable[AuditEvent]) -> None:
    """Who changed what, one line per actor, entity and action: the short read of a session."""
    counts = Counter((f"{e.actor_kind} {e.actor_label}", e.entity, str(e.action)) for e in events)
    head = [say(f"ops.audit_summary.{column}") for column in ("actor", "entity", "action", "rows")]
    typer.echo(" ".join([_pad(head[0], 32), _pad(head[1], 20), _pad(head[2], 10), _pad(head[3], 6, right=True)]))
    for (actor, entity, action), n in sorted(counts.items()):
        typer.echo(f"{actor[:32]:<32} {entity:<20} {action:<10} {n:>6}")


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Pad to ``width`` terminal columns (a CJK character takes two)."""
    fill = " " * max(0, width - sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))
    return fill + text if right else text + fill
