"""Key management: list, issue (secret once), revoke (401 at once), rotate (grace), expiry, last use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.models import ApiKey
from app.services.api_keys import create_api_key, key_usable


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_admin_lists_its_district_keys_without_secrets(client, world):
    r = client.get("/v1/api-keys", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {k["name"] for k in items} == {"test admin", "test reader", "jw liaison", "cw liaison"}
    assert all("secret" not in k and k["status"] == "active" for k in items)
    assert client.get("/v1/api-keys", headers=world.h("reader")).status_code == 403


def test_issue_revoke_is_401_at_once_everywhere(client, world):
    r = client.post("/v1/api-keys", json={"role": "reader", "name": "integrator"}, headers=world.h("admin"))
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["secret"]
    assert secret.startswith(f"mk_{created['prefix']}_")
    assert client.get("/v1/areas", headers=_bearer(secret)).status_code == 200
    r = client.post(f"/v1/api-keys/{created['id']}:revoke", headers=world.h("admin"))
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    for path in ("/v1/areas", "/v1/demands", "/v1/changes", "/v1/api-keys"):
        r = client.get(path, headers=_bearer(secret))
        assert r.status_code == 401, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "revoked_api_key"
    r = client.get("/reports/duty/2026", params={"key": secret})  # the pages too (HTML for a browser)
    assert r.status_code == 401
    # and the secret is never listed again
    listed = client.get("/v1/api-keys", headers=world.h("admin")).json()["items"]
    assert all("secret" not in k for k in listed)


def test_other_district_keys_are_invisible(client, world):
    mine = client.get("/v1/api-keys", headers=world.h("admin")).json()["items"][0]["id"]
    r = client.post(f"/v1/api-keys/{mine}:revoke", headers=world.h("other_admin"))
    assert r.status_code == 404
    assert client.get("/v1/areas", headers=world.h("admin")).status_code == 200
    r = client.post("/v1/api-keys", json={"role": "platform", "name": "x"}, headers=world.h("admin"))
    assert r.status_code == 403


def test_rotate_keeps_the_old_secret_for_the_grace_period(client, world, db):
    r = client.post("/v1/api-keys", json={"role": "liaison", "name": "jw", "area": "JW"}, headers=world.h("admin"))
    old = r.json()
    r = client.post(f"/v1/api-keys/{old['id']}:rotate", json={"grace_hours": 1}, headers=world.h("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    new_secret = body["new"]["secret"]
    assert body["new"]["role"] == "liaison" and body["new"]["area_id"] == world.areas["JW"]
    assert body["old"]["replaced_by_id"] == body["new"]["id"]
    expires = datetime.fromisoformat(body["old"]["expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert client.get("/v1/areas", headers=_bearer(old["secret"])).status_code == 200
    assert client.get("/v1/areas", headers=_bearer(new_secret)).status_code == 200
    with db.session() as s:  # the grace period ends
        s.execute(update(ApiKey).where(ApiKey.id == old["id"]).values(expires_at=datetime.now(UTC)))
        s.commit()
    r = client.get("/v1/areas", headers=_bearer(old["secret"]))
    assert r.status_code == 401 and r.json()["code"] == "expired_api_key"
    assert client.get("/v1/areas", headers=_bearer(new_secret)).status_code == 200
    r = client.post(f"/v1/api-keys/{old['id']}:rotate", headers=world.h("admin"))
    assert r.status_code == 409


def test_expires_at_must_be_future_and_applies(client, world):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = client.post("/v1/api-keys", json={"role": "reader", "name": "x", "expires_at": past}, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "expires_at"
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = client.post("/v1/api-keys", json={"role": "reader", "name": "x", "expires_at": soon}, headers=world.h("admin"))
    assert r.status_code == 201 and r.json()["expires_at"] is not None


def test_last_used_at_is_written_at_most_once_a_minute(client, world, db):
    with db.session() as s:
        raw = create_api_key(s, district_id=world.district_id, role="reader", name="touch")
        s.commit()
    assert client.get("/v1/areas", headers=_bearer(raw)).status_code == 200
    with db.session() as s:
        key = s.scalar(select(ApiKey).where(ApiKey.name == "touch"))
        first = key.last_used_at
        assert first is not None
    assert client.get("/v1/areas", headers=_bearer(raw)).status_code == 200
    with db.session() as s:
        assert s.scalar(select(ApiKey.last_used_at).where(ApiKey.name == "touch")) == first
        s.execute(
            update(ApiKey).where(ApiKey.name == "touch").values(last_used_at=datetime.now(UTC) - timedelta(minutes=2))
        )
        s.commit()
    assert client.get("/v1/areas", headers=_bearer(raw)).status_code == 200
    with db.session() as s:
        touched = s.scalar(select(ApiKey.last_used_at).where(ApiKey.name == "touch"))
        assert datetime.now(UTC) - touched.replace(tzinfo=UTC) < timedelta(minutes=1)
        assert key_usable(s, api_key_id=key.id)
