"""Exports of /v1/members, /v1/demands and /v1/assignments as CSV (UTF-8 BOM) and XLSX, and the
round trip an office makes: export -> edit one cell in Excel -> import -> that field of that row
changes, nothing else does. Both databases."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from openpyxl import load_workbook

from tests.factories import XLSX_TYPE, add_assigned_demand, add_explained_assignment, add_run, csv_bytes
from tests.support import upload

DAY = (datetime.now() + timedelta(days=10)).date().isoformat()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), content[:10]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def all_members(client, world) -> dict[str, dict]:
    r = client.get("/v1/members?limit=500", headers=world.h("admin"))
    return {m["external_id"]: m for m in r.json()["items"]}


def test_members_export_by_accept_and_by_format(client, world, db):
    r = client.get("/v1/members", headers={**world.h("admin"), "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv") and "members.csv" in r.headers["content-disposition"]
    rows = read_csv(r.content)
    assert rows[0][:3] == ["编号", "姓名", "界别"] and "电话" in rows[0]
    assert {"专业特长", "兴趣爱好", "资源状况"} <= set(rows[0])
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id["M-李娜"]["专业特长"] == "金融:2" and by_id["M-李娜"]["兴趣爱好"] == "教学:2"
    assert by_id["M-王强"]["资源状况"] == "活动场地:2" and by_id["M-张伟"]["电话"] == "13800138000"

    r = client.get("/v1/members?format=xlsx&area=JW", headers=world.h("admin"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_TYPE
    sheet = read_xlsx(r.content)
    assert sheet[0] == rows[0] and [row[0] for row in sheet[1:]] == ["M-张伟"]

    # A key that may not read phones gets no phone column (an empty one would clear phones on import).
    r = client.get("/v1/members?format=csv", headers=world.h("reader"))
    assert r.status_code == 200 and "电话" not in read_csv(r.content)[0]
    assert client.get("/v1/members", headers={**world.h("admin"), "Accept": "image/png"}).status_code == 406
    assert client.get("/v1/members", headers={**world.h("admin"), "Accept": "application/json"}).json()["items"]


def test_members_round_trip_through_csv_changes_only_the_edited_cell(client, world, db):
    before = all_members(client, world)
    rows = read_csv(client.get("/v1/members?format=csv", headers=world.h("admin")).content)
    cap = rows[0].index("每周上限")
    edited = next(row for row in rows[1:] if row[0] == "M-李娜")
    edited[cap] = "5"
    r = upload(client, "members", csv_bytes(rows, bom=True), world.h("admin"), name="导出.csv")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"], body["ignored_columns"]) == (0, 1, 2, [])
    after = all_members(client, world)
    assert after["M-李娜"]["weekly_cap"] == 5 and after["M-李娜"]["version"] == before["M-李娜"]["version"] + 1
    for ext, member in before.items():
        changed = {k for k in member if member[k] != after[ext][k]} - {"updated_at"}
        assert changed == ({"weekly_cap", "version"} if ext == "M-李娜" else set()), (ext, changed)


def test_members_round_trip_through_xlsx(client, world, db):
    before = all_members(client, world)
    content = client.get("/v1/members", headers={**world.h("admin"), "Accept": XLSX_TYPE}).content
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "M-王强":
            row[headers.index("兴趣爱好")].value = "教学:3"
    out = io.BytesIO()
    book.save(out)
    r = upload(client, "members", out.getvalue(), world.h("admin"), name="导出.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 200, r.text
    assert (r.json()["updated"], r.json()["unchanged"]) == (1, 2)
    after = all_members(client, world)
    assert sorted(s["code"] for s in after["M-王强"]["skills"]) == ["teaching", "venue"]
    assert after["M-张伟"] == before["M-张伟"] and after["M-李娜"] == before["M-李娜"]


def _demand(world, external_id: str, title: str, community: str, hour: int) -> dict:
    return {
        "external_id": external_id,
        "community_id": world.communities[community],
        "title": title,
        "description": None if hour == 9 else "面向老年居民",
        "channel": "needs_collection",
        "priority": 4,
        "required_skills": ["finance", "law"],
        "min_members": 1,
        "max_members": 2,
        "starts_at": f"{DAY}T{hour:02d}:00:00+08:00",
        "ends_at": f"{DAY}T{hour + 2:02d}:30:00+08:00",
        "excluded_member_ids": [world.members["张伟"]] if hour == 14 else [],
    }


def test_demands_round_trip_through_csv(client, world, db):
    for ext, title, community, hour in [("D-1", "法律讲座", "建外社区", 9), ("D-2", "防诈骗讲座", "朝外社区", 14)]:
        r = client.post("/v1/demands", json=_demand(world, ext, title, community, hour), headers=world.h("admin"))
        assert r.status_code == 201, r.text
    before = {d["external_id"]: d for d in client.get("/v1/demands", headers=world.h("admin")).json()["items"]}
    r = client.get("/v1/demands", headers={**world.h("admin"), "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    rows = read_csv(r.content)
    head = rows[0]
    assert head[:4] == ["编号", "社区", "片区", "标题"] and head[-1] == "状态"
    d2 = dict(zip(head, rows[2], strict=True))
    assert (d2["渠道"], d2["开始"], d2["回避委员"], d2["状态"]) == ("民需收集库", f"{DAY} 14:00", "M-张伟", "待匹配")
    rows[1][head.index("标题")] = "法律讲座（改期通知）"
    r = upload(client, "demands", csv_bytes(rows), world.h("admin"), name="民需.csv")
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 1, 1)
    assert r.json()["ignored_columns"] == ["状态"]
    after = {d["external_id"]: d for d in client.get("/v1/demands", headers=world.h("admin")).json()["items"]}
    assert after["D-1"]["title"] == "法律讲座（改期通知）" and after["D-2"] == before["D-2"]
    changed = {k for k in before["D-1"] if before["D-1"][k] != after["D-1"][k]} - {"updated_at"}
    assert changed == {"title", "version"}


def test_assignments_export(client, world, db):
    run_id = add_run(db, world)
    demand_id = add_assigned_demand(db, world)
    add_explained_assignment(db, world, demand_id, "张伟", run_id=run_id)
    r = client.get(f"/v1/assignments?format=csv&run_id={run_id}", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    rows = read_csv(r.content)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["委员"], row["委员编号"], row["状态"], row["电话"]) == ("张伟", "M-张伟", "已发布", "13800138000")
    assert row["需求"] == "物业纠纷法律咨询" and row["社区"] == "建外社区" and row["优化批次"] == str(run_id)
    r = client.get(f"/v1/assignments?run_id={run_id}", headers={**world.h("reader"), "Accept": XLSX_TYPE})
    sheet = read_xlsx(r.content)
    assert "电话" not in sheet[0] and len(sheet) == 2
