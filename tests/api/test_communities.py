"""Communities (社区): reference data; admins write, every key of the district reads."""

from __future__ import annotations

from tests.support import assert_problem, list_all


def test_crud_happy_path(client, world):
    new = {"area_id": world.areas["LGY"], "name": "北苑家园社区"}
    r = client.post("/v1/communities", json=new, headers=world.h("admin"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"/v1/communities/{body['id']}"
    assert (body["area"], body["area_name"], body["area_id"]) == ("LGY", "来广营地区", world.areas["LGY"])
    etag = r.headers["ETag"]
    r = client.get(f"/v1/communities/{body['id']}", headers=world.h("liaison_jw"))
    assert r.status_code == 200 and r.json() == body and r.headers["ETag"] == etag
    r = client.patch(
        f"/v1/communities/{body['id']}", json={"name": "北苑家园北社区"}, headers={**world.w("admin"), "If-Match": etag}
    )
    assert r.status_code == 200 and r.json()["name"] == "北苑家园北社区" and r.headers["ETag"] != etag
    assert_problem(
        client.patch(
            f"/v1/communities/{body['id']}", json={"name": "旧"}, headers={**world.w("admin"), "If-Match": etag}
        ),
        412,
    )
    assert client.get(f"/v1/communities/{body['id']}", headers=world.h("admin")).json()["name"] == "北苑家园北社区"
    r = client.delete(f"/v1/communities/{body['id']}", headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    # a deactivated community takes no new demands
    r = client.post(
        "/v1/demands",
        json={
            "community_id": body["id"],
            "title": "讲座",
            "channel": "other",
            "starts_at": "2026-12-01T09:00:00",
            "ends_at": "2026-12-01T10:00:00",
        },
        headers=world.h("admin"),
    )
    assert_problem(r, 422, "community_id")


def test_list_filters(client, world):
    h = world.h("reader")
    assert [c["name"] for c in list_all(client, "/v1/communities", h, area="JW")] == ["建外社区", "光华里社区"]
    assert [c["name"] for c in list_all(client, "/v1/communities", h, area="LGY")] == ["清友园社区"]
    assert len(list_all(client, "/v1/communities", h)) == 4
    client.delete(f"/v1/communities/{world.communities['朝外社区']}", headers=world.w("admin"))
    assert [c["name"] for c in list_all(client, "/v1/communities", h, active=False)] == ["朝外社区"]
    assert_problem(client.get("/v1/communities", params={"area": "NOPE"}, headers=h), 422, "area")
    page = client.get("/v1/communities", params={"limit": 3}, headers=h).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    assert [c["name"] for c in list_all(client, "/v1/communities", world.h("other_admin"))] == ["海淀社区"]


def test_idempotency_key(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "c-1"}
    new = {"area_id": world.areas["JW"], "name": "永安里社区"}
    first = client.post("/v1/communities", json=new, headers=h)
    again = client.post("/v1/communities", json=new, headers=h)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(client.post("/v1/communities", json={**new, "name": "别的"}, headers=h), 422, "Idempotency-Key")
    assert len(list_all(client, "/v1/communities", world.h("admin"), area="JW")) == 3


def test_validation(client, world):
    cases = [
        ({"area_id": world.other["area"], "name": "x"}, 422, "area_id"),
        ({"area_id": 999999, "name": "x"}, 422, "area_id"),
        ({"area_id": "JW", "name": "x"}, 422, "area_id"),
        ({"area_id": world.areas["JW"], "name": ""}, 422, "name"),
        ({"name": "x"}, 422, "area_id"),
        ({"area_id": world.areas["JW"], "name": "建外社区"}, 409, "name"),
    ]
    for body, status, field in cases:
        assert_problem(client.post("/v1/communities", json=body, headers=world.h("admin")), status, field)
    cid = world.communities["光华里社区"]
    assert_problem(
        client.patch(f"/v1/communities/{cid}", json={"name": "建外社区"}, headers=world.w("admin")), 409, "name"
    )
    assert_problem(client.patch(f"/v1/communities/{cid}", json={"name": None}, headers=world.w("admin")), 422, "name")
    assert_problem(
        client.patch(f"/v1/communities/{cid}", json={"area_id": world.areas["CW"]}, headers=world.w("admin")),
        422,
        "area_id",
    )  # communities never move
    got = client.get(f"/v1/communities/{cid}", headers=world.h("admin")).json()
    assert (got["name"], got["area"], got["version"]) == ("光华里社区", "JW", 1)
    assert len(list_all(client, "/v1/communities", world.h("admin"))) == 4


def test_auth_matrix(client, world):
    cid = world.communities["建外社区"]
    new = {"area_id": world.areas["JW"], "name": "新社区"}
    assert_problem(client.get("/v1/communities"), 401)
    for role in ("reader", "liaison_jw", "liaison_cw"):
        assert client.get(f"/v1/communities/{cid}", headers=world.h(role)).status_code == 200
        assert len(list_all(client, "/v1/communities", world.h(role))) == 4
        assert_problem(client.post("/v1/communities", json=new, headers=world.h(role)), 403)
        assert_problem(client.patch(f"/v1/communities/{cid}", json={"name": "x"}, headers=world.w(role)), 403)
        assert_problem(client.delete(f"/v1/communities/{cid}", headers=world.w(role)), 403)
    assert_problem(client.get(f"/v1/communities/{cid}", headers=world.h("other_admin")), 404)
    assert_problem(client.patch(f"/v1/communities/{cid}", json={"name": "x"}, headers=world.w("other_admin")), 404)
    assert_problem(client.delete(f"/v1/communities/{cid}", headers=world.w("other_admin")), 404)
    assert_problem(client.get(f"/v1/communities/{world.other['community']}", headers=world.h("admin")), 404)
    got = client.get(f"/v1/communities/{cid}", headers=world.h("admin")).json()
    assert got["name"] == "建外社区" and got["active"] is True and got["version"] == 1
