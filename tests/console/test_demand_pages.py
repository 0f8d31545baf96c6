"""民需 pages over HTTP on both databases: table filters, create with field errors in Chinese,
edit, cancel, pinyin skill type-ahead, 建议技能 (page and POST /v1/skills:suggest), roles."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import Demand
from tests.console.support import sign_in


def _form(world, **over) -> dict:
    base = {
        "title": "居民楼物业纠纷",
        "description": "业主与物业公司因停车费发生纠纷，需要律师提供法律咨询。",
        "community_id": str(world.communities["建外社区"]),
        "channel": "reception_day",
        "priority": "4",
        "min_members": "1",
        "max_members": "",
        "starts_at": "2026-12-09T14:00",
        "ends_at": "2026-12-09T16:00",
        "required_skills": ["law"],
    }
    return {**base, **over}


def test_table_filters_sorts_and_pages(cw, app):
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["admin"])
        page = c.get("/console/demands", params={"week": cw.week})
        assert page.status_code == 200
        assert all(title in page.text for title in ("物业纠纷法律咨询", "防范金融诈骗讲座", "社区文艺汇演场地"))
        only_open = c.get("/console/demands", params={"status": "open"}).text
        assert "社区文艺汇演场地" in only_open and "物业纠纷法律咨询" not in only_open
        by_skill = c.get("/console/demands", params={"q": "金融"}).text
        assert "防范金融诈骗讲座" in by_skill and "社区文艺汇演场地" not in by_skill
        paged = c.get("/console/demands", params={"per_page": 1, "sort": "title", "desc": "true", "page": 2}).text
        assert "第 2 页，共 3 页（3 条）" in paged
        assert c.get("/console/demands", params={"sort": "nonsense"}).status_code == 422
        blank = dict.fromkeys(("q", "area", "community_id", "status", "channel", "priority", "skill", "date_from"), "")
        assert c.get("/console/demands", params=blank).status_code == 200  # the filter form, nothing chosen


def test_create_shows_api_errors_next_to_fields_in_chinese(db, cw, app):
    w = cw.w
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["admin"])
        r = c.post("/console/demands/new", data={**_form(w, title="", ends_at="2026-12-09T13:00"), "csrf_token": csrf})
        assert r.status_code == 422
        assert re.search(r'id="err-title"[^>]*>此项必填', r.text)
        r = c.post("/console/demands/new", data={**_form(w, ends_at="2026-12-09T13:00"), "csrf_token": csrf})
        assert r.status_code == 422 and re.search(r'id="err-ends_at"[^>]*>结束时间必须晚于开始时间', r.text)
        r = c.post("/console/demands/new", data={**_form(w, ends_at="2026-12-30T16:00"), "csrf_token": csrf})
        assert r.status_code == 422 and re.search(r'id="err-ends_at"[^>]*>持续时间超过允许的最长天数', r.text)
        r = c.post("/console/demands/new", data={**_form(w, priority="四"), "csrf_token": csrf})
        assert r.status_code == 422 and re.search(r'id="err-priority"[^>]*>请填写整数', r.text)
        r = c.post("/console/demands/new", data={**_form(w, required_skills=["魔法"]), "csrf_token": csrf})
        assert r.status_code == 422 and "技能不在技能目录中" in r.text
        assert 'value="居民楼物业纠纷"' in r.text  # what was typed is kept
        r = c.post("/console/demands/new", data={**_form(w), "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        demand_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    with db.session() as s:
        d = s.get(Demand, demand_id)
        assert (d.title, d.priority, [k.code for k in d.required_skills], d.created_by) == (
            "居民楼物业纠纷", 4, ["law"], "test admin"
        )  # fmt: skip


def test_edit_and_cancel(db, cw, app):
    w = cw.w
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["admin"])
        page = c.get(f"/console/demands/{cw.demands['venue']}")
        version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
        data = {**_form(w, title="文艺汇演（改）", required_skills=["venue"]), "version": version, "csrf_token": csrf}
        r = c.post(f"/console/demands/{cw.demands['venue']}", data=data, follow_redirects=False)
        assert r.status_code == 303
        assert "已保存" in c.get(r.headers["location"]).text
        stale = c.post(f"/console/demands/{cw.demands['venue']}", data=data)  # the old version again
        assert stale.status_code == 412 and "已被他人修改" in stale.text
        page = c.get(f"/console/demands/{cw.demands['venue']}")
        version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
        r = c.post(f"/console/demands/{cw.demands['venue']}/cancel", data={"version": version, "csrf_token": csrf})
        assert r.status_code == 200 and "已取消" in r.text
    with db.session() as s:
        d = s.get(Demand, cw.demands["venue"])
        assert (d.title, d.status) == ("文艺汇演（改）", "cancelled")


def test_skill_type_ahead_matches_pinyin_and_initials(cw, app):
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["admin"])
        for q in ("fl", "falv", "法律", "lvshi"):
            html = c.get("/console/skills/picker", params={"skill_q": q}, headers={"HX-Request": "true"}).text
            assert 'value="law"' in html and 'value="venue"' not in html, q
        kept = c.get("/console/skills/picker", params={"skill_q": "cd", "required_skills": "law"}).text
        assert re.search(r'value="law" checked', kept) and 'value="venue"' in kept  # cd -> 场地


def test_suggest_skills_in_form_and_api(cw, app):
    w = cw.w
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["admin"])
        form = {**_form(w, required_skills=[]), "action": "suggest", "csrf_token": csrf}
        page = c.post("/console/demands/new", data=form)  # the button without JavaScript
        assert page.status_code == 200
        assert re.search(r'value="law" checked>\s*法律咨询 <span class="why">（因出现：[^）]*法律', page.text)
        fragment = c.post("/console/skills/suggest", data=form, headers={"HX-Request": "true"}).text
        assert "<html" not in fragment and 'value="law" checked' in fragment
    r = TestClient(app).post(
        "/v1/skills:suggest", json={"text": "讲座：防金融诈骗，另需活动场地"}, headers=w.h("reader")
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["code"] for i in items][:2] == ["finance", "venue"] or {i["code"] for i in items[:2]} == {
        "finance", "venue"
    }  # fmt: skip
    fin = next(i for i in items if i["code"] == "finance")
    assert "防金融诈骗" in fin["matched_words"] and fin["score"] >= 3
    bad = TestClient(app).post("/v1/skills:suggest", json={"text": ""}, headers=w.h("reader"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "text"


def test_reader_sees_no_buttons_and_its_posts_are_refused(db, cw, app):
    w = cw.w
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["reader"])
        listing = c.get("/console/demands").text
        assert "登记新民需" not in listing
        page = c.get(f"/console/demands/{cw.demands['venue']}").text
        assert "取消此民需" not in page and 'id="save-demand"' not in page
        assert c.get("/console/demands/new").status_code == 403
        assert c.post("/console/demands/new", data={**_form(w), "csrf_token": csrf}).status_code == 403
        r = c.post(f"/console/demands/{cw.demands['venue']}/cancel", data={"version": "1", "csrf_token": csrf})
        assert r.status_code == 403
    with db.session() as s:
        assert s.get(Demand, cw.demands["venue"]).status == "open"
        assert s.scalar(select(Demand).where(Demand.title == "居民楼物业纠纷")) is None


def test_liaison_sees_and_writes_only_its_area(db, cw, app):
    w = cw.w
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["liaison_jw"])
        listing = c.get("/console/demands").text
        assert "物业纠纷法律咨询" in listing and "防范金融诈骗讲座" not in listing and "社区文艺汇演场地" not in listing
        assert "朝外社区" not in c.get("/console/demands/new").text  # only its communities to pick
        assert c.get(f"/console/demands/{cw.demands['fin']}").status_code == 404
        other = _form(w, community_id=str(w.communities["朝外社区"]))
        r = c.post("/console/demands/new", data={**other, "csrf_token": csrf})
        assert r.status_code == 404 and "只能选择本片区的社区" in r.text
        r = c.post(f"/console/demands/{cw.demands['fin']}/cancel", data={"version": "1", "csrf_token": csrf})
        assert r.status_code == 404
        ok = c.post("/console/demands/new", data={**_form(w), "csrf_token": csrf}, follow_redirects=False)
        assert ok.status_code == 303
    with db.session() as s:
        assert s.get(Demand, cw.demands["fin"]).status == "assigned"
