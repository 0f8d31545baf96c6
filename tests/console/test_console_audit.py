"""The audit trail names the console's signed-in key (not "system") for a write made there and\nfor the sign-in itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.domain.enums import ActorKind, AuditAction
from app.models import ApiKey, AuditEvent
from tests.console.support import sign_in


def test_console_demand_edit_is_recorded_as_the_signed_in_key(db, cw, app):
    w = cw.w
    demand_id = cw.demands["venue"]
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["admin"])
        page = c.get(f"/console/demands/{demand_id}")
        version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
        data = {
            "title": "文艺汇演（控制台改）",
            "community_id": str(w.communities["清友园社区"]),
            "channel": "liaison_station",
            "priority": "5",
            "min_members": "1",
            "max_members": "1",
            "starts_at": "2026-12-09T14:00",
            "ends_at": "2026-12-09T16:00",
            "version": version,
            "csrf_token": csrf,
        }
        r = c.post(f"/console/demands/{demand_id}", data=data, headers={"X-Request-ID": "console-audit-1"})
        assert r.status_code in (200, 303), r.text
    with db.session() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "demands",
                AuditEvent.entity_id == demand_id,
                AuditEvent.action == AuditAction.UPDATED,
            )
        ).all()
        (event,) = events
        admin_key = s.scalars(select(ApiKey).where(ApiKey.district_id == w.district_id, ApiKey.role == "admin")).first()
        assert event.actor_kind == ActorKind.CONSOLE
        assert (event.actor_key_id, event.actor_role, event.actor_label) == (admin_key.id, "admin", admin_key.name)
        assert event.request_id == "console-audit-1"
        assert event.changes["title"] == ["社区文艺汇演场地", "文艺汇演（控制台改）"]
        assert event.changes["priority"] == [3, 5]
        (signed_in,) = s.scalars(select(AuditEvent).where(AuditEvent.entity == "console_sessions")).all()
        assert (signed_in.action, signed_in.actor_kind, signed_in.actor_key_id) == (
            AuditAction.CREATED, ActorKind.CONSOLE, admin_key.id
        )  # fmt: skip
        assert "token_hash" not in signed_in.changes or signed_in.changes["token_hash"] == [None, "***"]
