"""`/v1/reports/...`: exact numbers on the hand-built district, formats, auth and liaison scoping."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOV = "from=2026-11-01&to=2026-11-30"


def by_name(rows, key="name"):
    return {r[key]: r for r in rows}


def test_duty_by_member_group_area(client, rw):
    r = client.get("/v1/reports/duty?year=2026&by=member", headers=rw.h("reader"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_members"] == 4 and body["total_met"] == 1
    m = by_name(body["members"])
    assert m["张伟"]["counts"] == {"suggestion": 1, "information": 1, "activity": 2} and m["张伟"]["met"] is True
    assert m["李娜"]["missing"] == ["information"] and m["李娜"]["met"] is False
    assert m["王强"]["missing"] == ["suggestion", "information", "activity"]
    # the 2025 suggestion does not count for 2026
    assert m["赵敏"]["counts"] == {"suggestion": 0, "information": 1, "activity": 0}
    assert m["赵敏"]["missing"] == ["suggestion", "activity"]

    g = by_name(client.get("/v1/reports/duty?year=2026&by=group", headers=rw.h("admin")).json()["groups"])
    assert g["第一小组"]["members"] == 3 and g["第一小组"]["met"] == 1
    assert g["第一小组"]["counts"] == {"suggestion": 2, "information": 1, "activity": 3}
    assert g["第一小组"]["missing_counts"] == {"suggestion": 1, "information": 2, "activity": 1}
    assert g["第一小组"]["missing_members"]["information"] == ["李娜", "王强"]
    assert g["第二小组"]["missing_members"] == {"suggestion": ["赵敏"], "information": [], "activity": ["赵敏"]}

    a = by_name(client.get("/v1/reports/duty?year=2026&by=area", headers=rw.h("admin")).json()["groups"])
    assert set(a) == {"建外街道", "朝外街道", "来广营地区"}
    assert a["建外街道"]["members"] == 2 and a["建外街道"]["met"] == 1
    assert a["朝外街道"]["missing_members"]["information"] == ["李娜"]

    # another year: nobody has met anything
    body = client.get("/v1/reports/duty?year=2025", headers=rw.h("admin")).json()
    assert body["total_met"] == 0 and by_name(body["members"])["赵敏"]["counts"]["suggestion"] == 1


def test_needs_by_area_and_skill(client, rw):
    r = client.get(f"/v1/reports/needs?{NOV}&by=area", headers=rw.h("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == "2026-11-01" and body["to"] == "2026-11-30"
    rows = by_name(body["rows"], "key")
    assert set(rows) == {"JW", "CW", "LGY"}  # D6 (October) and D7 (cancelled) are left out
    jw, cw, lgy = rows["JW"], rows["CW"], rows["LGY"]
    assert (jw["raised"], jw["covered"], jw["unmet"]) == (2, 1, 1)
    assert jw["causes"] == {"holders_at_capacity": 1}
    assert jw["median_days_to_assignment"] == 3.0 and jw["median_days_to_completion"] == 4.0
    assert jw["response_methods"] == {"home_visit": 1} and jw["mean_satisfaction"] == 5.0
    # D5: the latest *published* run's cause wins over an older published run and a newer unpublished one
    assert (cw["raised"], cw["covered"], cw["unmet"], cw["causes"]) == (2, 1, 1, {"no_skill_holder": 1})
    assert cw["median_days_to_assignment"] == 1.0 and cw["median_days_to_completion"] == 7.0
    assert cw["response_methods"] == {"on_site": 1} and cw["mean_satisfaction"] == 4.0
    assert (lgy["raised"], lgy["covered"], lgy["unmet"]) == (1, 0, 1)
    assert lgy["median_days_to_assignment"] is None and lgy["mean_satisfaction"] is None
    t = body["total"]
    assert (t["raised"], t["covered"], t["unmet"]) == (5, 2, 3)
    assert t["causes"] == {"holders_at_capacity": 1, "no_skill_holder": 2}
    assert t["median_days_to_assignment"] == 2.0 and t["median_days_to_completion"] == 5.5
    assert t["response_methods"] == {"home_visit": 1, "on_site": 1} and t["mean_satisfaction"] == 4.5
    assert sorted(u["title"] for u in body["unmet_demands"]) == ["需求D3", "需求D4", "需求D5"]

    rows = by_name(client.get(f"/v1/reports/needs?{NOV}&by=skill", headers=rw.h("admin")).json()["rows"], "key")
    assert set(rows) == {"law", "finance", "teaching", "medicine"}
    assert (rows["medicine"]["raised"], rows["medicine"]["unmet"]) == (2, 2)
    assert (rows["law"]["raised"], rows["law"]["covered"], rows["law"]["unmet"]) == (2, 1, 1)
    assert rows["medicine"]["name"] == "医疗"

    # October holds only D6, which no run has seen
    body = client.get("/v1/reports/needs?from=2026-10-01&to=2026-10-31", headers=rw.h("admin")).json()
    assert body["total"]["raised"] == 1 and body["total"]["causes"] == {"not_planned": 1}


def test_skill_gaps(client, rw):
    body = client.get(f"/v1/reports/skill-gaps?{NOV}", headers=rw.h("admin")).json()
    assert [(x["code"], x["required"], x["unmet"], x["holders"]) for x in body["rows"]] == [
        ("medicine", 2, 2, 0),
        ("law", 2, 1, 2),
        ("teaching", 1, 1, 1),
        ("finance", 1, 0, 1),
    ]
    body = client.get(f"/v1/reports/skill-gaps?{NOV}", headers=rw.h("liaison_jw")).json()
    assert [(x["code"], x["required"], x["unmet"]) for x in body["rows"]] == [("law", 2, 1), ("teaching", 1, 1)]


def test_run_report(client, rw):
    run = rw.runs["run2"]
    r = client.get(f"/v1/reports/runs/{run}", headers=rw.h("reader"))
    assert r.status_code == 200, r.text
    body = r.json()
    metrics = by_name(body["metrics"], "metric")
    assert len(metrics) == 12 and "solver" not in metrics and "plan" not in metrics
    assert (metrics["objective"]["optimized"], metrics["objective"]["fixed_pairing"]) == (9000.5, 3000.0)
    assert (
        metrics["demands_covered"]["optimized"],
        metrics["demands_covered"]["fixed_pairing"],
        metrics["demands_covered"]["greedy"],
    ) == (2, 1, 2)
    assert metrics["weighted_coverage"]["label"] == "加权覆盖率"
    assert {(f["from_area"], f["to_area"], f["count"]) for f in body["flows"]} == {
        ("JW", "JW", 2),
        ("JW", "CW", 1),
        ("CW", "CW", 1),
    }  # the declined pair is not in the plan
    assert [(x["name"], x["load"]) for x in body["loads"]] == [("张伟", 2), ("李娜", 1), ("赵敏", 1), ("王强", 0)]
    assert {(c["code"], c["demands"], c["covered"], c["unmet"]) for c in body["coverage"]} == {
        ("JW", 2, 1, 1),
        ("CW", 2, 1, 1),
        ("LGY", 1, 0, 1),
    }
    assert [(u["title"], u["cause"]) for u in body["unmet"]] == [
        ("需求D3", "holders_at_capacity"),
        ("需求D4", "no_skill_holder"),
        ("需求D5", "no_skill_holder"),
    ]
    assert body["scoped_to_area"] is None

    # a run without stats still reports (no metrics)
    body = client.get(f"/v1/reports/runs/{rw.runs['run1']}", headers=rw.h("admin")).json()
    assert body["metrics"] == [] and [u["title"] for u in body["unmet"]] == ["需求D5"]


def test_liaison_sees_its_own_area_only(client, rw):
    h = rw.h("liaison_jw")
    body = client.get("/v1/reports/duty?year=2026", headers=h).json()
    assert sorted(m["name"] for m in body["members"]) == ["张伟", "赵敏"] and body["total_members"] == 2
    groups = client.get("/v1/reports/duty?year=2026&by=area", headers=h).json()["groups"]
    assert [g["name"] for g in groups] == ["建外街道"]
    rows = client.get(f"/v1/reports/needs?{NOV}", headers=h).json()["rows"]
    assert [x["key"] for x in rows] == ["JW"] and rows[0]["raised"] == 2
    body = client.get(f"/v1/reports/runs/{rw.runs['run2']}", headers=h).json()
    assert body["scoped_to_area"] == "JW"
    assert [(f["from_area"], f["to_area"], f["count"]) for f in body["flows"]] == [("JW", "JW", 2)]
    assert [(x["name"], x["load"]) for x in body["loads"]] == [("张伟", 2), ("赵敏", 1)]
    assert [c["code"] for c in body["coverage"]] == ["JW"]
    assert [u["title"] for u in body["unmet"]] == ["需求D3"]
    assert len(body["metrics"]) == 12  # run-level figures are not area rows


def test_auth(client, rw):
    r = client.get("/v1/reports/duty?year=2026")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = client.get(f"/v1/reports/runs/{rw.runs['run2']}", headers=rw.h("other_admin"))
    assert r.status_code == 404
    assert client.get("/v1/reports/runs/999999", headers=rw.h("admin")).status_code == 404
    body = client.get("/v1/reports/duty?year=2026", headers=rw.h("other_admin")).json()
    assert body["members"] == []  # another district's report is its own (empty) district


def test_validation_names_the_field(client, rw):
    h = rw.h("admin")
    r = client.get("/v1/reports/needs?from=2026-12-01&to=2026-11-01", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to"
    r = client.get("/v1/reports/needs?from=yesterday", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.from"
    r = client.get("/v1/reports/duty?year=1900", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.year"
    r = client.get("/v1/reports/duty?by=street", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.by"
    r = client.get("/v1/reports/duty?format=pdf", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.format"


def test_format_negotiation_csv_and_xlsx_parse_back(client, rw):
    h = rw.h("admin")
    r = client.get("/v1/reports/duty?year=2026", headers={**h, "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "member_id",
        "name",
        "group",
        "home_area",
        "suggestion",
        "information",
        "activity",
        "met",
        "missing",
    ]
    zm = by_name(rows)["赵敏"]
    assert (zm["group"], zm["home_area"], zm["information"], zm["met"], zm["missing"]) == (
        "第二小组",
        "建外街道",
        "1",
        "no",
        "suggestion;activity",
    )
    assert by_name(rows)["张伟"]["activity"] == "2"

    r = client.get(f"/v1/reports/needs?{NOV}&format=xlsx", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    ws = load_workbook(io.BytesIO(r.content)).active
    values = list(ws.iter_rows(values_only=True))
    header = values[0]
    assert header[:5] == ("代码", "片区", "需求数", "已满足", "未满足")
    rows = {v[0]: dict(zip(header, v, strict=True)) for v in values[1:]}
    assert rows["JW"]["需求数"] == 2 and rows["*"]["未满足"] == 3
    assert rows["CW"]["未满足：无人具备所需技能"] == 1 and rows["LGY"]["平均满意度"] is None
    assert rows["*"]["到完成天数中位数"] == 5.5

    r = client.get(f"/v1/reports/skill-gaps?{NOV}", headers={**h, "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["code"], x["unmet"], x["holders"]) for x in rows][0] == ("medicine", "2", "0")

    r = client.get(f"/v1/reports/runs/{rw.runs['run2']}", headers={**h, "Accept": XLSX})
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == [f"优化批次{rw.runs['run2']}", "片区覆盖", "跨片流向", "委员负荷", "未满足需求"]
    metrics = {row[0]: row for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert metrics["demands_covered"][2:] == (2, 1, 2)
    r = client.get(f"/v1/reports/runs/{rw.runs['run2']}?format=csv", headers=h)
    assert r.headers["content-type"].startswith("text/csv") and "demands_covered" in r.text

    # JSON: default, explicit, wildcard, weighted; ?format wins over Accept
    for accept in (
        None,
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "application/xml, application/json;q=0.5",
    ):
        r = client.get("/v1/reports/duty?year=2026", headers={**h, **({"Accept": accept} if accept else {})})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json", accept
    r = client.get("/v1/reports/duty?year=2026", headers={**h, "Accept": f"text/csv;q=0.2, {XLSX}"})
    assert r.headers["content-type"] == XLSX
    r = client.get("/v1/reports/duty?year=2026&format=json", headers={**h, "Accept": "text/csv"})
    assert r.headers["content-type"] == "application/json"
    r = client.get("/v1/reports/duty?year=2026", headers={**h, "Accept": "application/xml"})
    assert r.status_code == 406 and r.json()["code"] == "not_acceptable"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_run_report_counts_the_runs_own_members(client, rw, db):
    """A run planned with its members of that day; members who joined later are not in its report."""
    from app.models import Member, OptimizationRun

    run = rw.runs["run2"]
    with db.session() as s:
        row = s.get(OptimizationRun, run)
        plan = dict(row.stats["plan"])
        plan["member_ids"] = [rw.w.members["张伟"], rw.w.members["李娜"], rw.members["赵敏"], rw.w.members["王强"]]
        row.stats = {**row.stats, "plan": plan}
        s.add(Member(district_id=rw.w.district_id, name="新委员", home_area_id=rw.w.areas["JW"], external_id="NEW-1"))
        s.commit()
    body = client.get(f"/v1/reports/runs/{run}", headers=rw.h("admin")).json()
    assert [x["name"] for x in body["loads"]] == ["张伟", "李娜", "赵敏", "王强"]  # not 新委员
    page = client.get(f"/reports/runs/{run}", headers=rw.h("admin"))
    assert page.status_code == 200 and "共 4 名委员" in page.text
