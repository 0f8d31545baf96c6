"""Members (委员): CRUD, ETag, idempotency, skill synonyms, validation and phone privacy."""

from __future__ import annotations

from tests.support import assert_problem, list_all

NEW = {
    "external_id": "CY-0117",
    "name": "刘建国",
    "sector": "经济界",
    "home_area": "LGY",
    "work_area": "CW",
    "phone": "13901234567",
    "weekly_cap": 3,
    "max_distance_km": 12.5,
    "skills": [{"code": "防金融诈骗", "level": 3}, {"code": " LAW "}, {"code": "场地", "level": 1}],
    "blackout_dates": ["2026-12-03", "2026-12-01", "2026-12-01"],
    "weekly_slots": [{"weekday": 2, "start": "14:00", "end": "17:30"}],
}


def new(world, **over):
    return {**NEW, "group_id": world.groups["第一小组"], **over}


def test_crud_happy_path(client, world):
    r = client.post("/v1/members", json=new(world), headers=world.h("admin"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"/v1/members/{body['id']}"
    assert body["home_area"] == "LGY" and body["home_area_name"] == "来广营地区"
    assert body["home_area_id"] == world.areas["LGY"] and body["work_area"] == "CW"
    assert body["group_name"] == "第一小组" and body["phone"] == "13901234567"
    assert [(s["code"], s["level"], s["category"]) for s in body["skills"]] == [
        ("law", 2, "expertise"),
        ("finance", 3, "expertise"),
        ("venue", 1, "resource"),
    ]
    assert body["blackout_dates"] == ["2026-12-01", "2026-12-03"]
    assert body["weekly_slots"] == [{"weekday": 2, "start": "14:00", "end": "17:30"}]
    assert body["accepts_cross_area"] is True and body["active"] is True
    etag = r.headers["ETag"]

    r = client.get(f"/v1/members/{body['id']}", headers=world.h("admin"))
    assert r.status_code == 200 and r.json() == body and r.headers["ETag"] == etag

    # skills-only PATCH replaces the list and bumps the ETag
    r = client.patch(
        f"/v1/members/{body['id']}",
        json={"skills": [{"code": "教学", "level": 3}, {"code": "律师"}]},
        headers={**world.w("admin"), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert [(s["code"], s["level"]) for s in r.json()["skills"]] == [("law", 2), ("teaching", 3)]
    assert r.headers["ETag"] != etag
    r = client.patch(
        f"/v1/members/{body['id']}",
        json={"work_area": None, "group_id": None, "home_area": "JW"},
        headers=world.w("admin"),
    )
    assert r.status_code == 200
    assert (r.json()["work_area"], r.json()["group_id"], r.json()["home_area"]) == (None, None, "JW")

    r = client.delete(f"/v1/members/{body['id']}", headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    again = client.get(f"/v1/members/{body['id']}", headers=world.h("admin")).json()
    assert again["active"] is False and [s["code"] for s in again["skills"]] == ["law", "teaching"]


def test_skill_named_twice_keeps_higher_level(client, world):
    r = client.post(
        "/v1/members",
        json=new(world, skills=[{"code": "law", "level": 1}, {"code": "法律援助", "level": 3}]),
        headers=world.h("admin"),
    )
    assert r.status_code == 201 and [(s["code"], s["level"]) for s in r.json()["skills"]] == [("law", 3)]


def test_stale_if_match_is_412(client, world):
    mid = world.members["张伟"]
    etag = client.get(f"/v1/members/{mid}", headers=world.h("admin")).headers["ETag"]
    assert (
        client.patch(
            f"/v1/members/{mid}", json={"weekly_cap": 4}, headers={**world.w("admin"), "If-Match": etag}
        ).status_code
        == 200
    )
    assert_problem(
        client.patch(f"/v1/members/{mid}", json={"weekly_cap": 9}, headers={**world.w("admin"), "If-Match": etag}), 412
    )
    assert_problem(client.delete(f"/v1/members/{mid}", headers={**world.w("admin"), "If-Match": etag}), 412)
    got = client.get(f"/v1/members/{mid}", headers=world.h("admin")).json()
    assert got["weekly_cap"] == 4 and got["active"] is True


def test_idempotency_key(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "m-1"}
    first = client.post("/v1/members", json=new(world), headers=h)
    again = client.post("/v1/members", json=new(world), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(client.post("/v1/members", json=new(world, name="别人"), headers=h), 422, "Idempotency-Key")
    assert len(list_all(client, "/v1/members", world.h("admin"))) == 4


def test_list_filters(client, world):
    h = world.h("reader")

    def names(**params):
        return sorted(m["name"] for m in list_all(client, "/v1/members", h, **params))

    assert names() == ["张伟", "李娜", "王强"]
    assert names(area="CW") == ["李娜"] and names(area=" cw ") == ["李娜"]  # codes in any case, as the importer
    assert names(skill="teaching") == ["李娜"]
    assert names(skill="律师") == ["张伟"]  # synonyms work in filters too
    assert names(group_id=world.groups["第一小组"]) == ["张伟", "李娜", "王强"]
    client.delete(f"/v1/members/{world.members['王强']}", headers=world.w("admin"))
    assert names(active=True) == ["张伟", "李娜"] and names(active=False) == ["王强"]
    assert_problem(client.get("/v1/members", params={"area": "XX"}, headers=h), 422, "area")
    assert_problem(client.get("/v1/members", params={"skill": "烹饪"}, headers=h), 422, "skill")
    assert_problem(client.get("/v1/members", params={"group_id": "one"}, headers=h), 422, "query.group_id")
    page = client.get("/v1/members", params={"limit": 2}, headers=h).json()
    rest = client.get("/v1/members", params={"limit": 2, "cursor": page["next_cursor"]}, headers=h).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None


CREATE_CASES = [
    ({"skills": [{"code": "law"}, {"code": "烹饪"}]}, "skills"),
    ({"skills": [{"code": "law", "level": 4}]}, "skills.0.level"),
    ({"home_area": "NOPE"}, "home_area"),
    ({"work_area": "NOPE"}, "work_area"),
    ({"group_id": 999999}, "group_id"),
    ({"weekly_cap": 0}, "weekly_cap"),
    ({"weekly_cap": 21}, "weekly_cap"),
    ({"weekly_cap": "many"}, "weekly_cap"),
    ({"max_distance_km": 0}, "max_distance_km"),
    (
        {
            "weekly_slots": [
                {"weekday": 1, "start": "09:00", "end": "12:00"},
                {"weekday": 2, "start": "14:00", "end": "13:00"},
            ]
        },
        "weekly_slots.1.end",
    ),
    ({"weekly_slots": [{"weekday": 2, "start": "14:00", "end": "14:00"}]}, "weekly_slots.0.end"),
    ({"weekly_slots": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "weekly_slots.0.weekday"),
    ({"weekly_slots": [{"weekday": 1, "start": "9am", "end": "10:00"}]}, "weekly_slots.0.start"),
    ({"blackout_dates": ["2026-02-30"]}, "blackout_dates.0"),
    ({"name": ""}, "name"),
    ({"phone": 13800138000}, "phone"),
    ({"nickname": "老刘"}, "nickname"),
]


def test_create_validation(client, world):
    for over, field in CREATE_CASES:
        r = client.post("/v1/members", json=new(world, **over), headers=world.h("admin"))
        assert_problem(r, 422, field)
    assert len(list_all(client, "/v1/members", world.h("admin"))) == 3


def test_other_district_references_are_422(client, world):
    r = client.post("/v1/members", json=new(world), headers=world.h("other_admin"))
    body = assert_problem(r, 422)
    assert {e["field"] for e in body["errors"]} & {"group_id", "skills", "home_area"}
    r = client.post(
        "/v1/members",
        json={**new(world), "home_area": "JW", "work_area": None, "group_id": None, "skills": []},
        headers=world.h("other_admin"),
    )
    assert r.status_code == 201 and r.json()["home_area_id"] == world.other["area"]  # JW of the other district
    r = client.post(
        "/v1/members",
        json={**new(world), "group_id": None, "home_area": "JW", "work_area": None, "external_id": "CY-0118"},
        headers=world.h("other_admin"),
    )
    assert_problem(r, 422, "skills")  # the skill catalogue is per district


def test_duplicate_external_id_is_409(client, world):
    r = client.post("/v1/members", json=new(world, external_id="M-张伟"), headers=world.h("admin"))
    assert_problem(r, 409, "external_id")
    r = client.patch(f"/v1/members/{world.members['李娜']}", json={"external_id": "M-张伟"}, headers=world.w("admin"))
    assert_problem(r, 409, "external_id")


PATCH_CASES = [
    ({"skills": [{"code": "烹饪"}]}, "skills"),
    ({"skills": None}, "skills"),
    ({"home_area": None}, "home_area"),
    ({"home_area": "NOPE"}, "home_area"),
    ({"group_id": 999999}, "group_id"),
    ({"name": None}, "name"),
    ({"weekly_cap": None}, "weekly_cap"),
    ({"active": None}, "active"),
    ({"weekly_slots": [{"weekday": 0, "start": "10:00", "end": "09:00"}]}, "weekly_slots.0.end"),
]


def test_patch_validation_leaves_member_untouched(client, world):
    mid = world.members["李娜"]
    before = client.get(f"/v1/members/{mid}", headers=world.h("admin"))
    for change, field in PATCH_CASES:
        r = client.patch(
            f"/v1/members/{mid}",
            json={"sector": "改了", "skills": [{"code": "venue"}], **change},
            headers={**world.w("admin"), "If-Match": before.headers["ETag"]},
        )
        assert_problem(r, 422, field)
        after = client.get(f"/v1/members/{mid}", headers=world.h("admin"))
        assert after.json() == before.json() and after.headers["ETag"] == before.headers["ETag"], change


def test_auth_matrix_and_phone_privacy(client, world):
    mid = world.members["张伟"]
    assert_problem(client.get("/v1/members"), 401)
    assert_problem(client.get(f"/v1/members/{mid}", headers={"X-API-Key": "mk_bogus"}), 401)
    assert client.get(f"/v1/members/{mid}", headers=world.h("admin")).json()["phone"] == "13800138000"
    for role in ("reader", "liaison_jw", "liaison_cw"):
        r = client.get(f"/v1/members/{mid}", headers=world.h(role))
        assert r.status_code == 200 and r.json()["phone"] is None and r.json()["name"] == "张伟"
        items = list_all(client, "/v1/members", world.h(role))
        assert len(items) == 3 and all(m["phone"] is None for m in items)  # the whole directory, no phones
        assert_problem(client.post("/v1/members", json=new(world), headers=world.h(role)), 403)
        assert_problem(client.patch(f"/v1/members/{mid}", json={"weekly_cap": 5}, headers=world.w(role)), 403)
        assert_problem(client.delete(f"/v1/members/{mid}", headers=world.w(role)), 403)
    assert_problem(client.get(f"/v1/members/{mid}", headers=world.h("other_admin")), 404)
    assert_problem(client.patch(f"/v1/members/{mid}", json={"weekly_cap": 5}, headers=world.w("other_admin")), 404)
    assert_problem(client.delete(f"/v1/members/{mid}", headers=world.w("other_admin")), 404)
    assert list_all(client, "/v1/members", world.h("other_admin")) == []
    got = client.get(f"/v1/members/{mid}", headers=world.h("admin")).json()
    assert got["weekly_cap"] == 2 and got["active"] is True and got["version"] == 1
