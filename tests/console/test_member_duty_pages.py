"""委员 and 履职 pages over HTTP on both databases: pinyin search, member page, duty recording, roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.models import DutyRecord
from tests.console.support import sign_in


def test_directory_finds_members_by_pinyin_and_filters(cw, app):
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["admin"])
        for q in ("zw", "zhangwei", "张", "zhang"):
            html = c.get("/console/members", params={"q": q}).text
            assert "张伟" in html and "李娜" not in html, q
        fragment = c.get("/console/members", params={"q": "ln"},
                         headers={"HX-Request": "true", "HX-Target": "member-results"}).text  # fmt: skip
        assert "李娜" in fragment and "<html" not in fragment
        assert "王强" in c.get("/console/members", params={"skill": "venue"}).text
        by_area = c.get("/console/members", params={"area": "CW"}).text
        assert "李娜" in by_area and "张伟" not in by_area


def test_member_page(cw, app):
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["admin"])
        html = c.get(f"/console/members/{cw.w.members['李娜']}", params={"week": cw.week}).text
        assert "防范金融诈骗讲座" in html and "1 / 上限 2" in html and "13800138000" in html
        assert "尚未完成" in html
    with TestClient(app) as c:
        sign_in(c, cw.w.keys["reader"])
        html = c.get(f"/console/members/{cw.w.members['李娜']}", params={"week": cw.week}).text
        assert "13800138000" not in html  # phones for admins only


def test_record_duty_and_roles(db, cw, app):
    w = cw.w
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["admin"])
        page = c.get("/console/duty", params={"year": 2026}).text
        assert "各小组履职完成情况" in page and 'id="record-duty"' in page
        bad = c.post("/console/duty", data={"csrf_token": csrf, "member_id": str(w.members["王强"]), "kind": "suggestion",
                                            "date": "2026-03-01", "title": ""})  # fmt: skip
        assert bad.status_code == 422 and "此项必填" in bad.text
        r = c.post("/console/duty", data={"csrf_token": csrf, "member_id": str(w.members["王强"]), "kind": "information",
                                          "date": "2026-03-01", "title": "关于社区停车的社情民意"},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and "履职记录已登记" in c.get(r.headers["location"]).text
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["liaison_jw"])
        r = c.post("/console/duty", data={"csrf_token": csrf, "member_id": str(w.members["王强"]), "kind": "suggestion",
                                          "date": "2026-03-01", "title": "别的片区"})  # fmt: skip
        assert r.status_code == 403 and "只能处理本片区" in r.text  # 王强 lives in LGY
    with TestClient(app) as c:
        csrf = sign_in(c, w.keys["reader"])
        assert 'id="record-duty"' not in c.get("/console/duty").text
        r = c.post("/console/duty", data={"csrf_token": csrf, "member_id": str(w.members["王强"]), "kind": "suggestion",
                                          "date": "2026-03-01", "title": "只读"})  # fmt: skip
        assert r.status_code == 403
    with db.session() as s:
        titles = [r.title for r in s.query(DutyRecord).filter_by(member_id=w.members["王强"])]
        assert titles == ["关于社区停车的社情民意"]
