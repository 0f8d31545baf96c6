"""派单 and 本周概览 over HTTP on both databases: grouping, actions on a member's behalf (plain form
and htmx row), exports (XLSX read back with openpyxl, CSV with BOM), the print page, roles."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.models import Assignment, Demand, DutyRecord
from tests.console.support import sign_in


def test_dashboard_figures(cw, app):
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["admin"])
        html = c.get("/console", params={"week": cw.week}).text
        assert f"本周概览（{cw.week}）" in html
        assert "本周 3 项民需中已满足 2 项" in html and "66.7%" in html
        assert "未满足的民需（1 项）" in html and "社区文艺汇演场地" in html
        assert "尚无社区活动的委员（3 / 3 名）" in html
        assert f'href="/console/runs/{cw.run_id}"' in html and "已发布" in html
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 周[一二三四五六日]", html)  # dates in Chinese
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["liaison_cw"])
        html = c.get("/console", params={"week": cw.week}).text
        assert "本周 1 项民需中已满足 1 项" in html and "社区文艺汇演场地" not in html


def test_plan_grouped_and_actions_on_members_behalf(db, cw, app):
    with TestClient(app) as c:
        csrf = sign_in(c, cw.w.keys["admin"])
        for by, heading in [("day", "周"), ("area", "建外街道"), ("member", "张伟")]:
            html = c.get("/console/plan", params={"week": cw.week, "by": by}).text
            assert heading in html and "物业纠纷法律咨询" in html and "防范金融诈骗讲座" in html
        law, fin = cw.assignments["law"], cw.assignments["fin"]
        back = f"/console/plan?week={cw.week}"
        r = c.post(f"/console/assignments/{law}/decline", data={"csrf_token": csrf, "version": "1", "back": back,
                                                               "reason": ""}, headers={"HX-Request": "true"})  # fmt: skip
        assert r.status_code == 200 and "婉拒需要填写理由" in r.text and "<html" not in r.text
        r = c.post(f"/console/assignments/{law}/decline",
                   data={"csrf_token": csrf, "version": "1", "back": back, "reason": "本周出差"},
                   follow_redirects=False)  # fmt: skip
        assert (r.status_code, r.headers["location"]) == (303, back)
        r = c.post(f"/console/assignments/{fin}/complete",
                   data={"csrf_token": csrf, "version": "1", "back": back, "response_method": "on_site",
                         "outcome": "现场讲解", "satisfaction": "5"}, headers={"HX-Request": "true"})  # fmt: skip
        assert r.status_code == 200 and f'id="row-{fin}"' in r.text and "已完成" in r.text and "就地解释" in r.text
        html = c.get("/console/plan", params={"week": cw.week}).text
        assert "理由：本周出差" in html
    with db.session() as s:
        assert s.get(Assignment, law).status == "declined"
        assert s.get(Demand, cw.demands["law"]).status == "open"
        a = s.get(Assignment, fin)
        assert (a.status, a.response_method, a.satisfaction) == ("completed", "on_site", 5)
        assert s.query(DutyRecord).filter_by(assignment_id=fin).count() == 1


def test_exports_match_the_api(cw, app):
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["admin"])
        x = c.get("/console/plan.xlsx", params={"week": cw.week})
        assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxml")
        ws = load_workbook(io.BytesIO(x.content)).active
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0][:3] == ("派单编号", "状态", "委员")
        api = TestClient(app).get("/v1/assignments", headers=cw.w.h("admin")).json()["items"]
        assert sorted(r[0] for r in rows[1:]) == sorted(a["id"] for a in api)
        by_id = {r[0]: r for r in rows[1:]}
        for a in api:
            assert (by_id[a["id"]][2], by_id[a["id"]][3], by_id[a["id"]][4]) == (
                a["member_name"], a["demand_title"], a["community_name"]
            )  # fmt: skip
        raw = c.get("/console/plan.csv", params={"week": cw.week}).content
        assert raw.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert table[0][0] == "派单编号" and len(table) == 3
        printed = c.get("/console/plan/print", params={"week": cw.week}).text
        assert printed.count('class="print-area"') == 2  # JW and CW, one page each


def test_roles_on_the_plan(db, cw, app):
    law, fin = cw.assignments["law"], cw.assignments["fin"]
    with TestClient(app) as c:
        csrf = sign_in(c, cw.w.keys["reader"])
        html = c.get("/console/plan", params={"week": cw.week}).text
        assert "物业纠纷法律咨询" in html and "代为接受" not in html and "登记办结" not in html
        assert (
            c.post(f"/console/assignments/{law}/accept", data={"csrf_token": csrf, "version": "1"}).status_code == 403
        )
    with TestClient(app) as c:
        csrf = sign_in(c, cw.w.keys["liaison_jw"])
        html = c.get("/console/plan", params={"week": cw.week}).text
        assert "物业纠纷法律咨询" in html and "防范金融诈骗讲座" not in html
        data = {"csrf_token": csrf, "version": "1", "response_method": "on_site"}
        assert c.post(f"/console/assignments/{fin}/complete", data=data).status_code == 404  # CW: not visible
        assert c.post(f"/console/assignments/{law}/accept", data=data).status_code == 403  # API: admin only
        x = c.get("/console/plan.xlsx", params={"week": cw.week})
        ids = [r[0] for r in list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))[1:]]
        assert ids == [law]
    with db.session() as s:
        assert s.get(Assignment, fin).status == "accepted" and s.get(Assignment, law).status == "published"
