"""The audit trail names the member link (member and link, no key) for an answer given there."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.domain.enums import ActorKind, AuditAction
from app.models import AuditEvent
from tests.notifications.conftest import stored_plan, task_link
from tests.support import app_for

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def test_decline_through_a_task_link_is_recorded_as_the_member_link(db, world, settings):
    with TestClient(app_for(settings)) as http:
        plan = stored_plan(db, world, http)
        assignment_id = plan.assignments["张伟"]
        link = task_link(db, assignment_id)
        path = f"/t/{link.token}"
        nonce = NONCE.search(http.get(path).text).group(1)
        r = http.post(path, data={"nonce": nonce, "action": "decline", "reason": "schedule"}, follow_redirects=False)
        assert r.status_code == 303, r.text
    with db.session() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "assignments",
                AuditEvent.entity_id == assignment_id,
                AuditEvent.action == AuditAction.UPDATED,
                AuditEvent.actor_kind == ActorKind.MEMBER_LINK,
            )
        ).all()
        assert events, "the decline left no audit row of the member link"
        declined = [e for e in events if e.changes.get("status", [None, None])[1] == "declined"]
        assert len(declined) == 1
        event = declined[0]
        assert event.actor_key_id is None and event.actor_role is None
        assert event.actor_label == f"member {world.members['张伟']} link {link.link.id}"
        assert event.request_id
    with TestClient(app_for(settings)) as http:  # the office finds it by the kind of actor
        r = http.get("/v1/audit", params={"actor_kind": "member_link"}, headers=world.h("admin"))
        assert r.status_code == 200 and event.id in [e["id"] for e in r.json()["items"]], r.text
        assert {e["actor_kind"] for e in r.json()["items"]} == {"member_link"}
        bad = http.get("/v1/audit", params={"actor_kind": "robot"}, headers=world.h("admin"))
        assert bad.status_code == 422 and "problem+json" in bad.headers["content-type"]
