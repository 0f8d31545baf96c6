"""Webhooks: registration, HMAC signatures, in-order delivery with retries and backoff,
against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from app.db import get_sessionmaker
from app.services.webhooks import WebhookSettings, dispatch_once, start_dispatcher, verify_signature
from tests.factories import new_demand, new_run
from tests.live import Receiver

FAST = WebhookSettings(base_delay_s=1.0, max_delay_s=8.0, timeout_s=5.0, interval_s=0.05)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _register(client, world, url, event_types=("demand.changed",), **extra):
    r = client.post(
        "/v1/webhooks", json={"url": url, "event_types": list(event_types), **extra}, headers=world.h("admin")
    )
    assert r.status_code == 201, r.text
    return r.json()


def _demands(db, world, n, area="JW", community="建外社区"):
    ids = []
    with db.session() as s:
        for i in range(n):
            d = new_demand(world.district_id, world.areas[area], world.communities[community], f"需求{i}")
            s.add(d)
            s.commit()  # one transaction (and one change event) each
            ids.append(d.id)
    return ids


def _dispatch(db, at):
    return dispatch_once(get_sessionmaker(db.url), now=at, config=FAST)


def _log(client, world, hook_id):
    r = client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_registration_validation_and_lifecycle(client, world, receiver):
    admin = world.h("admin")
    cases = [
        ({"url": "ftp://example.org/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http:///path"}, "url"),
        ({"event_types": ["demand.created"]}, "event_types.0"),
        ({"event_types": []}, "event_types"),
        ({"secret": "short"}, "secret"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in cases:
        body = {"url": receiver.url, "event_types": ["demand.changed"], **change}
        r = client.post("/v1/webhooks", json=body, headers=admin)
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == [field], r.text
    body = {"url": receiver.url, "event_types": ["run.published"]}
    assert client.post("/v1/webhooks", json=body, headers=world.h("reader")).status_code == 403
    assert client.post("/v1/webhooks", json=body, headers=world.h("liaison_jw")).status_code == 403
    assert client.get("/v1/webhooks", headers=world.h("reader")).status_code == 403

    created = _register(client, world, receiver.url, ["run.published", "assignment.changed", "run.published"])
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    assert created["event_types"] == ["run.published", "assignment.changed"] and created["active"] is True
    chosen = _register(client, world, receiver.url, secret="my-own-secret-0123456789")
    assert chosen["secret"] == "my-own-secret-0123456789"
    r = client.get(f"/v1/webhooks/{created['id']}", headers=admin)
    assert r.status_code == 200 and "secret" not in r.json()
    etag = r.headers["ETag"]
    assert [w["id"] for w in client.get("/v1/webhooks", headers=admin).json()["items"]] == [created["id"], chosen["id"]]
    r = client.patch(
        f"/v1/webhooks/{created['id']}", json={"event_types": ["run.changed"]}, headers={**admin, "If-Match": etag}
    )
    assert r.status_code == 200 and r.json()["event_types"] == ["run.changed"]
    r = client.patch(f"/v1/webhooks/{created['id']}", json={"url": "x"}, headers={**admin, "If-Match": etag})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"
    r = client.patch(
        f"/v1/webhooks/{created['id']}", json={"url": receiver.url + "2"}, headers={**admin, "If-Match": etag}
    )
    assert r.status_code == 412
    r = client.delete(f"/v1/webhooks/{created['id']}", headers={**admin, "If-Match": "*"})
    assert r.status_code == 200 and r.json()["active"] is False
    assert [w["id"] for w in client.get("/v1/webhooks?active=true", headers=admin).json()["items"]] == [chosen["id"]]
    assert client.get(f"/v1/webhooks/{created['id']}", headers=world.h("other_admin")).status_code == 404
    assert client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=world.h("other_admin")).status_code == 404
    assert client.get("/v1/webhooks/999999/deliveries", headers=admin).status_code == 404


def test_signed_deliveries_of_subscribed_events_only(client, world, db, receiver):
    _demands(db, world, 1)  # before registration: not delivered
    hook = _register(client, world, receiver.url, ["demand.changed", "run.published"])
    [demand_id] = _demands(db, world, 1, "CW", "朝外社区")
    with db.session() as s:
        run = new_run(world.district_id)
        s.add(run)
        s.commit()  # run.changed: not subscribed
        run.status = "published"
        s.commit()
    result = _dispatch(db, T0)
    assert (result.queued, result.delivered, result.failed_attempts) == (2, 2, 0)
    got = receiver.accepted
    assert [r.headers["X-Matcher-Event"] for r in got] == ["demand.changed", "run.published"]
    first = got[0].json
    assert first["type"] == "demand.changed" and str(first["id"]) == got[0].headers["X-Matcher-Delivery"]
    assert first["data"]["entity_id"] == demand_id and first["data"]["change_kind"] == "created"
    assert first["data"]["state"]["title"] == "需求0" and got[1].json["data"]["state"]["status"] == "published"
    for r in got:
        header = r.headers["X-Matcher-Signature"]
        assert header.startswith("t=") and ",v1=" in header
        assert verify_signature(hook["secret"], header, r.body)
        assert not verify_signature("whsec_wrong", header, r.body)
        assert not verify_signature(hook["secret"], header, r.body.replace("需求0".encode(), "需求9".encode()) + b" ")
        assert not verify_signature(hook["secret"], header, r.body, now=time.time() + 3600)  # replayed later
    assert not verify_signature(hook["secret"], None, got[0].body)
    assert not verify_signature(hook["secret"], "v1=abc", got[0].body)
    assert _dispatch(db, T0 + timedelta(seconds=5)).delivered == 0  # nothing twice
    log = _log(client, world, hook["id"])
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("delivered", 1, 200)] * 2


def test_failing_receiver_gets_retries_with_backoff_then_everything_once_in_order(client, world, db, receiver):
    hook = _register(client, world, receiver.url)
    ids = _demands(db, world, 3)
    receiver.statuses = [500, 503, 500]
    steps = [(0, 1), (0.5, 0), (1, 1), (2.9, 0), (3, 1), (6.9, 0), (7, 3)]  # (seconds after T0, requests made)
    for offset, expected_requests in steps:
        before = len(receiver.requests)
        _dispatch(db, T0 + timedelta(seconds=offset))
        assert len(receiver.requests) - before == expected_requests, offset
        if offset == 3:
            head = _log(client, world, hook["id"])[0]
            assert (head["status"], head["attempts"], head["last_status_code"]) == ("pending", 3, 500)
            assert "HTTP 500" in head["last_error"]
            due = datetime.fromisoformat(head["next_attempt_at"])
            assert due == T0 + timedelta(seconds=7)  # 1 s, then 2 s, then 4 s
            assert {d["status"] for d in _log(client, world, hook["id"])[1:]} == {"pending"}
            assert {d["attempts"] for d in _log(client, world, hook["id"])[1:]} == {0}  # in order: they wait
    assert [r.json["data"]["entity_id"] for r in receiver.accepted] == ids
    assert len({r.headers["X-Matcher-Delivery"] for r in receiver.accepted}) == 3
    assert [r.headers["X-Matcher-Attempt"] for r in receiver.requests[:4]] == ["1", "2", "3", "4"]
    log = _log(client, world, hook["id"])
    assert [(d["status"], d["attempts"], d["last_status_code"], d["last_error"]) for d in log] == [
        ("delivered", 4, 200, None),
        ("delivered", 1, 200, None),
        ("delivered", 1, 200, None),
    ]
    assert log[0]["delivered_at"] is not None
    r = client.get(f"/v1/webhooks/{hook['id']}/deliveries?status=pending", headers=world.h("admin"))
    assert r.status_code == 200 and r.json()["items"] == []


def test_receiver_that_is_down_receives_everything_once_it_is_back(client, world, db):
    down = Receiver()  # not started: connection refused
    hook = _register(client, world, down.url, ["demand.changed"])
    ids = _demands(db, world, 2)
    result = _dispatch(db, T0)
    assert (result.queued, result.delivered, result.failed_attempts) == (2, 0, 1)
    head = _log(client, world, hook["id"])[0]
    assert head["status"] == "pending" and head["attempts"] == 1 and head["last_status_code"] is None
    assert "Connect" in head["last_error"]
    more = _demands(db, world, 1)  # changes keep coming while it is down
    result = _dispatch(db, T0 + timedelta(seconds=0.9))
    assert (result.queued, result.delivered, result.failed_attempts) == (1, 0, 0)  # queued; still backing off
    down.start()
    try:
        result = _dispatch(db, T0 + timedelta(seconds=1))
        assert (result.queued, result.delivered, result.failed_attempts) == (0, 3, 0)
        assert [r.json["data"]["entity_id"] for r in down.accepted] == ids + more
    finally:
        down.stop()
    log = _log(client, world, hook["id"])
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 2), ("delivered", 1), ("delivered", 1)]


def test_inactive_webhook_gets_nothing_and_max_attempts_gives_up(client, world, db, receiver):
    off = _register(client, world, receiver.url, active=False)
    hook = _register(client, world, receiver.url)
    _demands(db, world, 2)
    receiver.statuses = [500]
    result = dispatch_once(get_sessionmaker(db.url), now=T0, config=FAST.model_copy(update={"max_attempts": 1}))
    assert (result.queued, result.delivered, result.failed_attempts) == (2, 1, 1)
    assert [(d["status"], d["attempts"]) for d in _log(client, world, hook["id"])] == [("failed", 1), ("delivered", 1)]
    assert _log(client, world, off["id"]) == []


def test_background_dispatcher_delivers_and_stops(client, world, db, receiver):
    _register(client, world, receiver.url)
    stop = start_dispatcher(db.url, FAST)
    try:
        _demands(db, world, 2)
        deadline = time.monotonic() + 20
        while len(receiver.accepted) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert len(receiver.accepted) == 2


def test_two_dispatchers_at_once_deliver_each_event_once_in_order(client, world, db, receiver):
    hook = _register(client, world, receiver.url)
    ids = _demands(db, world, 12)
    receiver.statuses = [500, 500]
    errors: list[BaseException] = []

    def run(offset_ms: int) -> None:
        try:
            for step in range(12):
                _dispatch(db, T0 + timedelta(seconds=step, milliseconds=offset_ms))
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ms,)) for ms in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    delivered = [int(r.headers["X-Matcher-Delivery"]) for r in receiver.accepted]
    assert len(delivered) == len(set(delivered)) == 12
    assert [r.json["data"]["entity_id"] for r in receiver.accepted] == ids
    assert {d["status"] for d in _log(client, world, hook["id"])} == {"delivered"}


def test_disabled_dispatcher_starts_nothing(db):
    stop = start_dispatcher(db.url, WebhookSettings(enabled=False))
    assert not any(t.name == "webhook-dispatcher" for t in threading.enumerate())
    stop()
