"""Duty records (履职记录): CRUD, auth matrix, validation, and annual duty status."""

from __future__ import annotations

from app.services.duty import duty_status
from tests.factories import add_assigned_demand

SUGGESTION = {"kind": "suggestion", "date": "2026-03-05", "title": "关于老旧小区加装电梯的建议"}


def _post(client, world, member: str, role: str = "admin", **over):
    return client.post(
        "/v1/duty-records", json={"member_id": world.members[member], **SUGGESTION, **over}, headers=world.h(role)
    )


def test_create_read_patch_delete(client, world, db):
    r = _post(client, world, "张伟")
    assert r.status_code == 201, r.text
    rec = r.json()
    assert r.headers["Location"] == f"/v1/duty-records/{rec['id']}"
    assert rec["area_id"] == world.areas["JW"] and rec["kind"] == "suggestion" and rec["date"] == "2026-03-05"
    assert rec["created_at"].endswith(("Z", "+00:00"))
    d = add_assigned_demand(db, world, community="朝外社区", title="防金融诈骗讲座")
    r = _post(client, world, "张伟", kind="activity", title="防金融诈骗讲座", demand_id=d)
    assert r.status_code == 201 and r.json()["area_id"] == world.areas["CW"] and r.json()["demand_id"] == d
    r = _post(client, world, "张伟", kind="information", area_id=world.areas["LGY"])
    assert r.status_code == 201 and r.json()["area_id"] == world.areas["LGY"]

    got = client.get(f"/v1/duty-records/{rec['id']}", headers=world.h("reader"))
    assert got.status_code == 200 and got.json()["title"] == SUGGESTION["title"]
    etag = got.headers["ETag"]
    r = client.patch(
        f"/v1/duty-records/{rec['id']}",
        json={"title": "关于社区养老服务的建议", "date": "2026-04-01"},
        headers={**world.w("admin"), "If-Match": etag},
    )
    assert r.status_code == 200 and r.json()["title"] == "关于社区养老服务的建议" and r.headers["ETag"] != etag
    r = client.patch(
        f"/v1/duty-records/{rec['id']}", json={"title": "x"}, headers={**world.w("admin"), "If-Match": etag}
    )
    assert r.status_code == 412 and r.json()["code"] == "precondition_failed"
    r = client.delete(f"/v1/duty-records/{rec['id']}", headers={**world.w("admin"), "If-Match": etag})
    assert r.status_code == 412
    assert client.delete(f"/v1/duty-records/{rec['id']}", headers=world.w("admin")).status_code == 204
    assert client.get(f"/v1/duty-records/{rec['id']}", headers=world.h("admin")).status_code == 404
    assert client.delete(f"/v1/duty-records/{rec['id']}", headers=world.w("admin")).status_code == 404


def test_idempotent_create(client, world):
    h = {**world.h("admin"), "Idempotency-Key": "duty-1"}
    body = {"member_id": world.members["李娜"], **SUGGESTION}
    first = client.post("/v1/duty-records", json=body, headers=h)
    again = client.post("/v1/duty-records", json=body, headers=h)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    items = client.get(f"/v1/duty-records?member_id={world.members['李娜']}", headers=world.h("admin")).json()["items"]
    assert len(items) == 1


def test_auth_matrix(client, world):
    jw = _post(client, world, "张伟").json()["id"]
    cw = _post(client, world, "李娜").json()["id"]
    assert client.get("/v1/duty-records").status_code == 401
    assert _post(client, world, "张伟", "reader").status_code == 403
    # A liaison records for members whose record lands in its area, nowhere else.
    r = _post(client, world, "张伟", "liaison_jw", kind="information")
    assert r.status_code == 201 and r.json()["area_id"] == world.areas["JW"]
    own = r.json()["id"]
    r = _post(client, world, "李娜", "liaison_jw")
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "area_id"
    assert _post(client, world, "李娜", "liaison_jw", area_id=world.areas["JW"]).status_code == 201
    # Reading: liaison only its area (others 404), reader everything in the district.
    assert client.get(f"/v1/duty-records/{cw}", headers=world.h("liaison_jw")).status_code == 404
    assert client.get(f"/v1/duty-records/{jw}", headers=world.h("liaison_jw")).status_code == 200
    listed = client.get("/v1/duty-records", headers=world.h("liaison_jw")).json()["items"]
    assert {i["area_id"] for i in listed} == {world.areas["JW"]} and len(listed) == 3
    assert len(client.get("/v1/duty-records", headers=world.h("reader")).json()["items"]) == 4
    assert client.get(f"/v1/duty-records/{jw}", headers=world.h("other_admin")).status_code == 404
    assert client.get("/v1/duty-records", headers=world.h("other_admin")).json()["items"] == []
    # Writing: liaison patches its own area's records but cannot move them out; delete is admin only.
    assert (
        client.patch(f"/v1/duty-records/{own}", json={"title": "改"}, headers=world.w("liaison_jw")).status_code == 200
    )
    r = client.patch(f"/v1/duty-records/{own}", json={"area_id": world.areas["CW"]}, headers=world.w("liaison_jw"))
    assert r.status_code == 403
    assert (
        client.patch(f"/v1/duty-records/{cw}", json={"title": "改"}, headers=world.w("liaison_jw")).status_code == 404
    )
    assert client.patch(f"/v1/duty-records/{jw}", json={"title": "改"}, headers=world.w("reader")).status_code == 403
    assert client.delete(f"/v1/duty-records/{own}", headers=world.w("liaison_jw")).status_code == 403
    assert client.delete(f"/v1/duty-records/{own}", headers=world.w("reader")).status_code == 403
    assert client.delete(f"/v1/duty-records/{own}", headers=world.w("other_admin")).status_code == 404
    assert client.get(f"/v1/duty-records/{own}", headers=world.h("admin")).json()["title"] == "改"


