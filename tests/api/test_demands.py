"""Demands (民需): CRUD, ETag, idempotency, validation, time zones and the liaison area scope."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support import assert_problem, list_all

DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


def demand(world, community: str = "清友园社区", **over):
    body = {
        "community_id": world.communities[community],
        "title": "防范金融诈骗知识讲座",
        "description": "面向老年居民讲解电信网络诈骗的常见手法",
        "channel": "needs_collection",
        "priority": 4,
        "required_skills": ["finance"],
        "min_members": 1,
        "max_members": 2,
        "starts_at": f"{DAY}T14:00:00",
        "ends_at": f"{DAY}T16:00:00",
    }
    body.update(over)
    return body


def create(client, world, role: str = "admin", **over):
    r = client.post("/v1/demands", json=demand(world, **over), headers=world.h(role))
    assert r.status_code == 201, r.text
    return r


def test_crud_happy_path(client, world):
    r = create(
        client,
        world,
        area="LGY",
        required_skills=["防金融诈骗", " LAW ", "finance"],
        excluded_member_ids=[world.members["李娜"]],
        external_id="LGY-001",
    )
    body = r.json()
    assert r.headers["Location"] == f"/v1/demands/{body['id']}"
    assert body["area"] == "LGY" and body["area_name"] == "来广营地区" and body["community_name"] == "清友园社区"
    assert [s["code"] for s in body["required_skills"]] == ["law", "finance"]  # catalogue order
    assert body["excluded_member_ids"] == [world.members["李娜"]]
    assert body["status"] == "open" and body["created_by"] == "test admin" and body["created_at"]
    assert body["starts_at"] == f"{DAY}T14:00:00+08:00" and body["max_members"] == 2
    etag = r.headers["ETag"]

    r = client.get(f"/v1/demands/{body['id']}", headers=world.h("reader"))
    assert r.status_code == 200 and r.headers["ETag"] == etag and r.json() == body

    r = client.patch(
        f"/v1/demands/{body['id']}",
        json={"priority": 5, "required_skills": ["教学"], "excluded_member_ids": []},
        headers={**world.w("admin"), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert r.json()["priority"] == 5 and [s["code"] for s in r.json()["required_skills"]] == ["teaching"]
    assert r.json()["excluded_member_ids"] == [] and r.headers["ETag"] != etag

    # lists-only change still bumps the ETag, so a stale writer cannot overwrite it
    etag2 = r.headers["ETag"]
    r = client.patch(
        f"/v1/demands/{body['id']}",
        json={"required_skills": ["venue"]},
        headers={**world.w("admin"), "If-Match": etag2},
    )
    assert r.status_code == 200 and r.headers["ETag"] != etag2

    r = client.delete(f"/v1/demands/{body['id']}", headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert client.get(f"/v1/demands/{body['id']}", headers=world.h("admin")).json()["status"] == "cancelled"


def test_defaults(client, world):
    body = demand(world, min_members=3)
    for k in ("max_members", "priority", "required_skills", "description"):
        body.pop(k)
    got = client.post("/v1/demands", json=body, headers=world.h("admin")).json()
    assert (got["min_members"], got["max_members"], got["priority"]) == (3, 3, 3)
    assert got["required_skills"] == [] and got["excluded_member_ids"] == [] and got["description"] is None


def test_stale_if_match_is_412_and_changes_nothing(client, world):
    r = create(client, world)
    did, etag = r.json()["id"], r.headers["ETag"]
    assert (
        client.patch(
            f"/v1/demands/{did}", json={"title": "新标题"}, headers={**world.w("admin"), "If-Match": etag}
        ).status_code
        == 200
    )
    r = client.patch(f"/v1/demands/{did}", json={"title": "旧的写入"}, headers={**world.w("admin"), "If-Match": etag})
    assert_problem(r, 412)
    r = client.delete(f"/v1/demands/{did}", headers={**world.w("admin"), "If-Match": etag})
    assert_problem(r, 412)
    got = client.get(f"/v1/demands/{did}", headers=world.h("admin")).json()
    assert got["title"] == "新标题" and got["status"] == "open"


def test_idempotency_key(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "d-1"}
    first = client.post("/v1/demands", json=demand(world), headers=h)
    again = client.post("/v1/demands", json=demand(world), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = client.post("/v1/demands", json=demand(world, title="别的"), headers=h)
    assert_problem(other, 422, "Idempotency-Key")
    assert len(list_all(client, "/v1/demands", world.h("admin"))) == 1


def test_time_zones(client, world):
    naive = create(client, world).json()
    aware = create(client, world, starts_at=f"{DAY}T06:00:00Z", ends_at=f"{DAY}T08:00:00+00:00").json()
    assert naive["starts_at"] == aware["starts_at"] == f"{DAY}T14:00:00+08:00"
    assert naive["ends_at"] == aware["ends_at"] == f"{DAY}T16:00:00+08:00"
    early = create(client, world, starts_at=f"{DAY}T08:00:00", ends_at=f"{DAY}T09:00:00").json()
    ids = {d["id"] for d in list_all(client, "/v1/demands", world.h("admin"), starts_after=f"{DAY}T10:00:00")}
    assert ids == {naive["id"], aware["id"]}
    ids = {d["id"] for d in list_all(client, "/v1/demands", world.h("admin"), starts_before=f"{DAY}T14:00:00+08:00")}
    assert ids == {early["id"]}
    ids = {
        d["id"]
        for d in list_all(
            client, "/v1/demands", world.h("admin"), starts_after=f"{DAY}T06:00:00Z", starts_before=f"{DAY}T15:00:00"
        )
    }
    assert ids == {naive["id"], aware["id"]}


def test_list_filters(client, world):
    a = create(client, world).json()
    b = create(client, world, community="建外社区", priority=2).json()
    c = create(client, world, community="光华里社区", priority=2).json()
    client.delete(f"/v1/demands/{c['id']}", headers=world.w("admin"))
    h = world.h("admin")

    def ids(**params):
        return {d["id"] for d in list_all(client, "/v1/demands", h, **params)}

    assert ids() == {a["id"], b["id"], c["id"]}
    assert ids(area="JW") == {b["id"], c["id"]}
    assert ids(community_id=world.communities["清友园社区"]) == {a["id"]}
    assert ids(status="open") == {a["id"], b["id"]}
    assert ids(status="cancelled") == {c["id"]}
    assert ids(priority=2, status="open") == {b["id"]}
    assert_problem(client.get("/v1/demands", params={"area": "NOPE"}, headers=h), 422, "area")
    assert_problem(client.get("/v1/demands", params={"status": "done"}, headers=h), 422, "query.status")
    assert_problem(client.get("/v1/demands", params={"priority": 9}, headers=h), 422, "query.priority")
    assert_problem(client.get("/v1/demands", params={"starts_after": "soon"}, headers=h), 422, "query.starts_after")
    assert_problem(client.get("/v1/demands", params={"limit": 100000}, headers=h), 422, "query.limit")
    page = client.get("/v1/demands", params={"limit": 2}, headers=h).json()
    assert len(page["items"]) == 2 and page["next_cursor"]


CREATE_CASES = [
    ({"required_skills": ["finance", "烹饪"]}, "required_skills"),
    ({"area": "JW"}, "community_id"),
    ({"area": "NOPE"}, "area"),
    ({"community_id": 999999}, "community_id"),
    ({"min_members": 3, "max_members": 2}, "max_members"),
    ({"ends_at": f"{DAY}T14:00:00"}, "ends_at"),
    ({"ends_at": f"{DAY}T13:00:00"}, "ends_at"),
    ({"priority": 6}, "priority"),
    ({"priority": 0}, "priority"),
    ({"priority": "high"}, "priority"),
    ({"min_members": 0}, "min_members"),
    ({"channel": "telegram"}, "channel"),
    ({"starts_at": "next monday"}, "starts_at"),
    ({"excluded_member_ids": [999999]}, "excluded_member_ids"),
    ({"excluded_member_ids": ["x"]}, "excluded_member_ids.0"),
    ({"title": ""}, "title"),
    ({"surprise": 1}, "surprise"),
]


def test_create_validation(client, world):
    for over, field in CREATE_CASES:
        r = client.post("/v1/demands", json=demand(world, **over), headers=world.h("admin"))
        assert_problem(r, 422, field)
    assert list_all(client, "/v1/demands", world.h("admin")) == []


def test_create_validation_other_district_references(client, world):
    r = client.post("/v1/demands", json=demand(world, community_id=world.other["community"]), headers=world.h("admin"))
    assert_problem(r, 422, "community_id")
    # the other district's admin cannot use our community or our members either
    r = client.post("/v1/demands", json=demand(world), headers=world.h("other_admin"))
    assert_problem(r, 422, "community_id")
    r = client.post(
        "/v1/demands",
        json=demand(
            world,
            community_id=world.other["community"],
            required_skills=[],
            excluded_member_ids=[world.members["张伟"]],
        ),
        headers=world.h("other_admin"),
    )
    assert_problem(r, 422, "excluded_member_ids")
    # skills resolve within the caller's district only
    r = client.post(
        "/v1/demands", json=demand(world, community_id=world.other["community"]), headers=world.h("other_admin")
    )
    assert_problem(r, 422, "required_skills")
    assert list_all(client, "/v1/demands", world.h("admin")) == []
    assert list_all(client, "/v1/demands", world.h("other_admin")) == []


def test_duplicate_external_id_is_409(client, world):
    create(client, world, external_id="X-1")
    r = client.post("/v1/demands", json=demand(world, external_id="X-1"), headers=world.h("admin"))
    assert_problem(r, 409, "external_id")


PATCH_CASES = [
    ({"max_members": 0}, "max_members"),
    ({"min_members": 5}, "max_members"),  # stored max is 2
    ({"ends_at": f"{DAY}T13:59:00"}, "ends_at"),  # stored start 14:00
    ({"starts_at": f"{DAY}T16:00:00"}, "ends_at"),  # stored end 16:00
    ({"required_skills": ["不存在的技能"]}, "required_skills"),
    ({"community_id": 999999}, "community_id"),
    ({"area": "CW"}, "community_id"),
    ({"status": "done"}, "status"),
    ({"title": None}, "title"),
    ({"starts_at": None}, "starts_at"),
    ({"required_skills": None}, "required_skills"),
    ({"priority": 7}, "priority"),
]


def test_patch_validation_leaves_demand_untouched(client, world):
    r = create(client, world, required_skills=["finance"])
    before, etag = r.json(), r.headers["ETag"]
    for change, field in PATCH_CASES:
        r = client.patch(
            f"/v1/demands/{before['id']}",
            json={**change, "description": "不应保存"},
            headers={**world.w("admin"), "If-Match": etag},
        )
        assert_problem(r, 422, field)
        after = client.get(f"/v1/demands/{before['id']}", headers=world.h("admin"))
        assert after.json() == before and after.headers["ETag"] == etag, change


def test_patch_moves_community_and_area(client, world):
    r = create(client, world)
    r = client.patch(
        f"/v1/demands/{r.json()['id']}",
        json={"community_id": world.communities["朝外社区"], "area": "CW"},
        headers=world.w("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["area"] == "CW" and r.json()["community_name"] == "朝外社区"
    assert [d["id"] for d in list_all(client, "/v1/demands", world.h("liaison_cw"))] == [r.json()["id"]]


def test_auth_matrix(client, world):
    jw = create(client, world, role="admin", community="建外社区").json()
    cw = create(client, world, role="admin", community="朝外社区").json()
    body = demand(world, community="建外社区")

    assert_problem(client.get("/v1/demands"), 401)
    assert_problem(client.post("/v1/demands", json=body), 401)
    assert_problem(client.post("/v1/demands", json=body, headers=world.h("reader")), 403)
    assert_problem(client.patch(f"/v1/demands/{jw['id']}", json={"priority": 1}, headers=world.w("reader")), 403)
    assert_problem(client.delete(f"/v1/demands/{jw['id']}", headers=world.w("reader")), 403)
    assert client.get(f"/v1/demands/{jw['id']}", headers=world.h("reader")).status_code == 200
    assert {d["id"] for d in list_all(client, "/v1/demands", world.h("reader"))} == {jw["id"], cw["id"]}

    # liaison of JW: writes and reads its own area ...
    r = client.post("/v1/demands", json=body, headers=world.h("liaison_jw"))
    assert r.status_code == 201 and r.json()["created_by"] == "jw liaison"
    own = r.json()
    assert (
        client.patch(f"/v1/demands/{jw['id']}", json={"priority": 1}, headers=world.w("liaison_jw")).status_code == 200
    )
    assert {d["id"] for d in list_all(client, "/v1/demands", world.h("liaison_jw"))} == {jw["id"], own["id"]}
    assert list_all(client, "/v1/demands", world.h("liaison_jw"), area="CW") == []
    # ... and another area's community or demand is not visible: 404, never 403
    r = client.post("/v1/demands", json=demand(world, community="朝外社区"), headers=world.h("liaison_jw"))
    assert_problem(r, 404, "community_id")
    r = client.patch(
        f"/v1/demands/{own['id']}", json={"community_id": world.communities["朝外社区"]}, headers=world.w("liaison_jw")
    )
    assert_problem(r, 404, "community_id")
    for role, did in [("liaison_cw", jw["id"]), ("liaison_jw", cw["id"])]:
        assert_problem(client.get(f"/v1/demands/{did}", headers=world.h(role)), 404)
        assert_problem(client.patch(f"/v1/demands/{did}", json={"priority": 1}, headers=world.w(role)), 404)
        assert_problem(client.delete(f"/v1/demands/{did}", headers=world.w(role)), 404)
    assert client.delete(f"/v1/demands/{own['id']}", headers=world.w("liaison_jw")).json()["status"] == "cancelled"

    # another district sees nothing of ours
    assert_problem(client.get(f"/v1/demands/{jw['id']}", headers=world.h("other_admin")), 404)
    assert_problem(client.patch(f"/v1/demands/{jw['id']}", json={"priority": 1}, headers=world.w("other_admin")), 404)
    assert_problem(client.delete(f"/v1/demands/{jw['id']}", headers=world.w("other_admin")), 404)
    assert list_all(client, "/v1/demands", world.h("other_admin")) == []

    # nothing the refused requests touched has changed
    got = {d["id"]: d for d in list_all(client, "/v1/demands", world.h("admin"))}
    assert got[jw["id"]]["priority"] == 1 and got[jw["id"]]["status"] == "open"
    assert got[cw["id"]]["priority"] == 4 and got[cw["id"]]["status"] == "open"
    assert len(got) == 3


def test_openapi_documents_schemas_and_examples():
    """Schema generation needs no database: one run covers both."""
    from app.api.main import create_app
    from app.api.schemas.demands import DemandCreate
    from app.api.schemas.members import MemberCreate

    schemas = create_app().openapi()["components"]["schemas"]
    ex = schemas["DemandCreate"]["examples"][0]
    assert ex["title"] == "防范金融诈骗知识讲座" and ex["channel"] == "needs_collection"
    DemandCreate.model_validate(ex)  # the examples are themselves valid payloads
    MemberCreate.model_validate(schemas["MemberCreate"]["examples"][0])
    for name in ("CommunityCreate", "GroupCreate", "SkillCreate", "MemberCreate", "DemandCreate"):
        assert schemas[name].get("examples"), name
    for resource in ("Community", "Group", "Skill", "Member", "Demand"):
        for name in (resource + "Create", resource + "Update", resource + "Out"):
            assert schemas[name].get("description"), name
            undocumented = [k for k, p in schemas[name]["properties"].items() if "description" not in p]
            assert undocumented == [], (name, undocumented)
    assert "null" in schemas["MemberOut"]["properties"]["phone"]["description"]
    assert "Asia/Shanghai" in schemas["DemandOut"]["properties"]["starts_at"]["description"]
