"""Notification and personal-link tests: the API world, a real server, a published plan.

Most tests drive the dispatcher by hand (``dispatch``) so they decide when time passes; the
end-to-end tests run it in the background (API process on SQLite, ``matcher worker`` on
PostgreSQL). Runs execute in-process unless a test says otherwise.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.models import Assignment, Member, MemberSkill
from app.services.notifications.dispatcher import Dispatcher, DispatchResult
from app.services.notifications.links import MintedLink, mint_member_link, mint_task_link
from app.services.ratelimit import link_limiter
from app.services.runs.executor import InProcessExecutor
from app.settings import NotifySettings, get_settings
from tests.factories import WEEK, WEEK_START, World, add_demand
from tests.live import free_port, serve_app
from tests.support import app_for

LINK_RE = re.compile(r"https?://[^\s/]+/t/[A-Za-z0-9_\-]+")


@pytest.fixture(autouse=True)
def _notify_env(monkeypatch):
    monkeypatch.setenv("MATCHER_RUN_EXECUTOR", "inprocess")
    monkeypatch.setenv("MATCHER_NOTIFY_DEFAULT_CHANNEL", "log")
    get_settings.cache_clear()
    link_limiter.reset()
    yield
    link_limiter.reset()
    get_settings.cache_clear()


@pytest.fixture
def server(settings) -> Iterator[str]:
    """The app on a real uvicorn server (its own dispatcher off unless a test turns it on)."""
    with serve_app(app_for(settings)) as base:
        yield base


@pytest.fixture
def http(server) -> Iterator[httpx.Client]:
    """One client for the test (a new client per request costs an SSL context each time)."""
    with httpx.Client(base_url=server, follow_redirects=False, timeout=30) as c:
        yield c


def cfg(**overrides) -> NotifySettings:
    return NotifySettings(notify_base_delay_s=1.0, **overrides)


def dispatch(db, config: NotifySettings, now: datetime | None = None) -> DispatchResult:
    return Dispatcher(db.url, config, executor=InProcessExecutor(db.url)).run_once(now, scan=True)


def add_lawyer(db, w: World, name: str = "赵律师", area: str = "JW", email: str | None = None) -> int:
    with db.session() as s:
        m = Member(
            district_id=w.district_id,
            name=name,
            home_area_id=w.areas[area],
            group_id=w.groups["第一小组"],
            phone="13900000001",
            email=email,
        )
        m.skills = [MemberSkill(skill_id=w.skills["law"], level=1)]
        s.add(m)
        s.commit()
        w.members[name] = m.id
        return m.id


def set_emails(db, w: World, emails: dict[str, str]) -> None:
    with db.session() as s:
        for name, address in emails.items():
            s.get(Member, w.members[name]).email = address
        s.commit()


def wait_run(http: httpx.Client, w: World, run_id: int, statuses=("succeeded", "failed"), timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/v1/optimization-runs/{run_id}", headers=w.h("admin")).json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"run {run_id} still {body['status']}"
        time.sleep(0.1)


@dataclass
class Plan:
    demands: dict[str, int]
    run_id: int
    assignments: dict[str, int] = field(default_factory=dict)  # member name -> published assignment


def publish_plan(db, w: World, http: httpx.Client, *, run_timeout: float = 60.0) -> Plan:
    """Two needs (law -> 张伟, finance -> 李娜) planned and published through the API."""
    demands = {
        "law": add_demand(db, w, title="物业纠纷法律咨询", skills=("law",), day=2),
        "finance": add_demand(db, w, community="朝外社区", title="防范金融诈骗讲座", skills=("finance",), day=3),
    }
    r = http.post("/v1/optimization-runs", json={"week": WEEK, "time_limit_s": 2}, headers=w.h("admin"))
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert wait_run(http, w, run_id, timeout=run_timeout)["status"] == "succeeded"
    r = http.post(f"/v1/optimization-runs/{run_id}/publish", headers=w.h("admin"))
    assert r.status_code == 200, r.text
    plan = Plan(demands, run_id)
    names = {v: k for k, v in w.members.items()}
    with db.session() as s:
        for a in s.scalars(select(Assignment).where(Assignment.run_id == run_id, Assignment.status == "published")):
            plan.assignments[names[a.member_id]] = a.id
    return plan


def stored_plan(db, w: World, http: httpx.Client) -> Plan:
    """The same two needs with the plan a run would store (law -> 张伟, finance -> 李娜), written
    directly, then published through the API: for tests about links, not about solving."""
    from app.models import OptimizationRun

    demands = {
        "law": add_demand(db, w, title="物业纠纷法律咨询", skills=("law",), day=2),
        "finance": add_demand(db, w, community="朝外社区", title="防范金融诈骗讲座", skills=("finance",), day=3),
    }
    with db.session() as s:
        run = OptimizationRun(
            district_id=w.district_id,
            window_start=WEEK_START,
            window_end=WEEK_START + timedelta(days=6),
            week=WEEK,
            status="succeeded",
            solver_status="OPTIMAL",
            stats={"plan": {"demand_ids": sorted(demands.values()), "kept_pairs": []}},
        )
        s.add(run)
        s.flush()
        for need, name in (("law", "张伟"), ("finance", "李娜")):
            s.add(
                Assignment(
                    district_id=w.district_id,
                    run_id=run.id,
                    demand_id=demands[need],
                    member_id=w.members[name],
                    area_id=w.areas["JW" if need == "law" else "CW"],
                    status="proposed",
                    explanation_text="持有 法律咨询; 本片" if need == "law" else "持有 金融; 本片",
                )
            )
        s.commit()
        run_id = run.id
    r = http.post(f"/v1/optimization-runs/{run_id}/publish", headers=w.h("admin"))
    assert r.status_code == 200, r.text
    plan = Plan(demands, run_id)
    names = {v: k for k, v in w.members.items()}
    with db.session() as s:
        for a in s.scalars(select(Assignment).where(Assignment.run_id == run_id, Assignment.status == "published")):
            plan.assignments[names[a.member_id]] = a.id
    return plan


def task_link(db, assignment_id: int) -> MintedLink:
    with db.session() as s:
        minted = mint_task_link(s, assignment=s.get(Assignment, assignment_id))
        s.commit()
        return minted


def member_link(db, w: World, name: str) -> MintedLink:
    with db.session() as s:
        minted = mint_member_link(s, district_id=w.district_id, member_id=w.members[name])
        s.commit()
        return minted


@dataclass
class Mailbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it received."""

    port: int = field(default_factory=free_port)
    messages: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd handler API
        from email import message_from_bytes, policy

        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def start(self) -> Mailbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def smtp_cfg(self, **overrides) -> NotifySettings:
        return cfg(smtp_host="127.0.0.1", smtp_port=self.port, smtp_from="zhengxie@chaoyang.example", **overrides)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()
