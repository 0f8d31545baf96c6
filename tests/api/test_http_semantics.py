"""HTTP semantics integrators rely on (RFC 9110): required and strong If-Match, 304 for
If-None-Match, a complete Allow on 405, 413 however the body is sent, unknown query parameters,
strict numbers, demand length and completion dates, one time rule, and the default listing of
/v1/assignments. Every test runs on SQLite and PostgreSQL; races and raw-socket uploads go
through a real uvicorn server."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest

from app.api.main import create_app
from tests.factories import add_assigned_demand, add_explained_assignment, add_run, demand_body
from tests.live import serve_app
from tests.support import app_for

DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


def new_demand(client, world) -> tuple[int, str]:
    r = client.post("/v1/demands", json=demand_body(world), headers=world.h("admin"))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.headers["ETag"]


# -- If-Match ----------------------------------------------------------------------------------


def test_patch_and_delete_without_if_match_are_428_naming_the_header(client, world, db):
    member = f"/v1/members/{world.members['张伟']}"
    demand_id, _ = new_demand(client, world)
    for r in (
        client.patch(member, json={"weekly_cap": 3}, headers=world.h("admin")),
        client.delete(member, headers=world.h("admin")),
        client.patch(f"/v1/demands/{demand_id}", json={"title": "改"}, headers=world.h("admin")),
        client.delete(f"/v1/demands/{demand_id}", headers=world.h("admin")),
    ):
        assert r.status_code == 428, r.text
        body = r.json()
        assert body["code"] == "precondition_required" and body["errors"][0]["field"] == "If-Match"
        assert "If-Match" in body["detail"]
    assert client.get(member, headers=world.h("admin")).json()["weekly_cap"] == 2  # nothing changed
    assert client.get(f"/v1/demands/{demand_id}", headers=world.h("admin")).json()["status"] == "open"


def test_every_patch_and_delete_documents_if_match_as_a_required_header(client, world, db):
    paths = client.get("/openapi.json").json()["paths"]
    seen = 0
    for path, item in paths.items():
        for method in ("patch", "delete"):
            if method in item:
                params = {(p["in"], p["name"]): p for p in item[method].get("parameters", [])}
                assert params[("header", "If-Match")]["required"] is True, (method, path)
                assert "428" in item[method]["responses"], (method, path)
                seen += 1
    assert seen >= 15


def test_if_match_uses_the_strong_comparison(client, world, db):
    demand_id, etag = new_demand(client, world)
    url = f"/v1/demands/{demand_id}"
    r = client.patch(url, json={"title": "弱标签"}, headers={**world.h("admin"), "If-Match": f"W/{etag}"})
    assert r.status_code == 412 and r.json()["code"] == "precondition_failed", r.text
    assert "weak" in r.json()["detail"]
    r = client.patch(url, json={"title": "强标签"}, headers={**world.h("admin"), "If-Match": f'"v999", {etag}'})
    assert r.status_code == 200 and r.json()["title"] == "强标签"
    r = client.patch(url, json={"title": "旧标签"}, headers={**world.h("admin"), "If-Match": etag})
    assert r.status_code == 412


def test_a_lost_race_on_one_etag_is_always_412(world, settings, db):
    """20 clients PATCH with the same ETag at once: one wins, every other one is 412."""
    threads = 20
    with serve_app(app_for(settings)) as url, httpx.Client(base_url=url, headers=world.h("admin")) as c:
        r = c.post("/v1/demands", json=demand_body(world))
        assert r.status_code == 201, r.text
        demand_id, etag = r.json()["id"], r.headers["ETag"]
        barrier = threading.Barrier(threads)
        statuses: list[int] = []

        def patch(i: int) -> None:
            with httpx.Client(base_url=url, headers={**world.h("admin"), "If-Match": etag}, timeout=60) as mine:
                barrier.wait(timeout=30)
                statuses.append(mine.patch(f"/v1/demands/{demand_id}", json={"title": f"第{i}次"}).status_code)

        workers = [threading.Thread(target=patch, args=(i,)) for i in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=120)
        assert Counter(statuses) == {200: 1, 412: threads - 1}, Counter(statuses)
        assert c.get(f"/v1/demands/{demand_id}").json()["version"] == 2


# -- If-None-Match, Allow ----------------------------------------------------------------------


def test_if_none_match_with_the_current_tag_is_304_without_a_body(client, world, db):
    url = f"/v1/members/{world.members['李娜']}"
    first = client.get(url, headers=world.h("admin"))
    etag = first.headers["ETag"]
    r = client.get(url, headers={**world.h("admin"), "If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == etag
    r = client.get(url, headers={**world.h("admin"), "If-None-Match": f'"v0", W/{etag}'})  # weak comparison
    assert r.status_code == 304
    r = client.get(url, headers={**world.h("admin"), "If-None-Match": '"v0"'})
    assert r.status_code == 200 and r.json() == first.json()
    client.patch(url, json={"weekly_cap": 4}, headers={**world.h("admin"), "If-Match": etag})
    r = client.get(url, headers={**world.h("admin"), "If-None-Match": etag})
    assert r.status_code == 200 and r.json()["weekly_cap"] == 4


def test_a_demand_read_carries_its_etag_and_answers_304(client, world, db):
    """The single reads answer with a ready response (no second validation hop): the ETag still
    comes with it, and If-None-Match still gives 304."""
    demand_id, etag = new_demand(client, world)
    r = client.get(f"/v1/demands/{demand_id}", headers=world.h("admin"))
    assert r.status_code == 200 and r.headers["ETag"] == etag and r.json()["id"] == demand_id
    r = client.get(f"/v1/demands/{demand_id}", headers={**world.h("admin"), "If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""


def test_405_lists_every_method_of_the_path(client, world, db):
    r = client.options("/v1/areas", headers=world.h("admin"))
    assert r.status_code == 405 and r.headers["content-type"].startswith("application/problem+json")
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    assert client.request("HEAD", "/v1/areas", headers=world.h("admin")).status_code == 405  # so not listed
    r = client.put(f"/v1/areas/{world.areas['JW']}", json={}, headers=world.h("admin"))
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"DELETE", "GET", "PATCH"}
    r = client.get("/v1/assignments/1/accept", headers=world.h("admin"))
    assert r.status_code == 405 and r.headers["allow"] == "POST"


# -- bodies too large --------------------------------------------------------------------------


def _raw_request(url: str, head: bytes, body_chunks, read_timeout: float = 20.0) -> bytes:
    """Send a request over a plain socket without waiting for 100-continue; return the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading after its bound; the answer is still there to read
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 50:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_oversized_bodies_are_413_however_sent(world, settings, db):
    small = settings.model_copy(update={"max_body_bytes": 1 << 20})
    six_mib = 6 << 20
    auth = f"Authorization: Bearer {world.keys['admin']}\r\n".encode()
    with serve_app(create_app(small)) as url:
        # Content-Length declared, the whole body sent at once with no Expect: 100-continue.
        head = b"POST /v1/demands HTTP/1.1\r\nHost: x\r\n" + auth
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % six_mib
        answer = _raw_request(url, head, (b" " * (1 << 20) for _ in range(6)))
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"payload_too_large" in answer
        # Chunked: no length declared; counted as it arrives.
        head = b"POST /v1/demands HTTP/1.1\r\nHost: x\r\n" + auth
        head += b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunks = [b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20)) for _ in range(6)] + [b"0\r\n\r\n"]
        answer = _raw_request(url, head, chunks)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # The same through an ordinary client sending a chunked body (a generator has no length).
        with httpx.Client(base_url=url, headers=world.h("admin"), timeout=30) as c:
            r = c.post(
                "/v1/demands",
                content=(b" " * 65536 for _ in range(96)),
                headers={"Content-Type": "application/json"},
            )
            assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
            assert c.get("/v1/areas").status_code == 200  # the server is fine afterwards


