"""Outbox rules without a server: reminders and nudges once, the transaction rule, the office view."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.db import get_sessionmaker
from app.models import Assignment, Demand, Notification
from app.models.base import utcnow
from app.services.notifications import reminders
from app.services.runs.publish import tell_members
from tests.factories import add_assignment, add_demand
from tests.notifications.conftest import cfg, dispatch


def _count(db, event: str | None = None) -> int:
    with db.session() as s:
        stmt = select(func.count()).select_from(Notification)
        if event:
            stmt = stmt.where(Notification.event == event)
        return s.scalar(stmt)


def _soon(db, demand_id: int, hours: float) -> None:
    with db.session() as s:
        d = s.get(Demand, demand_id)
        d.starts_at = utcnow() + timedelta(hours=hours)
        d.ends_at = d.starts_at + timedelta(hours=2)
        s.commit()


def test_reminder_before_the_event_and_nudge_for_silence_each_once(db, world):
    accepted = add_assignment(db, world, add_demand(db, world), "张伟", "accepted")
    later = add_assignment(db, world, add_demand(db, world, day=4, skills=("finance",)), "李娜", "accepted")
    silent = add_assignment(
        db, world, add_demand(db, world, skills=("venue",), community="清友园社区"), "王强", "published"
    )
    with db.session() as s:
        demand_of = {a.id: a.demand_id for a in s.scalars(select(Assignment)).unique()}
    _soon(db, demand_of[accepted], 20)  # within the 24 h before the event
    _soon(db, demand_of[later], 30)  # not yet
    _soon(db, demand_of[silent], 72)
    factory = get_sessionmaker(db.url)
    config = cfg(reminder_before_h=24, nudge_after_h=48)
    now = utcnow()
    with db.session() as s:  # the proposal to 王强 went out 49 h ago and was never answered
        tell_members(s, run=_run_stub(), published=[s.get(Assignment, silent)], superseded=[])
        s.commit()
        s.execute(update(Notification).values(status="sent", sent_at=now - timedelta(hours=49)))
        s.commit()
    assert reminders.scan(factory, now=now, cfg=config) == {"reminders": 1, "nudges": 1}
    assert reminders.scan(factory, now=now, cfg=config) == {"reminders": 0, "nudges": 0}  # once
    with db.session() as s:
        rows = {(n.event, n.assignment_id) for n in s.scalars(select(Notification))}
    assert rows == {("proposal", silent), ("reminder", accepted), ("nudge", silent)}
    # the second reminder comes when its time is there, still once
    assert reminders.scan(factory, now=now + timedelta(hours=7), cfg=config)["reminders"] == 1
    assert dispatch(db, config).sent == 3  # log channel: both reminders and the nudge go out


def _run_stub():
    from app.models import OptimizationRun

    return OptimizationRun(mode="full")


def test_rolled_back_publish_leaves_no_notification(db, world):
    a = add_assignment(db, world, add_demand(db, world), "张伟", "published")
    with db.session() as s:
        tell_members(s, run=_run_stub(), published=[s.get(Assignment, a)], superseded=[])
        assert _count_in(s) == 1
        s.rollback()
    assert _count(db) == 0


def _count_in(s) -> int:
    return s.scalar(select(func.count()).select_from(Notification))


def test_office_view_filters_pages_and_retries(db, world, client):
    ids = [add_assignment(db, world, add_demand(db, world, day=i), "张伟", "published") for i in range(3)]
    ids.append(add_assignment(db, world, add_demand(db, world, skills=("finance",)), "李娜", "published"))
    with db.session() as s:
        tell_members(s, run=_run_stub(), published=[s.get(Assignment, i) for i in ids], superseded=[])
        s.commit()
        s.execute(
            update(Notification).where(Notification.assignment_id == ids[0]).values(status="failed", last_error="x")
        )
        s.execute(update(Notification).where(Notification.assignment_id == ids[1]).values(status="sent"))
        s.commit()
    h = world.h("admin")
    body = client.get("/v1/notifications", params={"member_id": world.members["张伟"], "limit": 2}, headers=h).json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = client.get(
        "/v1/notifications", params={"member_id": world.members["张伟"], "cursor": body["next_cursor"]}, headers=h
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    failed = client.get("/v1/notifications", params={"status": "failed", "channel": "log"}, headers=h).json()["items"]
    assert [n["assignment_id"] for n in failed] == [ids[0]] and failed[0]["event"] == "proposal"
    assert client.get("/v1/notifications", params={"status": "lost"}, headers=h).status_code == 422
    assert client.get("/v1/notifications", headers=world.h("reader")).status_code == 403
    r = client.post(f"/v1/notifications/{failed[0]['id']}/retry", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    sent = client.get("/v1/notifications", params={"status": "sent"}, headers=h).json()["items"][0]
    r = client.post(f"/v1/notifications/{sent['id']}/retry", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "notification_sent"
    assert client.post(f"/v1/notifications/{sent['id']}/retry", headers=world.h("other_admin")).status_code == 404
    assert dispatch(db, cfg()).sent == 3  # the retried one and the two still pending
    log = client.get(
        "/v1/notifications", params={"status": "sent", "member_id": world.members["李娜"]}, headers=h
    ).json()
    assert log["items"][0]["attempt_log"][0]["ok"] is True


def test_member_email_and_channel_through_the_api(db, world, client):
    h = world.h("admin")
    body = {"name": "钱律师", "home_area": "JW", "email": "qian@example.cn", "preferred_channel": "email"}
    r = client.post("/v1/members", json=body, headers=h)
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]
    assert (r.json()["email"], r.json()["preferred_channel"]) == ("qian@example.cn", "email")
    read = client.get(f"/v1/members/{member_id}", headers=world.h("reader")).json()
    assert read["email"] is None and read["preferred_channel"] == "email"  # addresses are for admins only
    bad = client.post("/v1/members", json={**body, "email": "not-an-address"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    bad = client.post("/v1/members", json={**body, "preferred_channel": "pigeon"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "preferred_channel"


def test_member_link_from_the_cli(db, world, settings):
    from typer.testing import CliRunner

    from app.cli import cli
    from app.models import MemberLink
    from app.services.notifications.links import token_hash

    result = CliRunner().invoke(cli, ["links", "member", "M-张伟"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("http://127.0.0.1:8000/m/")
    with db.session() as s:
        link = s.scalars(select(MemberLink)).one()
        assert link.token_hash == token_hash(url.rsplit("/", 1)[1]) and link.member_id == world.members["张伟"]
    assert CliRunner().invoke(cli, ["links", "member", "nobody"]).exit_code == 2


def test_every_message_and_label_is_in_the_catalogue():
    from app.domain.enums import LinkKind, NotificationChannel, NotificationEvent, NotificationStatus
    from app.i18n import label, t
    from app.services.member_tasks import DECLINE_REASONS

    params = {
        "name": "张伟",
        "title": "讲座",
        "place": "建外街道建外社区",
        "when": "2026-12-07 09:00",
        "why": "本片",
        "url": "u",
    }
    for event in NotificationEvent:
        assert t(f"notify.subject.{event}", **params).startswith("【委员进社区】")
        assert "张伟委员您好" in t(f"notify.body.{event}", **params)
    for enum in (LinkKind, NotificationChannel, NotificationEvent, NotificationStatus):
        assert all(label(v) for v in enum)
    assert all(t(f"link.reason.{r}") for r in DECLINE_REASONS)
