"""Areas: the reference pattern every resource follows (CRUD, ETag, idempotency, auth)."""

from __future__ import annotations

NEW = {"code": "SLT", "name": "三里屯街道", "kind": "street", "lat": 39.935, "lon": 116.452}


def test_create_read_list_patch_deactivate(client, world):
    r = client.post("/v1/areas", json=NEW, headers=world.h("admin"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"/v1/areas/{body['id']}"
    etag = r.headers["ETag"]
    r = client.get(f"/v1/areas/{body['id']}", headers=world.h("reader"))
    assert r.status_code == 200 and r.json()["name"] == "三里屯街道" and r.headers["ETag"] == etag
    r = client.patch(
        f"/v1/areas/{body['id']}", json={"liaison_name": "赵敏"}, headers={**world.w("admin"), "If-Match": etag}
    )
    assert r.status_code == 200 and r.json()["liaison_name"] == "赵敏" and r.headers["ETag"] != etag
    r = client.patch(f"/v1/areas/{body['id']}", json={"name": "x"}, headers={**world.w("admin"), "If-Match": etag})
    assert r.status_code == 412
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/v1/areas/{body['id']}", headers=world.h("admin")).json()["name"] == "三里屯街道"
    r = client.delete(f"/v1/areas/{body['id']}", headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    codes = [a["code"] for a in client.get("/v1/areas?active=true", headers=world.h("admin")).json()["items"]]
    assert "SLT" not in codes and "JW" in codes


def test_pagination_is_stable_and_complete(client, world):
    seen, cursor = [], None
    while True:
        url = "/v1/areas?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=world.h("reader")).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 3
    r = client.get("/v1/areas?limit=100000", headers=world.h("reader"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"
    r = client.get("/v1/areas?cursor=garbage!!", headers=world.h("reader"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


def test_validation_errors_name_the_field(client, world):
    r = client.post("/v1/areas", json={**NEW, "kind": "village"}, headers=world.h("admin"))
    assert r.status_code == 422
    assert r.json()["type"] == "urn:matcher:problem:validation_error"
    assert [e["field"] for e in r.json()["errors"]] == ["kind"]
    r = client.post("/v1/areas", content=b"{not json", headers={**world.h("admin"), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = client.post("/v1/areas", json={**NEW, "code": "JW"}, headers=world.h("admin"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "code"
    r = client.post("/v1/areas", json={**NEW, "surprise": 1}, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "surprise"
    r = client.patch(f"/v1/areas/{world.areas['JW']}", json={"name": None}, headers=world.w("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


def test_idempotency_key_replays_and_rejects_other_body(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "abc-1"}
    first = client.post("/v1/areas", json=NEW, headers=h)
    again = client.post("/v1/areas", json=NEW, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = client.post("/v1/areas", json={**NEW, "name": "别的"}, headers=h)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    codes = [a["code"] for a in client.get("/v1/areas", headers=world.h("admin")).json()["items"]]
    assert codes.count("SLT") == 1


def test_auth_matrix(client, world):
    jw = world.areas["JW"]
    assert client.get("/v1/areas").status_code == 401
    assert client.get("/v1/areas", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/v1/areas", json=NEW, headers=world.h("reader")).status_code == 403
    assert client.post("/v1/areas", json=NEW, headers=world.h("liaison_jw")).status_code == 403
    assert client.get(f"/v1/areas/{jw}", headers=world.h("liaison_cw")).status_code == 200
    assert client.get(f"/v1/areas/{jw}", headers=world.h("other_admin")).status_code == 404
    assert client.patch(f"/v1/areas/{jw}", json={"name": "x"}, headers=world.w("other_admin")).status_code == 404
    assert client.get(f"/v1/areas/{world.other['area']}", headers=world.h("admin")).status_code == 404


def test_request_id_and_body_limit(client, world, settings):
    r = client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert r.headers["X-Request-ID"] == "trace-123"
    assert client.get("/healthz").headers["X-Request-ID"]
    big = b'{"code":"' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    r = client.post("/v1/areas", content=big, headers={**world.h("admin"), "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_readyz_reports_migrated_database(client):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
