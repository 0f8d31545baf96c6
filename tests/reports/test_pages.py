"""Report pages: server-rendered HTML in Chinese with inline SVG charts, nothing fetched from outside."""

from __future__ import annotations

import io
import json
import logging
import re

from app.logging import JsonFormatter

EXTERNAL = re.compile(r"https?://", re.I)


def assert_self_contained(html: str) -> None:
    """In the console's layout: only this service's own stylesheet and vendored htmx, no inline script."""
    assert '<html lang="zh-CN">' in html
    assert '<link rel="stylesheet" href="/static/console.css">' in html
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    scripts = re.findall(r"<script\b[^>]*>", html, re.I)
    assert scripts == ['<script src="/static/htmx.min.js" defer>'], scripts  # no inline script
    assert not re.search(r'\b(?:src|href)="(?!#|data:|/(?!/))', html)  # same-origin paths, in-page refs, data:


def test_run_page(client, rw):
    r = client.get(f"/reports/runs/{rw.runs['run2']}?key={rw.w.keys['reader']}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"
    html = r.text
    assert_self_contained(html)
    for heading in ("优化方案与基线对比", "跨片流向", "委员负荷分布", "各片区需求满足情况", "未满足需求及原因"):
        assert heading in html
    assert html.count("<svg") == 4
    for text in ("定点包片（基线）", "贪心（基线）", "需求D3", "需求D4", "需求D5", "委员任务已满", "无人具备所需技能"):
        assert text in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # several inline SVGs, no clashing ids


def test_duty_page_with_bearer_header(client, rw):
    r = client.get("/reports/duty/2026", headers=rw.h("admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert_self_contained(html)
    assert "2026 年度委员履职情况" in html and "各小组履职完成情况" in html and html.count("<svg") == 1
    assert "缺建议（2 名）" in html and "缺信息（2 名）" in html and "缺活动（2 名）" in html
    assert "第一小组" in html and "第二小组" in html and "王强" in html


def test_liaison_pages_show_own_area_only(client, rw):
    key = rw.w.keys["liaison_jw"]
    html = client.get(f"/reports/runs/{rw.runs['run2']}?key={key}").text
    assert "仅显示片区 建外街道" in html and "需求D3" in html
    assert "需求D4" not in html and "需求D5" not in html
    html = client.get(f"/reports/duty/2026?key={key}").text
    assert "在册委员 2 名" in html and "缺建议（1 名）" in html
    assert "赵敏" in html and "王强" not in html and "李娜" not in html


def test_page_errors_html_for_browsers_problem_for_api_clients(client, rw):
    r = client.get("/reports/duty/2026", headers={"Accept": "text/html"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert "?key=" in r.text and '<html lang="zh-CN">' in r.text
    r = client.get("/reports/duty/2026", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "missing_api_key"
    r = client.get("/reports/duty/2026?key=mk_bad_key", headers={"Accept": "text/html"})
    assert r.status_code == 401 and "text/html" in r.headers["content-type"]
    key = rw.w.keys["other_admin"]
    r = client.get(f"/reports/runs/{rw.runs['run2']}?key={key}", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "无权查看" in r.text
    r = client.get(f"/reports/runs/{rw.runs['run2']}?key={key}", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get(f"/reports/duty/1900?key={rw.w.keys['admin']}")
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    r = client.get(f"/reports/duty/1900?key={rw.w.keys['admin']}", headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.year"


def test_key_in_query_is_never_logged(client, rw):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        key = rw.w.keys["reader"]
        assert client.get(f"/reports/duty/2026?key={key}").status_code == 200
        client.get("/reports/duty/2026?key=mk_wrong_guess123")
    finally:
        root.removeHandler(handler)
    lines = [json.loads(x) for x in stream.getvalue().splitlines() if x.strip()]
    access = [x for x in lines if x["logger"] == "app.access"]
    assert [x["path"] for x in access] == ["/reports/duty/2026"] * 2
    server_side = [x for x in lines if x["logger"] != "httpx"]  # httpx is the test client itself
    assert server_side and not any("key=" in json.dumps(x) or key in json.dumps(x) for x in server_side)