def test_validation_names_the_field(client, world, db):
    cases = [
        ({"kind": "speech"}, "kind"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "soon"}, "date"),
        ({"title": ""}, "title"),
        ({"member_id": 999999}, "member_id"),
        ({"demand_id": 999999}, "demand_id"),
        ({"area_id": world.other["area"]}, "area_id"),
        ({"assignment_id": 424242}, "assignment_id"),
        ({"surprise": 1}, "surprise"),
    ]
    for over, field in cases:
        r = _post(client, world, "张伟", **over)
        assert r.status_code == 422, (over, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field], (over, r.json())
    r = client.post("/v1/duty-records", json=SUGGESTION, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id"
    # A member of another district is unknown here.
    with db.session() as s:
        from app.models import Member

        other = Member(district_id=world.other_district_id, name="外区委员", home_area_id=world.other["area"])
        s.add(other)
        s.commit()
        other_id = other.id
    r = client.post("/v1/duty-records", json={**SUGGESTION, "member_id": other_id}, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id"
    rec = _post(client, world, "张伟").json()["id"]
    for over, field in [
        ({"area_id": None}, "area_id"),
        ({"kind": "x"}, "kind"),
        ({"title": None}, "title"),
        ({"member_id": 1}, "member_id"),
    ]:
        r = client.patch(f"/v1/duty-records/{rec}", json=over, headers=world.w("admin"))
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [field], (over, r.text)
    for q, field in [("kind=x", "query.kind"), ("year=1800", "query.year"), ("area=NOPE", "area")]:
        r = client.get(f"/v1/duty-records?{q}", headers=world.h("admin"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (q, r.text)


def test_list_filters_and_paging(client, world):
    ids = [
        _post(client, world, m, kind=k, date=d).json()["id"]
        for m, k, d in [
            ("张伟", "suggestion", "2026-01-10"),
            ("张伟", "activity", "2025-12-31"),
            ("李娜", "information", "2026-06-01"),
            ("王强", "activity", "2026-07-01"),
            ("李娜", "suggestion", "2027-01-01"),
        ]
    ]
    h = world.h("reader")

    def got(q: str) -> list[int]:
        r = client.get(f"/v1/duty-records?{q}", headers=h)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert got("") == ids
    assert got(f"member_id={world.members['张伟']}") == ids[:2]
    assert got("kind=activity") == [ids[1], ids[3]]
    assert got("year=2026") == [ids[0], ids[2], ids[3]]
    assert got("area=CW") == [ids[2], ids[4]]
    assert got(f"group_id={world.groups['第一小组']}&year=2025") == [ids[1]]
    assert got("group_id=999999") == []
    seen, cursor = [], None
    while True:
        page = client.get(
            "/v1/duty-records", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=h
        ).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids


def test_duty_status_counts_and_met(client, world, db):
    for member, kind, d in [
        ("张伟", "suggestion", "2026-01-10"),
        ("张伟", "information", "2026-02-10"),
        ("张伟", "activity", "2026-03-10"),
        ("张伟", "activity", "2026-04-10"),
        ("李娜", "suggestion", "2026-05-01"),
        ("李娜", "information", "2025-05-01"),
        ("李娜", "activity", "2027-01-01"),
        ("王强", "activity", "2026-12-31"),
    ]:
        assert _post(client, world, member, kind=kind, date=d).status_code == 201
    with db.session() as s:
        rows = {r.name: r for r in duty_status(s, district_id=world.district_id, year=2026)}
        assert list(rows) == ["张伟", "李娜", "王强"]
        zw, ln, wq = rows["张伟"], rows["李娜"], rows["王强"]
        assert zw.counts == {"suggestion": 1, "information": 1, "activity": 2} and zw.met and zw.missing == []
        assert ln.counts == {"suggestion": 1, "information": 0, "activity": 0} and not ln.met
        assert ln.missing == ["information", "activity"]
        assert wq.counts["activity"] == 1 and wq.missing == ["suggestion", "information"]
        assert zw.home_area_id == world.areas["JW"] and zw.group_id == world.groups["第一小组"]
        assert [
            r.name for r in duty_status(s, district_id=world.district_id, year=2026, area_id=world.areas["CW"])
        ] == ["李娜"]
        assert (
            duty_status(s, district_id=world.district_id, year=2025, area_id=world.areas["CW"])[0].counts["information"]
            == 1
        )
        assert duty_status(s, district_id=world.other_district_id, year=2026) == []
    r = client.get("/v1/duty-records/summary?year=2026", headers=world.h("reader"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2026 and body["members"] == 3 and body["met"] == 1
    assert body["items"][0] == {
        "member_id": world.members["张伟"],
        "name": "张伟",
        "group_id": world.groups["第一小组"],
        "home_area_id": world.areas["JW"],
        "counts": {"suggestion": 1, "information": 1, "activity": 2},
        "met": True,
        "missing": [],
    }
    r = client.get("/v1/duty-records/summary?year=2026&area=CW", headers=world.h("admin"))
    assert [i["name"] for i in r.json()["items"]] == ["李娜"]
    # A liaison's summary is its own area's members, whatever it asks for.
    r = client.get("/v1/duty-records/summary?year=2026&area=CW", headers=world.h("liaison_jw"))
    assert [i["name"] for i in r.json()["items"]] == ["张伟"]
    assert client.get("/v1/duty-records/summary?area=NOPE", headers=world.h("admin")).status_code == 422
    assert client.get("/v1/duty-records/summary?year=99", headers=world.h("admin")).status_code == 422