# -- query parameters and numbers --------------------------------------------------------------


def test_unknown_query_parameters_are_422_naming_them(client, world, db):
    r = client.get("/v1/demands?stauts=open", headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["query.stauts"]
    assert "status" in r.json()["detail"]
    r = client.get("/v1/members?limit=5&aera=JW&x=1", headers=world.h("admin"))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"query.aera", "query.x"}
    assert client.get("/v1/members?limit=5&area=JW", headers=world.h("admin")).status_code == 200
    assert client.get("/healthz?probe=1").status_code == 200  # outside /v1 the rule does not apply


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weekly_cap": True}, "weekly_cap"),
        ({"weekly_cap": "3"}, "weekly_cap"),
        ({"max_distance_km": True}, "max_distance_km"),
        ({"max_distance_km": "12"}, "max_distance_km"),
        ({"group_id": False}, "group_id"),
        ({"skills": [{"code": "law", "level": True}]}, "skills.0.level"),
        ({"weekly_slots": [{"weekday": True, "start": "09:00", "end": "10:00"}]}, "weekly_slots.0.weekday"),
    ],
)
def test_numbers_are_strict(client, world, db, body, field):
    payload = {"name": "严格", "home_area": "JW", **body}
    r = client.post("/v1/members", json=payload, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.text
    r = client.post(
        "/v1/members", json={"name": "宽松", "home_area": "JW", "max_distance_km": 12}, headers=world.h("admin")
    )
    assert r.status_code == 201 and r.json()["max_distance_km"] == 12.0  # an integer is a number


def test_integer_lists_refuse_booleans(client, world, db):
    r = client.post("/v1/groups", json={"name": "第二小组", "area_ids": [True]}, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area_ids", r.text


# -- demand length, completion date, time rule -------------------------------------------------


def test_demand_length_is_bounded_and_configurable(client, world, db, monkeypatch):
    from app.settings import get_settings

    start = datetime.fromisoformat(f"{DAY}T09:00:00+08:00")
    long_body = demand_body(world, ends_at=(start + timedelta(days=14, minutes=1)).isoformat())
    r = client.post("/v1/demands", json=long_body, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "ends_at",
        "message": "a demand may last at most 14 days (MATCHER_MAX_DEMAND_DAYS)",
        "code": "too_long",
    }
    ok = demand_body(world, ends_at=(start + timedelta(days=14)).isoformat())
    r = client.post("/v1/demands", json=ok, headers=world.h("admin"))
    assert r.status_code == 201, r.text
    r = client.patch(
        f"/v1/demands/{r.json()['id']}",
        json={"starts_at": (start - timedelta(days=1)).isoformat()},
        headers=world.w("admin"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "too_long"
    monkeypatch.setenv("MATCHER_MAX_DEMAND_DAYS", "30")
    get_settings.cache_clear()
    assert client.post("/v1/demands", json=long_body, headers=world.h("admin")).status_code == 201


def test_completed_on_in_the_future_is_refused(client, world, db):
    from app.domain.times import today_local

    run = add_run(db, world)
    demand = add_assigned_demand(db, world)
    assignment = add_explained_assignment(db, world, demand, "张伟", run_id=run, status="accepted")
    tomorrow = (today_local() + timedelta(days=1)).isoformat()
    r = client.post(
        f"/v1/assignments/{assignment}/complete",
        json={"response_method": "on_site", "completed_on": tomorrow},
        headers=world.h("admin"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "completed_on", r.text
    assert r.json()["errors"][0]["code"] == "future_date"
    r = client.post(
        f"/v1/assignments/{assignment}/complete", json={"response_method": "on_site"}, headers=world.h("admin")
    )
    assert r.status_code == 200 and r.json()["completed_on"] == today_local().isoformat()


def test_a_time_without_offset_is_beijing_time_everywhere(client, world, db):
    run = add_run(db, world)
    demand = add_assigned_demand(db, world)
    assignment = add_explained_assignment(db, world, demand, "张伟", run_id=run)
    stamp = datetime.fromisoformat(
        client.get(f"/v1/assignments/{assignment}", headers=world.h("admin")).json()["updated_at"]
    )
    beijing = stamp.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+08:00").tzinfo)

    def listed(since: str) -> list[int]:
        r = client.get("/v1/assignments", params={"updated_since": since}, headers=world.h("admin"))
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["items"]]

    naive_beijing = (beijing - timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    naive_later = (beijing + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert listed(naive_beijing) == [assignment]  # read as Beijing time: one second before the stamp
    assert listed(naive_later) == []  # (as UTC it would be 7 hours earlier and list it)
    # Demand times follow the same rule.
    r = client.post(
        "/v1/demands",
        json=demand_body(world, starts_at=f"{DAY}T09:00:00", ends_at=f"{DAY}T11:00:00"),
        headers=world.h("admin"),
    )
    assert r.json()["starts_at"] == f"{DAY}T09:00:00+08:00"
    ids = [
        d["id"]
        for d in client.get("/v1/demands", params={"starts_after": f"{DAY}T09:00:00"}, headers=world.h("admin")).json()[
            "items"
        ]
    ]
    assert r.json()["id"] in ids


def test_a_number_is_no_time_in_a_filter(client, world, db):
    """Found by schemathesis's coverage phase: ``/v1/audit?until=0.5`` was read as a Unix time."""
    for params in ({"until": "0.5"}, {"since": "1700000000"}, {"since": "2026"}):
        r = client.get("/v1/audit", params=params, headers=world.h("admin"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"query.{next(iter(params))}", r.text
    assert client.get("/v1/audit", params={"since": "2026-01-01T08:00:00"}, headers=world.h("admin")).status_code == 200
    r = client.get("/v1/demands", params={"starts_after": "1800000000"}, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.starts_after", r.text


# -- /v1/assignments by default ----------------------------------------------------------------


def test_assignments_list_the_current_plan_by_default(client, world, db):
    published = add_run(db, world)
    unpublished = add_run(db, world)
    demand = add_assigned_demand(db, world)
    live = add_explained_assignment(db, world, demand, "张伟", run_id=published)
    proposal = add_explained_assignment(db, world, demand, "王强", run_id=unpublished, status="proposed")

    def ids(**params) -> list[int]:
        return [
            a["id"] for a in client.get("/v1/assignments", params=params, headers=world.h("reader")).json()["items"]
        ]

    assert ids() == [live]
    assert ids(run_id=unpublished) == [proposal]
    assert ids(status="proposed") == [proposal]
    assert ids(status=["published", "proposed"]) == [live, proposal]
