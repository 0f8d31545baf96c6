"""Every route of the OpenAPI, called with district B's key against district A's ids: 404, nothing changed.

The routes are read from ``app.openapi()``, so a new endpoint is walked without anyone adding it
here; a request body it needs must be listed in BODIES (the test fails until it is). The same walk
runs with a platform key that does not act as a district: it reads and changes nothing either.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.models import ApiKey, Base, DutyRecord, Notification, Webhook
from app.services.api_keys import create_api_key
from tests.factories import add_assigned_demand as make_demand
from tests.factories import add_assignment as make_assignment
from tests.factories import add_run as make_run

#: A valid body per request schema (validation runs before the handler, so it must pass to reach the scope check).
BODIES: dict[str, object] = {
    "ApiKeyRotate": {"grace_hours": 1},
    "DistrictUpdate": {"name": "改名"},
    "AreaUpdate": {"name": "改名"},
    "CommunityUpdate": {"name": "改名"},
    "GroupUpdate": {"name": "改名"},
    "SkillUpdate": {"name": "改名"},
    "MemberUpdate": {"name": "改名"},
    "DemandUpdate": {"title": "改名"},
    "DeclineIn": {"reason": "有事"},
    "CompleteIn": {"response_method": "home_visit"},
    "DutyRecordUpdate": {"title": "改名"},
    "WebhookUpdate": {"description": "改名"},
}
#: Path parameters that are not a district-scoped id, and what a district key gets there instead.
NOT_SCOPED = {"year": None, "code": 403}  # duty report year (a number); /v1/districts/{code} is platform-only
#: Columns that change on any authenticated request (not a change of the data).
VOLATILE = {("api_keys", "last_used_at")}


def _snapshot(db) -> dict[str, list[tuple]]:
    with db.session() as s:
        snap = {}
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            snap[table.name] = sorted(map(tuple, s.execute(select(*cols)).all()), key=repr)
        return snap


def _a_ids(db, world) -> dict[str, object]:
    run_id = make_run(db, world)
    demand_id = make_demand(db, world)
    assignment_id = make_assignment(db, world, demand_id, next(iter(world.members)), run_id=run_id)
    with db.session() as s:
        member_id = next(iter(world.members.values()))
        record = DutyRecord(
            district_id=world.district_id, member_id=member_id, kind="suggestion", date=date(2026, 3, 1), title="建议"
        )
        hook = Webhook(district_id=world.district_id, url="http://127.0.0.1:9/h", secret="s" * 32, event_types=[])
        note = Notification(
            district_id=world.district_id,
            member_id=member_id,
            event="proposal",
            channel="log",
            status="failed",
            idempotency_key="walk:1",
        )
        s.add_all([record, hook, note])
        s.flush()
        create_api_key(s, district_id=world.district_id, role="reader", name="a reader")
        ids = {
            "record_id": record.id,
            "webhook_id": hook.id,
            "notification_id": note.id,
            "key_id": s.scalar(select(ApiKey.id).where(ApiKey.district_id == world.district_id).limit(1)),
        }
        s.commit()
    return {
        **ids,
        "area_id": world.areas["JW"],
        "community_id": next(iter(world.communities.values())),
        "group_id": next(iter(world.groups.values())),
        "skill_id": next(iter(world.skills.values())),
        "member_id": member_id,
        "demand_id": demand_id,
        "run_id": run_id,
        "assignment_id": assignment_id,
        "code": "chaoyang",
    }


def _routes(spec: dict) -> list[tuple[str, str, list[str], str | None]]:
    routes = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            if not params:
                continue
            schema = next(iter(op.get("requestBody", {}).get("content", {}).values()), {}).get("schema", {})
            refs = re.findall(r"#/components/schemas/(\w+)", repr(schema))
            routes.append((method.upper(), path, params, refs[0] if refs else None))
    return routes


def _walk(client, spec, ids, headers) -> list[tuple[str, str, int, str]]:
    checked = []
    for method, path, params, body_schema in _routes(spec):
        if any(NOT_SCOPED.get(p, 0) is None for p in params):
            continue
        assert body_schema is None or body_schema in BODIES, f"add a sample body for {body_schema} ({method} {path})"
        url = path
        for p in params:
            url = url.replace("{" + p + "}", str(ids[p]))
        kwargs = {"json": BODIES[body_schema]} if body_schema else {}
        r = client.request(method, url, headers={**headers, "If-Match": '"v1"'}, **kwargs)
        expected = next((NOT_SCOPED[p] for p in params if p in NOT_SCOPED), 404)
        checked.append((method, path, r.status_code, r.text[:200]))
        assert r.status_code == expected, (method, url, r.status_code, r.text)
    return checked


@pytest.fixture
def spec(client):
    return client.app.openapi()


def test_district_b_key_gets_404_for_every_route_on_district_a_ids(client, world, db, spec, capsys):
    ids = _a_ids(db, world)
    other = create_key(db, world.other_district_id, "admin")
    before = _snapshot(db)
    checked = _walk(client, spec, ids, {"Authorization": f"Bearer {other}"})
    assert len(checked) >= 35  # every id route of the API today; grows with new endpoints
    after = _snapshot(db)
    assert [(t, set(after[t]) ^ set(before[t])) for t in before if after[t] != before[t]] == []
    with capsys.disabled():
        print(f"\n[tenant isolation] {len(checked)} route checks with district B's admin key ({db.kind})")  # noqa: T201 - the count is reported


def test_platform_key_reads_and_changes_nothing_in_a_district(client, world, db, spec):
    ids = _a_ids(db, world)
    platform = create_key(db, None, "platform")
    before = _snapshot(db)
    headers = {"Authorization": f"Bearer {platform}"}
    for method, path, params, body_schema in _routes(spec):
        if any(NOT_SCOPED.get(p, 0) is None for p in params) or "{code}" in path or "{key_id}" in path:
            continue  # platform keys do manage districts and keys
        url = path
        for p in params:
            url = url.replace("{" + p + "}", str(ids[p]))
        kwargs = {"json": BODIES[body_schema]} if body_schema else {}
        r = client.request(method, url, headers={**headers, "If-Match": '"v1"'}, **kwargs)
        assert r.status_code in (403, 404), (method, url, r.status_code, r.text)
    for path in ("/v1/members", "/v1/demands", "/v1/assignments", "/v1/areas"):
        r = client.get(path, headers=headers)
        assert r.status_code in (200, 403) and (r.status_code == 403 or r.json()["items"] == []), (path, r.text)
    after = _snapshot(db)
    assert [(t, set(after[t]) ^ set(before[t])) for t in before if after[t] != before[t]] == []


def create_key(db, district_id, role) -> str:
    with db.session() as s:
        raw = create_api_key(s, district_id=district_id, role=role, name=f"walk {role}")
        s.commit()
        return raw
