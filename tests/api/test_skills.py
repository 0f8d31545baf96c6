"""Skills: the catalogue, synonym resolution (shared with the importer) and token uniqueness."""

from __future__ import annotations

import pytest

from app.errors import Problem
from app.services.skills import resolve_skills
from tests.support import assert_problem, list_all

NEW = {"code": "elder_care", "name": "养老服务", "category": "expertise", "synonyms": ["为老服务", " 助老 ", "助老"]}


def test_crud_happy_path(client, world):
    r = client.post("/v1/skills", json=NEW, headers=world.h("admin"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"/v1/skills/{body['id']}"
    assert body["synonyms"] == ["为老服务", "助老"] and body["active"] is True
    etag = r.headers["ETag"]
    r = client.get(f"/v1/skills/{body['id']}", headers=world.h("liaison_cw"))
    assert r.status_code == 200 and r.json() == body and r.headers["ETag"] == etag
    r = client.patch(
        f"/v1/skills/{body['id']}",
        json={"synonyms": ["敬老"], "category": "interest"},
        headers={**world.w("admin"), "If-Match": etag},
    )
    assert r.status_code == 200 and r.json()["synonyms"] == ["敬老"] and r.headers["ETag"] != etag
    assert_problem(
        client.patch(f"/v1/skills/{body['id']}", json={"name": "x"}, headers={**world.w("admin"), "If-Match": etag}),
        412,
    )
    assert client.get(f"/v1/skills/{body['id']}", headers=world.h("admin")).json()["name"] == "养老服务"
    r = client.delete(f"/v1/skills/{body['id']}", headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    # a deactivated skill is refused for new references
    r = client.post(
        "/v1/demands",
        json={
            "community_id": world.communities["建外社区"],
            "title": "助老活动",
            "channel": "other",
            "required_skills": ["敬老"],
            "starts_at": "2026-12-01T09:00:00",
            "ends_at": "2026-12-01T10:00:00",
        },
        headers=world.h("admin"),
    )
    assert_problem(r, 422, "required_skills")


def test_list_filters_and_pagination(client, world):
    h = world.h("reader")
    assert [s["code"] for s in list_all(client, "/v1/skills", h)] == ["law", "finance", "teaching", "venue"]
    assert [s["code"] for s in list_all(client, "/v1/skills", h, category="expertise")] == ["law", "finance"]
    assert [s["code"] for s in list_all(client, "/v1/skills", h, category="resource")] == ["venue"]
    assert_problem(client.get("/v1/skills", params={"category": "hobby"}, headers=h), 422, "query.category")
    page = client.get("/v1/skills", params={"limit": 3}, headers=h).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    assert list_all(client, "/v1/skills", world.h("other_admin")) == []


def test_idempotency_key(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "s-1"}
    first = client.post("/v1/skills", json=NEW, headers=h)
    again = client.post("/v1/skills", json=NEW, headers=h)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_problem(client.post("/v1/skills", json={**NEW, "name": "别的"}, headers=h), 422, "Idempotency-Key")
    assert len(list_all(client, "/v1/skills", world.h("admin"))) == 5


def test_tokens_that_resolve_elsewhere_are_409(client, world):
    cases = [
        ({"code": "law"}, "code"),
        ({"code": "FINANCE"}, "code"),
        ({"code": "lawyer", "name": "律师"}, "name"),
        ({"synonyms": ["ok", " 法律咨询 "]}, "synonyms"),
        ({"synonyms": ["Venue"]}, "synonyms"),
    ]
    for over, field in cases:
        assert_problem(client.post("/v1/skills", json={**NEW, **over}, headers=world.h("admin")), 409, field)
    sid = world.skills["teaching"]
    assert_problem(
        client.patch(f"/v1/skills/{sid}", json={"synonyms": ["培训", "场地"]}, headers=world.w("admin")),
        409,
        "synonyms",
    )
    assert_problem(client.patch(f"/v1/skills/{sid}", json={"name": "金融"}, headers=world.w("admin")), 409, "name")
    # its own tokens are no conflict
    r = client.patch(f"/v1/skills/{sid}", json={"synonyms": ["教学", "TEACHING", "授课"]}, headers=world.w("admin"))
    assert r.status_code == 200 and r.json()["version"] == 2
    assert len(list_all(client, "/v1/skills", world.h("admin"))) == 4


def test_validation(client, world):
    cases = [
        ({"category": "hobby"}, "category"),
        ({"code": "有空格 code"}, "code"),
        ({"name": ""}, "name"),
        ({"synonyms": "律师"}, "synonyms"),
        ({"extra": 1}, "extra"),
    ]
    for over, field in cases:
        assert_problem(client.post("/v1/skills", json={**NEW, **over}, headers=world.h("admin")), 422, field)
    sid = world.skills["law"]
    assert_problem(client.patch(f"/v1/skills/{sid}", json={"code": "legal"}, headers=world.w("admin")), 422, "code")
    assert_problem(client.patch(f"/v1/skills/{sid}", json={"name": None}, headers=world.w("admin")), 422, "name")
    got = client.get(f"/v1/skills/{sid}", headers=world.h("admin")).json()
    assert (got["code"], got["name"], got["version"]) == ("law", "法律咨询", 1)
    assert len(list_all(client, "/v1/skills", world.h("admin"))) == 4


def test_auth_matrix(client, world):
    sid = world.skills["law"]
    assert_problem(client.get("/v1/skills"), 401)
    for role in ("reader", "liaison_jw", "liaison_cw"):
        assert client.get(f"/v1/skills/{sid}", headers=world.h(role)).status_code == 200
        assert_problem(client.post("/v1/skills", json=NEW, headers=world.h(role)), 403)
        assert_problem(client.patch(f"/v1/skills/{sid}", json={"name": "x"}, headers=world.w(role)), 403)
        assert_problem(client.delete(f"/v1/skills/{sid}", headers=world.w(role)), 403)
    for call in (client.get, client.delete):
        assert_problem(call(f"/v1/skills/{sid}", headers=world.w("other_admin")), 404)
    assert_problem(client.patch(f"/v1/skills/{sid}", json={"name": "x"}, headers=world.w("other_admin")), 404)
    got = client.get(f"/v1/skills/{sid}", headers=world.h("admin")).json()
    assert got["name"] == "法律咨询" and got["active"] is True


def test_resolve_skills_function(db, world):
    with db.session() as s:
        got = resolve_skills(
            s,
            district_id=world.district_id,
            tokens=["  律师", "FINANCE", "金融", "防金融诈骗", "Law", "场地"],
            field="skills",
        )
        assert [k.code for k in got] == ["law", "finance", "venue"]
        assert resolve_skills(s, district_id=world.district_id, tokens=[], field="skills") == []
        with pytest.raises(Problem) as exc:
            resolve_skills(s, district_id=world.district_id, tokens=["law", "烹饪", ""], field="required_skills")
        assert exc.value.status == 422
        assert [e["field"] for e in exc.value.errors] == ["required_skills", "required_skills"]
        assert "烹饪" in exc.value.errors[0]["message"]
        with pytest.raises(Problem):
            resolve_skills(
                s, district_id=world.other_district_id, tokens=["law"], field="skills"
            )  # catalogues are per district
