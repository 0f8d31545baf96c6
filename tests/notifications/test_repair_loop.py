"""The loop end to end: publish -> members e-mailed -> a member declines through the link ->
after the quiet period and a solve an automatic repair run has published a replacement ->
the replacement is e-mailed -> nothing else in the plan changed.

PostgreSQL: the API server (which does not dispatch on PostgreSQL) plus a real ``matcher
worker`` subprocess running the runs, the notification dispatcher and the repair scanner.
SQLite: the API process alone, with its in-process dispatcher and run executor.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from app.models import Assignment, ChangeEvent, Notification, OptimizationRun
from app.settings import get_settings
from tests.live import serve_app
from tests.notifications.conftest import LINK_RE, add_lawyer, publish_plan, set_emails
from tests.support import app_for

MATCHER = os.path.join(os.path.dirname(sys.executable), "matcher")
PUBLIC = "http://members.example"  # what the messages link to; the test maps it onto the server
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def _env(mailbox) -> dict[str, str]:
    return {
        "MATCHER_NOTIFY_ENABLED": "true",
        "MATCHER_NOTIFY_INTERVAL_S": "0.2",
        "MATCHER_REPAIR_QUIET_S": "1",
        "MATCHER_REPAIR_TIME_LIMIT_S": "2",
        "MATCHER_SMTP_HOST": "127.0.0.1",
        "MATCHER_SMTP_PORT": str(mailbox.port),
        "MATCHER_SMTP_FROM": "zhengxie@chaoyang.example",
        "MATCHER_PUBLIC_BASE_URL": PUBLIC,
    }


def _mail_to(mailbox, address: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for to, mail in list(mailbox.messages):
            if address in to:
                return mail
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} within {timeout}s; got {[to for to, _ in mailbox.messages]}")


def _plan_rows(db) -> dict[int, tuple]:
    with db.session() as s:
        return {
            a.id: (a.demand_id, a.member_id, a.status, a.run_id)
            for a in s.scalars(select(Assignment).order_by(Assignment.id)).unique()
        }


def _local_path(url: str) -> str:
    assert url.startswith(PUBLIC + "/t/")
    return urlsplit(url).path


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_decline_through_the_link_is_repaired_and_the_replacement_told(db, world, mailbox, monkeypatch):
    for key, value in _env(mailbox).items():
        monkeypatch.setenv(key, value)
    if db.kind == "postgresql":
        monkeypatch.setenv("MATCHER_RUN_EXECUTOR", "procrastinate")
    get_settings.cache_clear()
    set_emails(db, world, {"张伟": "zhangwei@example.cn", "李娜": "lina@example.cn"})
    worker = None
    with serve_app(app_for(get_settings())) as base:
        if db.kind == "postgresql":
            env = {**os.environ, "MATCHER_DATABASE_URL": db.url, "MATCHER_LOG_LEVEL": "WARNING"}
            env.pop("MATCHER_RUN_EXECUTOR", None)
            worker = subprocess.Popen([MATCHER, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        http = httpx.Client(base_url=base, timeout=30)
        try:
            plan = publish_plan(db, world, http, run_timeout=90)
            zhang_mail = _mail_to(mailbox, "zhangwei@example.cn")
            _mail_to(mailbox, "lina@example.cn")
            add_lawyer(db, world, email="zhao@example.cn")  # the one who can step in
            before = _plan_rows(db)

            path = _local_path(LINK_RE.search(zhang_mail.get_content()).group(0))
            nonce = NONCE.search(http.get(path).text).group(1)
            r = http.post(path, data={"nonce": nonce, "action": "decline", "reason": "schedule"})
            assert r.status_code == 303

            zhao_mail = _mail_to(mailbox, "zhao@example.cn")
            assert zhao_mail["Subject"].startswith("【委员进社区】补位邀请：物业纠纷法律咨询")
            zhao_path = _local_path(LINK_RE.search(zhao_mail.get_content()).group(0))
            page = http.get(zhao_path)
            assert page.status_code == 200 and "物业纠纷法律咨询" in page.text and "接受" in page.text
        finally:
            http.close()
            if worker is not None:
                worker.terminate()
                _, err = worker.communicate(timeout=30)
                assert b"Traceback" not in err, err.decode()[-3000:]
    after = _plan_rows(db)
    zhang_id = plan.assignments["张伟"]
    # row by row: everything that was there is unchanged, except the declined one
    for row_id, (demand_id, member_id, status, run_id) in before.items():
        expected = "declined" if row_id == zhang_id else status
        assert after[row_id] == (demand_id, member_id, expected, run_id), row_id
    new = {k: v for k, v in after.items() if k not in before}
    with db.session() as s:
        repair = s.scalars(select(OptimizationRun).where(OptimizationRun.mode == "repair")).one()
        assert repair.status == "published" and repair.created_by == "automatic repair"
        assert [v for v in new.values() if v[2] == "published"] == [
            (plan.demands["law"], world.members["赵律师"], "published", repair.id)
        ]
        kinds = set(
            s.execute(
                select(ChangeEvent.change_kind).where(
                    ChangeEvent.entity_type == "optimization_run", ChangeEvent.entity_id == repair.id
                )
            ).scalars()
        )
        assert {"created", "published"} <= kinds  # the repair is in the change feed
        events = sorted(s.scalars(select(Notification.event).where(Notification.status == "sent")))
    assert events == ["proposal", "proposal", "repair_proposal"]
