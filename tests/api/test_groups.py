"""Working groups (小组) and their paired areas (结对)."""

from __future__ import annotations

from tests.support import assert_problem, list_all


def test_crud_happy_path(client, world):
    a = world.areas
    r = client.post(
        "/v1/groups", json={"name": "第五小组", "area_ids": [a["LGY"], a["JW"], a["LGY"]]}, headers=world.h("admin")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"/v1/groups/{body['id']}"
    assert body["area_ids"] == sorted([a["LGY"], a["JW"]])
    assert {x["code"] for x in body["areas"]} == {"LGY", "JW"}
    etag = r.headers["ETag"]
    r = client.get(f"/v1/groups/{body['id']}", headers=world.h("reader"))
    assert r.status_code == 200 and r.json() == body and r.headers["ETag"] == etag
    # pairing-only PATCH replaces the list and bumps the ETag
    r = client.patch(
        f"/v1/groups/{body['id']}", json={"area_ids": [a["CW"]]}, headers={**world.w("admin"), "If-Match": etag}
    )
    assert r.status_code == 200 and r.json()["area_ids"] == [a["CW"]] and r.headers["ETag"] != etag
    assert_problem(
        client.patch(f"/v1/groups/{body['id']}", json={"area_ids": []}, headers={**world.w("admin"), "If-Match": etag}),
        412,
    )
    assert client.get(f"/v1/groups/{body['id']}", headers=world.h("admin")).json()["area_ids"] == [a["CW"]]
    r = client.patch(f"/v1/groups/{body['id']}", json={"area_ids": []}, headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["area_ids"] == []
    r = client.delete(f"/v1/groups/{body['id']}", headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert [g["name"] for g in list_all(client, "/v1/groups", world.h("admin"), active=True)] == ["第一小组"]
    assert [g["name"] for g in list_all(client, "/v1/groups", world.h("admin"), active=False)] == ["第五小组"]


def test_idempotency_key(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "g-1"}
    new = {"name": "第二小组", "area_ids": [world.areas["CW"]]}
    first = client.post("/v1/groups", json=new, headers=h)
    again = client.post("/v1/groups", json=new, headers=h)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(client.post("/v1/groups", json={**new, "name": "第三小组"}, headers=h), 422, "Idempotency-Key")
    assert len(list_all(client, "/v1/groups", world.h("admin"))) == 2


def test_validation(client, world):
    a = world.areas
    cases = [
        ({"name": "第二小组", "area_ids": [a["JW"], world.other["area"]]}, 422, "area_ids"),
        ({"name": "第二小组", "area_ids": [999999]}, 422, "area_ids"),
        ({"name": "第二小组", "area_ids": ["JW"]}, 422, "area_ids.0"),
        ({"name": "第二小组", "area_ids": a["JW"]}, 422, "area_ids"),
        ({"name": ""}, 422, "name"),
        ({"name": "第一小组"}, 409, "name"),
    ]
    for body, status, field in cases:
        assert_problem(client.post("/v1/groups", json=body, headers=world.h("admin")), status, field)
    gid = world.groups["第一小组"]
    assert_problem(
        client.patch(
            f"/v1/groups/{gid}", json={"name": "新名", "area_ids": [world.other["area"]]}, headers=world.w("admin")
        ),
        422,
        "area_ids",
    )
    assert_problem(
        client.patch(f"/v1/groups/{gid}", json={"area_ids": None}, headers=world.w("admin")), 422, "area_ids"
    )
    assert_problem(client.patch(f"/v1/groups/{gid}", json={"name": None}, headers=world.w("admin")), 422, "name")
    got = client.get(f"/v1/groups/{gid}", headers=world.h("admin")).json()
    assert (got["name"], got["area_ids"], got["version"]) == ("第一小组", sorted([a["JW"], a["CW"]]), 1)
    assert len(list_all(client, "/v1/groups", world.h("admin"))) == 1


def test_auth_matrix(client, world):
    gid = world.groups["第一小组"]
    assert_problem(client.get("/v1/groups"), 401)
    for role in ("reader", "liaison_jw", "liaison_cw"):
        assert client.get(f"/v1/groups/{gid}", headers=world.h(role)).status_code == 200
        assert len(list_all(client, "/v1/groups", world.h(role))) == 1
        assert_problem(client.post("/v1/groups", json={"name": "x"}, headers=world.h(role)), 403)
        assert_problem(client.patch(f"/v1/groups/{gid}", json={"name": "x"}, headers=world.w(role)), 403)
        assert_problem(client.delete(f"/v1/groups/{gid}", headers=world.w(role)), 403)
    assert_problem(client.get(f"/v1/groups/{gid}", headers=world.h("other_admin")), 404)
    assert_problem(client.patch(f"/v1/groups/{gid}", json={"name": "x"}, headers=world.w("other_admin")), 404)
    assert_problem(client.delete(f"/v1/groups/{gid}", headers=world.w("other_admin")), 404)
    assert list_all(client, "/v1/groups", world.h("other_admin")) == []
    got = client.get(f"/v1/groups/{gid}", headers=world.h("admin")).json()
    assert got["name"] == "第一小组" and got["active"] is True
