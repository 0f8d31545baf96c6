"""Assignments: integrators' pull (filters, paging, updated_since, scoping) and the
accept / decline / complete state machine with its side effects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select, update

from app.domain.times import today_local
from app.models import Assignment, Demand, DutyRecord
from tests.factories import add_assigned_demand, add_explained_assignment, add_run

DONE = {
    "response_method": "on_site",
    "outcome": "现场讲解相关法律条款",
    "satisfaction": 5,
    "completed_on": "2026-11-28",
}


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [a["id"] for a in resp.json()["items"]]


def _problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code and body["type"] == f"urn:matcher:problem:{code}"
    return body


def test_list_filters_and_cursor_paging(client, world, db):
    run = add_run(db, world)
    jw = add_assigned_demand(db, world, min_members=1, max_members=2)
    cw = add_assigned_demand(db, world, community="朝外社区", title="防金融诈骗讲座")
    a1 = add_explained_assignment(db, world, jw, "张伟", run_id=run)
    a2 = add_explained_assignment(db, world, jw, "王强", run_id=run, status="accepted")
    a3 = add_explained_assignment(db, world, cw, "李娜", run_id=run, status="declined")
    a4 = add_explained_assignment(db, world, cw, "张伟", status="superseded")
    a5 = add_explained_assignment(db, world, cw, "王强", status="proposed")
    h = world.h("reader")
    # By default the current plan only: no superseded rows, no proposals of unpublished runs.
    assert _ids(client.get("/v1/assignments", headers=h)) == [a1, a2, a3]
    assert _ids(client.get("/v1/assignments?status=proposed", headers=h)) == [a5]
    assert _ids(client.get("/v1/assignments?status=superseded", headers=h)) == [a4]
    assert _ids(client.get(f"/v1/assignments?run_id={run}", headers=h)) == [a1, a2, a3]
    assert _ids(client.get("/v1/assignments?area=JW", headers=h)) == [a1, a2]
    assert _ids(client.get(f"/v1/assignments?member_id={world.members['张伟']}", headers=h)) == [a1]
    assert _ids(client.get(f"/v1/assignments?demand_id={cw}", headers=h)) == [a3]
    assert _ids(client.get("/v1/assignments?status=accepted&status=declined", headers=h)) == [a2, a3]
    assert _ids(
        client.get(f"/v1/assignments?area=CW&member_id={world.members['王强']}&status=proposed", headers=h)
    ) == [a5]
    seen, cursor = [], None
    while True:
        page = client.get(
            "/v1/assignments", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=h
        ).json()
        assert len(page["items"]) <= 2
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [a1, a2, a3]
    r = client.get("/v1/assignments?status=done", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("query.status")
    r = client.get("/v1/assignments?area=NOPE", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area"
    r = client.get("/v1/assignments?limit=100000", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"


def test_updated_since_is_inclusive_and_timezone_aware(client, world, db):
    d = add_assigned_demand(db, world, max_members=3)
    old, mid, new = (add_explained_assignment(db, world, d, m) for m in ("张伟", "李娜", "王强"))
    base = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    with db.session() as s:
        for i, aid in enumerate((old, mid, new)):
            s.execute(update(Assignment).where(Assignment.id == aid).values(updated_at=base + timedelta(hours=i)))
        s.commit()
    h = world.h("reader")
    since = (base + timedelta(hours=1)).isoformat()
    assert _ids(client.get("/v1/assignments", params={"updated_since": since}, headers=h)) == [mid, new]
    # The same instant written in Beijing time (+08:00) selects the same rows.
    beijing = (base + timedelta(hours=1)).astimezone(timezone(timedelta(hours=8))).isoformat()
    assert _ids(client.get("/v1/assignments", params={"updated_since": beijing}, headers=h)) == [mid, new]
    assert _ids(client.get("/v1/assignments", params={"updated_since": "2026-11-01T09:00:01Z"}, headers=h)) == [new]
    # Acting on the oldest one moves it into the incremental window.
    assert client.post(f"/v1/assignments/{old}/accept", headers=world.h("admin")).status_code == 200
    assert _ids(client.get("/v1/assignments", params={"updated_since": "2026-11-01T09:00:01Z"}, headers=h)) == [
        old,
        new,
    ]
    r = client.get("/v1/assignments", params={"updated_since": "yesterday"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.updated_since"


def test_representation_scoping_and_phones(client, world, db):
    run = add_run(db, world)
    jw = add_assigned_demand(db, world)
    cw = add_assigned_demand(db, world, community="朝外社区", title="防金融诈骗讲座")
    a_jw = add_explained_assignment(db, world, jw, "张伟", run_id=run)
    a_cw = add_explained_assignment(
        db,
        world,
        cw,
        "李娜",
        explanation={
            "skill_overlap": ["金融"],
            "home_area": True,
            "distance_km": 0.0,
            "first_activity_this_year": False,
        },
        text=None,
    )
    r = client.get(f"/v1/assignments/{a_jw}", headers=world.h("reader"))
    assert r.status_code == 200 and r.headers["ETag"] == '"v1"'
    body = r.json()
    assert body["demand_title"] == "物业纠纷法律咨询" and body["area_code"] == "JW"
    assert body["community_name"] == "建外社区" and body["member_name"] == "张伟" and body["run_id"] == run
    assert body["member_phone"] is None and body["status"] == "published" and body["score"] == 12.5
    assert body["explanation"]["distance_km"] == 3.2 and body["explanation"]["skill_overlap"] == ["法律咨询"]
    assert body["explanation"]["terms"]["quality"] == 10.0
    assert body["explanation_text"] == "持有 法律咨询; 跨片 3.2 km; 本年度首次活动"
    assert client.get(f"/v1/assignments/{a_jw}", headers=world.h("admin")).json()["member_phone"] == "13800138000"
    assert all(
        a["member_phone"] is None for a in client.get("/v1/assignments", headers=world.h("liaison_jw")).json()["items"]
    )
    # A row stored without text gets one derived from its numbers.
    assert (
        client.get(f"/v1/assignments/{a_cw}", headers=world.h("admin")).json()["explanation_text"] == "持有 金融; 本片"
    )
    # Liaisons see only their own area; other districts see nothing.
    assert client.get(f"/v1/assignments/{a_jw}", headers=world.h("liaison_jw")).status_code == 200
    _problem(client.get(f"/v1/assignments/{a_cw}", headers=world.h("liaison_jw")), 404, "not_found")
    assert _ids(client.get("/v1/assignments", headers=world.h("liaison_jw"))) == [a_jw]
    assert _ids(client.get("/v1/assignments?area=CW", headers=world.h("liaison_jw"))) == []
    assert _ids(client.get("/v1/assignments", headers=world.h("liaison_cw"))) == [a_cw]
    _problem(client.get(f"/v1/assignments/{a_jw}", headers=world.h("other_admin")), 404, "not_found")
    assert _ids(client.get("/v1/assignments", headers=world.h("other_admin"))) == []
    assert client.get("/v1/assignments").status_code == 401
    # An explanation shaped unlike the documented fields still passes through (never a 500).
    odd = add_explained_assignment(
        db, world, jw, "王强", explanation={"load_after": "很多", "novel_term": 1}, text=None
    )
    r = client.get(f"/v1/assignments/{odd}", headers=world.h("reader"))
    assert r.status_code == 200 and r.json()["explanation"]["novel_term"] == 1
    assert r.json()["explanation"]["load_after"] == "很多" and r.json()["explanation_text"] is None


def test_accept_then_complete_writes_one_duty_record_and_closes_demand(client, world, db):
    d = add_assigned_demand(db, world, min_members=2, max_members=2)
    a = add_explained_assignment(db, world, d, "张伟")
    b = add_explained_assignment(db, world, d, "李娜")
    admin = world.h("admin")
    etag = client.get(f"/v1/assignments/{a}", headers=admin).headers["ETag"]
    r = client.post(f"/v1/assignments/{a}/accept", headers={**admin, "If-Match": etag})
    assert r.status_code == 200 and r.json()["status"] == "accepted" and r.json()["accepted_at"]
    assert r.headers["ETag"] != etag
    again = client.post(f"/v1/assignments/{a}/accept", headers=admin)  # idempotent
    assert again.status_code == 200 and again.json()["version"] == r.json()["version"]
    # A stale If-Match on a real transition is refused and changes nothing.
    _problem(
        client.post(f"/v1/assignments/{a}/complete", json=DONE, headers={**admin, "If-Match": etag}),
        412,
        "precondition_failed",
    )
    r = client.post(f"/v1/assignments/{a}/complete", json=DONE, headers=admin)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed" and done["response_method"] == "on_site" and done["satisfaction"] == 5
    assert done["completed_on"] == "2026-11-28" and done["duty_record_id"] and done["completed_at"]
    # Same body again: 200, same result, still exactly one duty record.
    r2 = client.post(f"/v1/assignments/{a}/complete", json=DONE, headers=admin)
    assert r2.status_code == 200 and r2.json() == done
    r3 = client.post(
        f"/v1/assignments/{a}/complete", json={k: v for k, v in DONE.items() if k != "completed_on"}, headers=admin
    )
    assert r3.status_code == 200 and r3.json()["duty_record_id"] == done["duty_record_id"]
    body = _problem(
        client.post(f"/v1/assignments/{a}/complete", json={**DONE, "satisfaction": 3}, headers=admin),
        409,
        "already_completed",
    )
    assert body["from"] == "completed"
    with db.session() as s:
        records = list(s.scalars(select(DutyRecord).where(DutyRecord.assignment_id == a)))
        assert len(records) == 1
        rec = records[0]
        assert (rec.kind, rec.member_id, rec.demand_id, rec.area_id, rec.date.isoformat()) == (
            "activity",
            world.members["张伟"],
            d,
            world.areas["JW"],
            "2026-11-28",
        )
        assert rec.title == "物业纠纷法律咨询"
        assert s.get(Demand, d).status == "assigned"  # b is still open
        assert s.get(Assignment, a).satisfaction == 5
    # The liaison of the area records the second completion (completed_on defaults to today).
    assert client.post(f"/v1/assignments/{b}/accept", headers=admin).status_code == 200
    r = client.post(
        f"/v1/assignments/{b}/complete", json={"response_method": "home_visit"}, headers=world.h("liaison_jw")
    )
    assert r.status_code == 200 and r.json()["completed_on"] == today_local().isoformat()
    with db.session() as s:
        assert s.get(Demand, d).status == "closed"
        assert s.scalar(select(func.count()).select_from(DutyRecord).where(DutyRecord.demand_id == d)) == 2


def test_every_invalid_transition_is_409(client, world, db):
    d = add_assigned_demand(db, world, max_members=3)
    admin = world.h("admin")
    bodies = {"accept": None, "decline": {"reason": "出差"}, "complete": {"response_method": "on_site"}}
    target = {"accept": "accepted", "decline": "declined", "complete": "completed"}
    invalid = [
        ("proposed", "accept"),
        ("proposed", "decline"),
        ("proposed", "complete"),
        ("published", "complete"),
        ("declined", "accept"),
        ("declined", "complete"),
        ("completed", "accept"),
        ("completed", "decline"),
        ("superseded", "accept"),
        ("superseded", "decline"),
        ("superseded", "complete"),
    ]
    ids = {
        status: add_explained_assignment(db, world, d, "张伟", status=status)
        for status in ("proposed", "published", "declined", "completed", "superseded")
    }
    for status, action in invalid:
        r = client.post(f"/v1/assignments/{ids[status]}/{action}", json=bodies[action], headers=admin)
        body = _problem(r, 409, "invalid_transition")
        assert (body["from"], body["to"]) == (status, target[action]), (status, action)
        assert status in body["detail"] and target[action] in body["detail"]
    with db.session() as s:
        assert {s.get(Assignment, i).status for i in ids.values()} == set(ids)  # nothing changed
        assert s.scalar(select(func.count()).select_from(DutyRecord)) == 0


def test_decline_needs_reason_reopens_demand_and_is_idempotent(client, world, db):
    d = add_assigned_demand(db, world, min_members=2, max_members=3)
    a = add_explained_assignment(db, world, d, "张伟")
    b = add_explained_assignment(db, world, d, "李娜", status="accepted")
    c = add_explained_assignment(db, world, d, "王强")
    admin = world.h("admin")
    for payload in ({}, {"reason": ""}, {"reason": "   "}):
        r = client.post(f"/v1/assignments/{a}/decline", json=payload, headers=admin)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["reason"], r.text
    first = client.post(f"/v1/assignments/{a}/decline", json={"reason": "本周出差"}, headers=admin)
    assert first.status_code == 200 and first.json()["status"] == "declined"
    assert first.json()["decline_reason"] == "本周出差"
    with db.session() as s:
        assert s.get(Demand, d).status == "assigned"  # two live assignments still reach min_members
    r = client.post(f"/v1/assignments/{b}/decline", json={"reason": "与物业公司有利害关系"}, headers=admin)
    assert r.status_code == 200 and r.json()["declined_at"]
    with db.session() as s:
        assert s.get(Demand, d).status == "open"  # below min_members: back for repair
        declined = s.scalars(
            select(Assignment.member_id).where(Assignment.demand_id == d, Assignment.status == "declined")
        ).all()
        assert sorted(declined) == sorted([world.members["张伟"], world.members["李娜"]])
    again = client.post(f"/v1/assignments/{a}/decline", json={"reason": "本周出差"}, headers=admin)
    assert again.status_code == 200 and again.json() == first.json()  # a retry changes nothing
    _problem(
        client.post(f"/v1/assignments/{a}/decline", json={"reason": "别的原因"}, headers=admin), 409, "already_declined"
    )
    assert client.get(f"/v1/assignments/{c}", headers=admin).json()["status"] == "published"


def test_action_auth_and_validation(client, world, db):
    jw = add_assigned_demand(db, world, max_members=2)
    a = add_explained_assignment(db, world, jw, "张伟", status="accepted")
    p = add_explained_assignment(db, world, jw, "李娜")
    for role in ("reader", "liaison_jw"):
        _problem(client.post(f"/v1/assignments/{p}/accept", headers=world.h(role)), 403, "forbidden_role")
        _problem(
            client.post(f"/v1/assignments/{p}/decline", json={"reason": "x"}, headers=world.h(role)),
            403,
            "forbidden_role",
        )
    _problem(client.post(f"/v1/assignments/{a}/complete", json=DONE, headers=world.h("reader")), 403, "forbidden_role")
    _problem(client.post(f"/v1/assignments/{a}/complete", json=DONE, headers=world.h("liaison_cw")), 404, "not_found")
    _problem(client.post(f"/v1/assignments/{p}/accept", headers=world.h("other_admin")), 404, "not_found")
    _problem(client.post("/v1/assignments/999999/accept", headers=world.h("admin")), 404, "not_found")
    for bad, field in [
        ({**DONE, "response_method": "phone"}, "response_method"),
        ({**DONE, "satisfaction": 6}, "satisfaction"),
        ({**DONE, "satisfaction": 0}, "satisfaction"),
        ({**DONE, "completed_on": "2026-13-01"}, "completed_on"),
        ({"outcome": "x"}, "response_method"),
        ({**DONE, "extra": 1}, "extra"),
    ]:
        r = client.post(f"/v1/assignments/{a}/complete", json=bad, headers=world.h("admin"))
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [field], (bad, r.text)
    r = client.post(f"/v1/assignments/{a}/complete", json=DONE, headers=world.h("liaison_jw"))
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["member_phone"] is None
