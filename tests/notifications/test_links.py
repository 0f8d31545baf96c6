"""Personal links against a real server on both databases: what a token opens, and what not."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from app.models import Assignment, ChangeEvent, Demand, DutyRecord, Member, MemberLink, RepairMark
from app.models.base import utcnow
from app.services.notifications.links import redact_path, token_hash
from app.services.runs.problem_builder import build_problem
from tests.factories import WEEK
from tests.notifications.conftest import member_link, stored_plan, task_link, wait_run

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def _post(http: httpx.Client, path: str, data: dict, **kw) -> httpx.Response:
    return http.post(path, data=data, **kw)


def _nonce(page: str) -> str:
    return NONCE.search(page).group(1)


def _assignment(db, assignment_id: int) -> Assignment:
    with db.session() as s:
        return s.get(Assignment, assignment_id)


def _events(db, assignment_id: int) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(ChangeEvent)
            .where(ChangeEvent.entity_type == "assignment", ChangeEvent.entity_id == assignment_id)
        )


def test_task_page_shows_the_need_and_accept_is_idempotent(db, world, server, http):
    plan = stored_plan(db, world, http)
    link = task_link(db, plan.assignments["张伟"])
    path = f"/t/{link.token}"
    page = http.get(path)
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert "form-action 'self'" in page.headers["content-security-policy"]
    html = page.text
    for expected in (
        "物业纠纷法律咨询",
        "建外社区",
        "建外街道",
        "联络员JW",
        "010-65002000",
        "为什么请您",
        "接受",
        "婉拒",
    ):
        assert expected in html, expected
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # nothing loaded from outside
    with db.session() as s:  # stored as a hash only, 192 bits of randomness, expires after the need
        row = s.get(MemberLink, link.link.id)
        demand = s.get(Demand, plan.demands["law"])
        assert row.token_hash == token_hash(link.token) and link.token not in (row.token_hash, row.form_nonce)
        assert len(link.token) >= 32
        assert (
            abs(
                (
                    row.expires_at - (demand.ends_at.replace(tzinfo=row.expires_at.tzinfo) + timedelta(days=14))
                ).total_seconds()
            )
            < 1
        )

    before = _events(db, plan.assignments["张伟"])
    nonce = _nonce(html)
    for _ in range(2):  # a double tap
        r = _post(http, path, {"nonce": nonce, "action": "accept"})
        assert r.status_code == 303 and r.headers["location"] == f"{path}?done=accepted"
    assert _assignment(db, plan.assignments["张伟"]).status == "accepted"
    assert _events(db, plan.assignments["张伟"]) == before + 1  # one change in the feed, not two
    assert "已接受" in http.get(path + "?done=accepted").text


def test_guessing_forged_forms_and_other_members(db, world, server, http):
    plan = stored_plan(db, world, http)
    link = task_link(db, plan.assignments["张伟"])
    mine = member_link(db, world, "张伟")
    for path in (
        f"/t/{secrets.token_urlsafe(24)}",  # a guess
        f"/t/{link.token[:-1]}",  # almost right
        f"/t/{mine.token}",  # a member token is no task token
        f"/m/{link.token}",  # nor the other way round
        "/t/short",
    ):
        r = http.get(path)
        assert r.status_code == 404 and "链接无效" in r.text and "物业纠纷" not in r.text, path
    path = f"/t/{link.token}"
    nonce = _nonce(http.get(path).text)
    for data, headers in (
        ({"action": "accept"}, {}),  # no nonce
        ({"action": "accept", "nonce": "x" * 32}, {}),  # wrong nonce
        ({"action": "accept", "nonce": nonce}, {"Origin": "https://evil.example"}),  # another site
    ):
        r = _post(http, path, data, headers=headers)
        assert r.status_code == 403 and "表单已过期" in r.text
    assert _assignment(db, plan.assignments["张伟"]).status == "published"
    # Zhang's member link cannot touch Li's assignment
    m_nonce = _nonce(http.get(f"/m/{mine.token}").text)
    r = _post(
        http,
        f"/m/{mine.token}/tasks/{plan.assignments['李娜']}",
        {"nonce": m_nonce, "action": "decline", "reason": "health"},
    )
    assert r.status_code == 404
    assert _assignment(db, plan.assignments["李娜"]).status == "published"
    # ...but answers his own
    r = _post(http, f"/m/{mine.token}/tasks/{plan.assignments['张伟']}", {"nonce": m_nonce, "action": "accept"})
    assert r.status_code == 303 and _assignment(db, plan.assignments["张伟"]).status == "accepted"


def test_expired_and_revoked_on_supersede(db, world, server, http):
    plan = stored_plan(db, world, http)
    old = task_link(db, plan.assignments["张伟"])
    expired = task_link(db, plan.assignments["李娜"])
    with db.session() as s:
        s.execute(
            update(MemberLink)
            .where(MemberLink.id == expired.link.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        s.commit()
    r = http.get(f"/t/{expired.token}")
    assert r.status_code == 410 and "链接已过期" in r.text and "防范金融诈骗" not in r.text
    # a second full run re-plans the week: the old proposal is superseded, its link revoked
    r = http.post("/v1/optimization-runs", json={"week": WEEK, "time_limit_s": 2}, headers=world.h("admin"))
    run2 = r.json()["id"]
    assert wait_run(http, world, run2)["status"] == "succeeded"
    assert http.post(f"/v1/optimization-runs/{run2}/publish", headers=world.h("admin")).status_code == 200
    assert _assignment(db, plan.assignments["张伟"]).status == "superseded"
    r = http.get(f"/t/{old.token}")
    assert r.status_code == 410 and "链接已失效" in r.text and "物业纠纷" not in r.text
    # the new assignment of the same member has its own, working link (no reuse across assignments)
    with db.session() as s:
        new_id = s.scalar(
            select(Assignment.id).where(Assignment.run_id == run2, Assignment.member_id == world.members["张伟"])
        )
    fresh = task_link(db, new_id)
    assert fresh.token != old.token and http.get(f"/t/{fresh.token}").status_code == 200


def test_decline_marks_the_week_for_repair_and_double_tap_keeps_the_first_answer(db, world, server, http):
    plan = stored_plan(db, world, http)
    link = task_link(db, plan.assignments["张伟"])
    path = f"/t/{link.token}"
    nonce = _nonce(http.get(path).text)
    assert _post(http, path, {"nonce": nonce, "action": "decline", "reason": "schedule"}).status_code == 303
    assert _post(http, path, {"nonce": nonce, "action": "decline", "reason_text": "改主意了"}).status_code == 303
    a = _assignment(db, plan.assignments["张伟"])
    assert a.status == "declined" and a.decline_reason == "时间冲突"
    with db.session() as s:
        assert s.get(Demand, plan.demands["law"]).status == "open"
        mark = s.scalars(select(RepairMark)).one()
        assert (
            mark.due_at is not None
            and mark.marks == 1
            and mark.window_start.isoformat() <= a.demand.starts_at.date().isoformat()
        )
    page = http.get(path).text
    assert "已婉拒" in page and 'value="accept"' not in page


def test_completion_after_the_event_writes_one_duty_record(db, world, server, http):
    plan = stored_plan(db, world, http)
    link = task_link(db, plan.assignments["李娜"])
    path = f"/t/{link.token}"
    nonce = _nonce(http.get(path).text)
    assert _post(http, path, {"nonce": nonce, "action": "accept"}).status_code == 303
    assert "完成反馈" not in http.get(path).text.split("</header>")[1].split("<form")[0]
    with db.session() as s:  # the event took place
        d = s.get(Demand, plan.demands["finance"])
        d.starts_at, d.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
        s.commit()
    page = http.get(path).text
    assert "完成反馈" in page and "上门回复" in page and "委托答复" in page
    form = {
        "nonce": nonce,
        "action": "complete",
        "response_method": "on_site",
        "outcome": "现场讲解，居民满意",
        "satisfaction": "5",
    }
    assert _post(http, path, form).status_code == 303
    assert _post(http, path, form).status_code == 303
    a = _assignment(db, plan.assignments["李娜"])
    assert (a.status, a.response_method, a.satisfaction) == ("completed", "on_site", 5)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DutyRecord).where(DutyRecord.assignment_id == a.id)) == 1
    bad = _post(http, path, {**form, "response_method": "telepathy"})
    assert bad.status_code in (303, 422)  # already completed: the repeat reports the state


def test_member_page_lists_tasks_and_sets_blackout_dates(db, world, server, http):
    plan = stored_plan(db, world, http)
    mine = member_link(db, world, "张伟")
    page = http.get(f"/m/{mine.token}")
    assert page.status_code == 200 and "物业纠纷法律咨询" in page.text and "防范金融诈骗" not in page.text
    nonce = _nonce(page.text)
    with db.session() as s:
        day = s.get(Demand, plan.demands["law"]).starts_at.date().isoformat()
    r = _post(http, f"/m/{mine.token}/blackout", {"nonce": nonce, "add": day})
    assert r.status_code == 303
    assert _post(http, f"/m/{mine.token}/blackout", {"nonce": nonce, "add": "2026-13-45"}).status_code == 422
    with db.session() as s:
        member = s.get(Member, world.members["张伟"])
        assert member.blackout_dates == [day]
        from app.models import OptimizationRun

        built = build_problem(s, run=s.get(OptimizationRun, plan.run_id))
        zhang = next(m for m in built.problem.members if m.id == member.id)
        assert any(d.isoformat() == day for d in zhang.blackout_dates)  # the next run sees it
    assert day in http.get(f"/m/{mine.token}").text


def test_rate_limit_per_token_and_per_client(db, world, server, http, monkeypatch):
    monkeypatch.setenv("MATCHER_LINK_RATE_PER_TOKEN", "3")
    token = secrets.token_urlsafe(24)
    codes = [http.get(f"/t/{token}").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    r = http.get(f"/t/{token}")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "操作太频繁" in r.text
    r = http.get(f"/t/{token}", headers={"Accept": "application/json"})
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    # a client trying many different tokens runs out of its own budget
    monkeypatch.setenv("MATCHER_LINK_RATE_PER_CLIENT", "10")
    codes = [http.get(f"/m/{secrets.token_urlsafe(24)}").status_code for _ in range(6)]
    assert codes[-1] == 429 and 404 in codes


def test_tokens_never_reach_the_access_log():
    assert redact_path("/t/abcDEF123_-xyz/more") == "/t/***/more"
    assert redact_path("/m/abcDEF123") == "/m/***"
    assert redact_path("/v1/members/3") == "/v1/members/3"
