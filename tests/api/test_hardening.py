"""Hostile input found by fuzzing the OpenAPI schema (schemathesis) and by hand.

Each case used to answer 500 on at least one database (PostgreSQL ``integer`` ids overflow,
NUL bytes that PostgreSQL text cannot hold, NaN/Infinity that JSON cannot render, dates whose
time-zone conversion overflows); now each is a 4xx problem+json naming the offending field,
and nothing is stored. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest

from tests.support import assert_problem, list_all

INT4_OVER = 2**31  # one past PostgreSQL's integer
INT8_OVER = 2**63  # one past SQLite's integer and PostgreSQL's bigint
DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


def _demand(world, **over):
    body = {
        "community_id": world.communities["清友园社区"],
        "title": "防范金融诈骗知识讲座",
        "channel": "other",
        "starts_at": f"{DAY}T14:00:00",
        "ends_at": f"{DAY}T16:00:00",
    }
    return {**body, **over}


def _member(world, **over):
    return {"name": "赵六", "home_area": "JW", **over}


def _stored_demand_titles(client, world) -> list[str]:
    return [d["title"] for d in list_all(client, "/v1/demands", world.h("admin"))]


# --- ids beyond the database's integer range -------------------------------------------------

ITEM_PATHS = [
    ("GET", "/v1/areas/{}", "area_id"),
    ("PATCH", "/v1/areas/{}", "area_id"),
    ("DELETE", "/v1/areas/{}", "area_id"),
    ("GET", "/v1/communities/{}", "community_id"),
    ("GET", "/v1/groups/{}", "group_id"),
    ("DELETE", "/v1/skills/{}", "skill_id"),
    ("GET", "/v1/members/{}", "member_id"),
    ("PATCH", "/v1/demands/{}", "demand_id"),
    ("GET", "/v1/duty-records/{}", "record_id"),
    ("GET", "/v1/assignments/{}", "assignment_id"),
    ("POST", "/v1/assignments/{}/accept", "assignment_id"),
    ("GET", "/v1/optimization-runs/{}", "run_id"),
    ("GET", "/v1/optimization-runs/{}/unmet", "run_id"),
    ("POST", "/v1/optimization-runs/{}/publish", "run_id"),
    ("GET", "/v1/reports/runs/{}", "run_id"),
    ("GET", "/v1/webhooks/{}/deliveries", "webhook_id"),
]


def test_path_ids_outside_integer_range_are_422_naming_the_parameter(client, world):
    for method, template, name in ITEM_PATHS:
        for ident in (INT4_OVER, INT8_OVER, 0, -1):
            body = {"name": "x"} if method == "PATCH" else None
            r = client.request(method, template.format(ident), json=body, headers=world.h("admin"))
            assert_problem(r, 422, f"path.{name}")
    # an id inside the range that names no row is still a plain 404
    assert_problem(client.get(f"/v1/areas/{INT4_OVER - 1}", headers=world.h("admin")), 404)
    # the HTML page answers a problem+json to a client asking for JSON
    r = client.get(f"/reports/runs/{INT4_OVER}", headers={**world.h("admin"), "Accept": "application/json"})
    assert_problem(r, 422, "path.run_id")


def test_id_filters_and_body_ids_outside_integer_range_are_422(client, world):
    admin = world.h("admin")
    for path, param in [
        ("/v1/demands", "community_id"),
        ("/v1/members", "group_id"),
        ("/v1/duty-records", "member_id"),
        ("/v1/assignments", "run_id"),
    ]:
        assert_problem(client.get(path, params={param: INT4_OVER}, headers=admin), 422, f"query.{param}")

    cases = [
        ("/v1/demands", _demand(world, community_id=INT4_OVER), "community_id"),
        (
            "/v1/demands",
            _demand(world, excluded_member_ids=[world.members["张伟"], INT8_OVER]),
            "excluded_member_ids.1",
        ),
        ("/v1/groups", {"name": "第九小组", "area_ids": [world.areas["JW"], INT8_OVER * 2]}, "area_ids.1"),
        ("/v1/members", _member(world, group_id=INT4_OVER), "group_id"),
        (
            "/v1/duty-records",
            {"member_id": INT4_OVER, "kind": "suggestion", "date": "2026-03-05", "title": "建议"},
            "member_id",
        ),
        ("/v1/communities", {"name": "新社区", "area_id": INT8_OVER}, "area_id"),
    ]
    for path, body, field in cases:
        assert_problem(client.post(path, json=body, headers=admin), 422, field)
    r = client.patch(
        f"/v1/groups/{world.groups['第一小组']}", json={"area_ids": [INT4_OVER]}, headers={**admin, "If-Match": "*"}
    )
    assert_problem(r, 422, "area_ids.0")
    assert _stored_demand_titles(client, world) == []
    assert [g["name"] for g in list_all(client, "/v1/groups", admin)] == ["第一小组"]


def test_change_feed_cursor_beyond_bigint_is_422(client, world):
    for after in ("9999999999999999999", "²", "-1"):
        assert_problem(client.get("/v1/changes", params={"after": after}, headers=world.h("admin")), 422, "after")


# --- NUL characters (PostgreSQL text cannot hold them) ------------------------------------------

NUL = "联络\x00站"


def test_nul_in_text_fields_is_422_naming_the_field(client, world):
    admin = world.h("admin")
    cases = [
        ("/v1/areas", {"code": "NEW", "name": NUL, "kind": "street"}, "name"),
        ("/v1/skills", {"code": "a\x00b", "name": "新技能", "category": "expertise"}, "code"),
        ("/v1/groups", {"name": NUL}, "name"),
        ("/v1/members", _member(world, name=NUL), "name"),
        ("/v1/members", _member(world, skills=[{"code": "law"}, {"code": NUL}]), "skills.1.code"),
        ("/v1/demands", _demand(world, title=NUL), "title"),
        ("/v1/demands", _demand(world, description=NUL), "description"),
        ("/v1/demands", _demand(world, required_skills=["law", NUL]), "required_skills"),
        (
            "/v1/duty-records",
            {"member_id": world.members["张伟"], "kind": "suggestion", "date": "2026-03-05", "title": NUL},
            "title",
        ),
        ("/v1/optimization-runs", {"week": "2026-W10", "scope": ["JW", NUL]}, "scope"),
    ]
    for path, body, field in cases:
        assert_problem(client.post(path, json=body, headers=admin), 422, field)

    r = client.post("/v1/demands", json=_demand(world), headers=admin)
    assert r.status_code == 201, r.text
    r = client.patch(f"/v1/demands/{r.json()['id']}", json={"title": NUL}, headers={**admin, "If-Match": "*"})
    assert_problem(r, 422, "title")
    assert _stored_demand_titles(client, world) == ["防范金融诈骗知识讲座"]
    assert sorted(m["name"] for m in list_all(client, "/v1/members", admin)) == sorted(world.members)

    for path in ("/v1/demands", "/v1/members", "/v1/communities", "/v1/assignments", "/v1/duty-records"):
        assert_problem(client.get(path, params={"area": NUL}, headers=admin), 422, "query.area")
    assert_problem(client.get("/v1/members", params={"skill": NUL}, headers=admin), 422, "query.skill")


# --- NaN / Infinity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        ("/v1/members", '{"name": "赵六", "home_area": "JW", "max_distance_km": Infinity}', "max_distance_km"),
        ("/v1/members", '{"name": "赵六", "home_area": "JW", "max_distance_km": NaN}', "max_distance_km"),
        ("/v1/areas", '{"code": "NEW", "name": "新街道", "kind": "street", "lat": NaN}', "lat"),
        ("/v1/optimization-runs", '{"week": "2026-W10", "weights": {"coverage": NaN}}', "weights.coverage"),
        ("/v1/optimization-runs", '{"week": "2026-W10", "time_limit_s": -Infinity}', "time_limit_s"),
    ],
)
def test_nan_and_infinity_are_refused(client, world, path, raw, field):
    r = client.post(path, content=raw, headers={**world.h("admin"), "Content-Type": "application/json"})
    assert_problem(r, 422, field)
    assert client.get("/v1/optimization-runs", headers=world.h("admin")).json()["items"] == []


# --- dates at the ends of the calendar -----------------------------------------------------------


def test_dates_outside_the_service_years_are_422(client, world):
    admin = world.h("admin")
    for starts, ends in [
        ("0001-01-01T00:00:00", "0001-01-01T05:00:00"),
        ("9999-12-31T20:00:00-10:00", "9999-12-31T23:00:00-10:00"),
    ]:
        r = client.post("/v1/demands", json=_demand(world, starts_at=starts, ends_at=ends), headers=admin)
        body = assert_problem(r, 422, "starts_at")
        assert "ends_at" in {e["field"] for e in body["errors"]}
    r = client.post("/v1/demands", json=_demand(world), headers=admin)
    assert (
        client.patch(
            f"/v1/demands/{r.json()['id']}",
            json={"starts_at": "0001-01-01T00:00:00"},
            headers={**admin, "If-Match": "*"},
        ).status_code
        == 422
    )
    assert_problem(
        client.get("/v1/demands", params={"starts_after": "0001-01-01T00:00:00"}, headers=admin),
        422,
        "query.starts_after",
    )
    assert_problem(
        client.get("/v1/assignments", params={"updated_since": "9999-12-31T23:59:59-12:00"}, headers=admin),
        422,
        "query.updated_since",
    )
    assert_problem(
        client.get("/v1/reports/needs", params={"from": "0001-01-01", "to": "0001-12-31"}, headers=admin),
        422,
        "query.from",
    )
    for day in ("0001-01-01", "9999-12-31"):
        r = client.post(
            "/v1/duty-records",
            json={"member_id": world.members["张伟"], "kind": "activity", "date": day, "title": "活动"},
            headers=admin,
        )
        assert_problem(r, 422, "date")
    for week in ("9999-W52", "0001-W01"):
        assert_problem(client.post("/v1/optimization-runs", json={"week": week}, headers=admin), 422, "week")
        assert_problem(client.get("/v1/optimization-runs", params={"week": week}, headers=admin), 422, "week")
    r = client.post(
        "/v1/optimization-runs", json={"window_start": "9999-12-25", "window_end": "9999-12-31"}, headers=admin
    )
    assert_problem(r, 422, "window_start")
    assert client.get("/v1/optimization-runs", headers=admin).json()["items"] == []
    assert _stored_demand_titles(client, world) == ["防范金融诈骗知识讲座"]


# --- malformed bodies ----------------------------------------------------------------------------


def test_malformed_bodies_are_4xx_problems(client, world):
    h = {**world.h("admin"), "Content-Type": "application/json"}
    assert_problem(client.post("/v1/groups", content=b'\xff\xfe{"name": 1', headers=h), 400)
    assert_problem(client.post("/v1/groups", content="[" * 20000 + "]" * 20000, headers=h), 400)
    assert_problem(client.post("/v1/groups", content='{"a":' * 5000 + "1" + "}" * 5000, headers=h), 400)
    assert_problem(client.post("/v1/groups", json=[{"name": "第九小组"}], headers=world.h("admin")), 422, "body")
    r = client.post(
        "/v1/groups", content='{"name": "第九小组"}', headers={**world.h("admin"), "Content-Type": "text/plain"}
    )
    assert_problem(r, 422, "body")
    assert_problem(client.post("/v1/groups", json={"name": "长" * 100_000}, headers=world.h("admin")), 422, "name")
    assert [g["name"] for g in list_all(client, "/v1/groups", world.h("admin"))] == ["第一小组"]


def test_error_responses_of_pages_and_imports_are_documented(client, world):
    spec = client.get("/openapi.json").json()
    page = spec["paths"]["/reports/runs/{run_id}"]["get"]["responses"]
    for status in ("401", "404", "422"):
        assert set(page[status]["content"]) == {"text/html", "application/problem+json"}
    assert "400" in spec["paths"]["/v1/demands:import"]["post"]["responses"]
    run_id = spec["paths"]["/v1/areas/{area_id}"]["get"]["parameters"][0]["schema"]
    assert (run_id["minimum"], run_id["maximum"]) == (1, INT4_OVER - 1)


def test_xlsx_export_survives_control_characters_in_stored_text(client, world):
    """JSON and both databases accept \\x01 in a name; XLSX cannot hold it: the export used to 500."""
    admin = world.h("admin")
    r = client.post("/v1/members", json=_member(world, name="赵\x01六\x1f"), headers=admin)
    assert r.status_code == 201, r.text
    r = client.get("/v1/reports/duty", params={"year": 2026, "by": "member", "format": "xlsx"}, headers=admin)
    assert r.status_code == 200, r.text
    from openpyxl import load_workbook

    names = [row[1] for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(min_row=2, values_only=True)]
    assert "赵\ufffd六\ufffd" in names and "张伟" in names
