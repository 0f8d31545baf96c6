"""The audit trail: every write records who, what (before/after, masked) and when, in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.enums import ActorKind
from app.errors import Problem
from app.models import Area, AuditEvent
from app.services.audit import Actor, acting, mask


def _audit(client, world, **params):
    r = client.get("/v1/audit", params=params, headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_patch_records_actor_fields_before_after_masked(client, world, db):
    mid = world.members[next(iter(world.members))]
    etag = client.get(f"/v1/members/{mid}", headers=world.h("admin")).headers["ETag"]
    r = client.patch(
        f"/v1/members/{mid}",
        json={"phone": "13911112222", "weekly_cap": 3},
        headers={**world.h("admin"), "If-Match": etag, "X-Request-ID": "audit-test-1"},
    )
    assert r.status_code == 200, r.text
    (event,) = [e for e in _audit(client, world, entity="members") if e["entity_id"] == mid and e["request_id"]]
    assert event["action"] == "updated" and event["request_id"] == "audit-test-1"
    assert event["actor_kind"] == "api_key" and event["actor_role"] == "admin" and event["actor_key_id"]
    assert event["changes"]["phone"] == ["138******00", "139******22"]
    assert "weekly_cap" in event["changes"] and "updated_at" not in event["changes"]
    # filters and scoping
    assert _audit(client, world, actor=event["actor_key_id"]) == [event]
    assert _audit(client, world, entity="members", since="2100-01-01T00:00:00Z") == []
    other = client.get("/v1/audit", headers=world.h("other_admin")).json()["items"]
    assert all(e["district_id"] == world.other_district_id for e in other)
    assert client.get("/v1/audit", headers=world.h("reader")).status_code == 403


def test_rolled_back_change_leaves_no_audit_row(db, world):
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
        s.add(Area(district_id=world.district_id, code="ZZ", name="回滚街道", kind="street"))
        s.flush()
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before + 1  # written with the change
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_failed_request_leaves_no_audit_row(client, world, db):
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    r = client.post("/v1/areas", json={"code": "JW", "name": "重复", "kind": "street"}, headers=world.h("admin"))
    assert r.status_code in (409, 422), r.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_cli_actor_and_append_only(db, world):
    with acting(Actor(ActorKind.CLI, "matcher import")), db.session() as s:
        s.add(Area(district_id=world.district_id, code="CLI", name="命令行街道", kind="street"))
        s.commit()
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity == "areas").order_by(AuditEvent.id.desc())).first()
        assert event.actor_kind == "cli" and event.actor_label == "matcher import"
        assert event.changes["code"] == [None, "CLI"]
        event.actor_label = "someone else"
        with pytest.raises(Problem):
            s.flush()
        s.rollback()
        s.delete(s.get(AuditEvent, event.id))
        with pytest.raises(Problem):
            s.flush()


def test_act_as_is_audited(client, world, db):
    from app.services.api_keys import create_api_key

    with db.session() as s:
        raw = create_api_key(s, district_id=None, role="platform", name="city office")
        s.commit()
    r = client.get("/v1/members", headers={"Authorization": f"Bearer {raw}", "X-Act-As-District": "chaoyang"})
    assert r.status_code == 200
    acted = [e for e in _audit(client, world) if e["action"] == "acted_as"]
    assert acted and acted[-1]["acting_as"] == "chaoyang" and acted[-1]["changes"]["path"] == [None, "/v1/members"]


def test_mask():
    assert mask("email", "zhang.san@example.cn") == "z***@example.cn"
    assert mask("liaison_phone", "010-65001000") == "010*******00"
    assert mask("key_hash", "abc") == "***"
    assert mask("name", "张三") == "张三"
