"""Bulk import of members and demands (POST /v1/members:import, /v1/demands:import).

Every test runs on SQLite and PostgreSQL. Files are built in the test (CSV text,
XLSX via openpyxl) so each case shows exactly what a district office would upload.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

from app.models import Community, Demand, Member
from tests.factories import XLSX_TYPE, csv_bytes, xlsx_bytes
from tests.support import bad_cells, count, upload

MEMBER_HEADER_CN = [
    "编号",
    "姓名",
    "界别",
    "小组",
    "居住片区",
    "工作片区",
    "电话",
    "每周上限",
    "接受跨片",
    "最远距离km",
    "技能",
    "不可用日期",
    "每周时段",
]
MEMBER_ROWS_CN = [
    [
        "CY-001",
        "刘建国",
        "经济界",
        "第一小组",
        "LGY",
        "朝外街道",
        "13901234567",
        "3",
        "否",
        "12.5",
        "法律咨询:3；金融",
        "2026-12-01、2026-12-05~2026-12-06",
        "周六 09:00-12:00;周日 14:00-17:00",
    ],
    ["CY-002", "陈静", "教育界", "", "建外街道", "", "", "", "是", "", "教学", "", "Sat 09:00-12:00"],
    ["M-张伟", "张伟", "社会福利和社会保障界", "第一小组", "JW", "", "13800138001", "2", "1", "", "律师:2", "", ""],
]


def member(client, world, member_id: int) -> dict:
    r = client.get(f"/v1/members/{member_id}", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def test_members_csv_with_bom_and_chinese_headers_creates_and_updates(client, world, db):
    data = csv_bytes([MEMBER_HEADER_CN, *MEMBER_ROWS_CN], bom=True)
    r = upload(client, "members", data, world.h("admin"), name="委员名册.csv")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kind"], body["rows"], body["created"], body["updated"], body["unchanged"], body["dry_run"]) == (
        "members",
        3,
        2,
        1,
        0,
        False,
    )
    assert [(i["row"], i["external_id"], i["action"]) for i in body["items"]] == [
        (2, "CY-001", "created"),
        (3, "CY-002", "created"),
        (4, "M-张伟", "updated"),
    ]
    assert body["items"][2]["id"] == world.members["张伟"]
    assert count(db, Member) == 5

    liu = member(client, world, body["items"][0]["id"])
    assert liu["name"] == "刘建国" and liu["home_area"] == "LGY" and liu["work_area"] == "CW"
    assert liu["group_id"] == world.groups["第一小组"] and liu["weekly_cap"] == 3
    assert liu["accepts_cross_area"] is False and liu["max_distance_km"] == 12.5
    assert sorted((s["code"], s["level"]) for s in liu["skills"]) == [("finance", 2), ("law", 3)]
    assert liu["blackout_dates"] == ["2026-12-01", "2026-12-05", "2026-12-06"]
    assert liu["weekly_slots"] == [
        {"weekday": 5, "start": "09:00", "end": "12:00"},
        {"weekday": 6, "start": "14:00", "end": "17:00"},
    ]
    chen = member(client, world, body["items"][1]["id"])
    assert chen["home_area"] == "JW" and chen["group_id"] is None and chen["weekly_cap"] == 2
    assert chen["phone"] is None and chen["weekly_slots"] == [{"weekday": 5, "start": "09:00", "end": "12:00"}]
    zhang = member(client, world, world.members["张伟"])
    assert zhang["phone"] == "13800138001" and zhang["skills"][0]["code"] == "law"

    # Re-importing the same file changes nothing: no duplicates, no version bumps.
    versions = {i["id"]: member(client, world, i["id"])["version"] for i in body["items"]}
    r = upload(client, "members", data, world.h("admin"), name="委员名册.csv")
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 3)
    assert count(db, Member) == 5
    assert {i: member(client, world, i)["version"] for i in versions} == versions

    # One changed cell updates that member only.
    rows = [list(row) for row in MEMBER_ROWS_CN]
    rows[1][7] = "4"
    r = upload(client, "members", csv_bytes([MEMBER_HEADER_CN, *rows]), world.h("admin"))
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 1, 2)
    assert [i["action"] for i in r.json()["items"]] == ["unchanged", "updated", "unchanged"]
    assert member(client, world, body["items"][1]["id"])["weekly_cap"] == 4
    assert count(db, Member) == 5


def test_members_xlsx_with_english_headers_and_typed_cells(client, world, db):
    rows = [
        ["朝阳区政协委员名册（2026年）"],  # a title row above the header, as offices make them
        [
            "External ID",
            "Name",
            "Sector",
            "Group",
            "Home Area",
            "Work_Area",
            "Phone",
            "weekly_cap",
            "accepts_cross_area",
            "Max Distance (km)",
            "Skills",
            "Blackout Dates",
            "Weekly Slots",
            "备注",
        ],
        [
            1001,
            "赵敏",
            "文化艺术界",
            "第一小组",
            "来广营地区",
            "cw",
            13700000000,
            5,
            True,
            8,
            "venue:1, teaching:3",
            date(2026, 12, 24),
            "Mon 19:00-21:00; 周三 19:00-21:00",
            "新委员",
        ],
        ["1002", "Li Lei", None, None, "JW", None, None, None, False, None, None, None, None, None],
    ]
    r = upload(client, "members", xlsx_bytes(rows), world.h("admin"), name="members.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["rows"]) == (2, 0, 2)
    assert body["ignored_columns"] == ["备注"]
    assert [i["row"] for i in body["items"]] == [3, 4]
    zhao = member(client, world, body["items"][0]["id"])
    assert zhao["external_id"] == "1001" and zhao["phone"] == "13700000000"
    assert zhao["home_area"] == "LGY" and zhao["work_area"] == "CW" and zhao["weekly_cap"] == 5
    assert sorted((s["code"], s["level"]) for s in zhao["skills"]) == [("teaching", 3), ("venue", 1)]
    assert zhao["blackout_dates"] == ["2026-12-24"]
    assert [s["weekday"] for s in zhao["weekly_slots"]] == [0, 2]
    li = member(client, world, body["items"][1]["id"])
    assert li["accepts_cross_area"] is False and li["skills"] == [] and li["sector"] is None
    assert count(db, Member) == 5

    # The same workbook again: unchanged, keyed by the numeric external id.
    r = upload(client, "members", xlsx_bytes(rows), world.h("admin"), name="members.xlsx", ctype=XLSX_TYPE)
    assert (r.json()["created"], r.json()["unchanged"]) == (0, 2)


def test_dry_run_validates_everything_and_writes_nothing(client, world, db):
    data = csv_bytes([MEMBER_HEADER_CN, *MEMBER_ROWS_CN])
    before = member(client, world, world.members["张伟"])
    r = upload(client, "members", data, world.h("admin"), dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and (body["created"], body["updated"]) == (2, 1)
    assert [i["id"] for i in body["items"]] == [None, None, world.members["张伟"]]
    assert count(db, Member) == 3
    assert member(client, world, world.members["张伟"]) == before

    # A dry run still reports bad rows, including checks that need the database.
    rows = [list(MEMBER_ROWS_CN[0]), ["CY-009", "孙丽", "", "不存在的小组", "JW", "", "", "", "", "", "", "", ""]]
    r = upload(client, "members", csv_bytes([MEMBER_HEADER_CN, *rows]), world.h("admin"), dry_run=True)
    assert r.status_code == 422 and bad_cells(r) == {(3, "group")}
    assert count(db, Member) == 3


def test_bad_member_rows_reject_the_whole_file_listing_each(client, world, db):
    rows = [
        MEMBER_HEADER_CN,
        ["CY-101", "好委员", "", "", "JW", "", "", "", "", "", "法律咨询", "", ""],  # 2: fine
        ["CY-102", "周杰", "", "", "JW", "", "", "", "", "", "书法:2", "", ""],  # 3: unknown skill
        ["CY-103", "吴昊", "", "", "ZZZ", "", "", "", "", "", "", "", ""],  # 4: unknown area
        ["CY-104", "郑爽", "", "", "CW", "", "", "", "", "", "", "2026-13-45", ""],  # 5: bad date
        ["CY-101", "王五", "", "", "CW", "", "", "", "", "", "", "", ""],  # 6: duplicate id
        ["CY-106", "", "", "", "CW", "", "", "", "", "", "", "", ""],  # 7: missing name
        ["CY-107", "钱七", "", "", "CW", "", "", "25", "也许", "", "", "", "周八 09:00-10:00"],  # 8: three cells
    ]
    r = upload(client, "members", csv_bytes(rows), world.h("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "import_rejected" and problem["bad_rows"] == [3, 4, 5, 6, 7, 8]
    assert bad_cells(r) == {
        (3, "skills"),
        (4, "home_area"),
        (5, "blackout_dates"),
        (6, "external_id"),
        (7, "name"),
        (8, "accepts_cross_area"),
        (8, "weekly_slots"),
        (8, "weekly_cap"),
    }
    assert problem["error_count"] == 8
    by_cell = {(e["row"], e["field"]): e for e in problem["errors"]}
    assert "书法" in by_cell[(3, "skills")]["message"] and by_cell[(3, "skills")]["column"] == "技能"
    assert "row 2" in by_cell[(6, "external_id")]["message"]
    assert count(db, Member) == 3  # not even the good row 2


def test_missing_required_column_and_row_cap(client, world, db):
    r = upload(client, "members", csv_bytes([["姓名", "居住片区"], ["无编号", "JW"]]), world.h("admin"))
    assert r.status_code == 422 and bad_cells(r) == {(1, "external_id")}
    r = upload(
        client, "members", csv_bytes([["编号", "姓名", "Name", "居住片区"], ["X", "a", "b", "JW"]]), world.h("admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "duplicate_column"
    rows = [["编号", "姓名", "居住片区"]] + [[f"N{i}", "某", "JW"] for i in range(10_001)]
    r = upload(client, "members", csv_bytes(rows), world.h("admin"))
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows"
    r = client.post("/v1/members:import", headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert count(db, Member) == 3


def test_unsupported_files_are_415(client, world, db):
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    cases = [
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "application/vnd.ms-excel"),
        ("members.docx", zipped.getvalue(), "application/octet-stream"),
        ("members.csv", b"\xef\xbb\xbf\xe7\xbc\x96\xff\xfe,\x81\x20\n", "text/csv"),  # neither UTF-8 nor GB18030
        ("members.xlsx", b"not a workbook", XLSX_TYPE),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    ]
    for name, data, ctype in cases:
        r = upload(client, "members", data, world.h("admin"), name=name, ctype=ctype)
        assert r.status_code == 415, (name, r.status_code, r.text)
        expected = "unsupported_encoding" if name == "members.csv" else "unsupported_media_type"
        assert r.json()["code"] == expected, (name, r.text)
    r = upload(client, "demands", b"%PDF-1.4", world.h("admin"), name="x.pdf", ctype="application/pdf")
    assert r.status_code == 415
    assert count(db, Member) == 3


def test_roles(client, world, db):
    data = csv_bytes([MEMBER_HEADER_CN, *MEMBER_ROWS_CN])
    assert upload(client, "members", data, world.h("reader")).status_code == 403
    assert upload(client, "members", data, world.h("liaison_jw")).status_code == 403
    assert upload(client, "members", data, {}).status_code == 401
    demands = csv_bytes([DEMAND_HEADER_CN, DEMAND_ROWS_CN[0]])
    assert upload(client, "demands", demands, world.h("reader")).status_code == 403
    # Another district's admin sees none of this district's areas or communities.
    r = upload(client, "members", data, world.h("other_admin"))
    assert r.status_code == 422 and {f for _, f in bad_cells(r)} >= {"home_area"}
    assert count(db, Member) == 3 and count(db, Demand) == 0


DEMAND_HEADER_CN = [
    "编号",
    "社区",
    "片区",
    "标题",
    "描述",
    "渠道",
    "优先级",
    "所需技能",
    "最少人数",
    "最多人数",
    "开始",
    "结束",
    "回避委员",
]
DEMAND_ROWS_CN = [
    [
        "JW-2026-001",
        "建外社区",
        "",
        "业主与物业纠纷法律咨询",
        "光华里小区业主委员会与物业公司的纠纷",
        "民情联络站",
        "5",
        "律师、法律援助",
        "1",
        "2",
        "2026-12-05 09:00",
        "2026-12-05 11:30",
        "M-张伟",
    ],
    [
        "CW-2026-001",
        "朝外社区",
        "CW",
        "防范金融诈骗讲座",
        "",
        "民需收集库",
        "4",
        "finance",
        "1",
        "",
        "2026/12/06 14:00",
        "2026/12/06 16:00",
        "",
    ],
    [
        "",
        "清友园社区",
        "来广营地区",
        "社区文艺队教学",
        "",
        "议事会",
        "",
        "",
        "2",
        "3",
        "2026年12月7日 9:00",
        "2026年12月7日 11:00",
        "M-李娜;M-王强",
    ],
]


def demand(client, world, demand_id: int) -> dict:
    r = client.get(f"/v1/demands/{demand_id}", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def test_demands_csv_create_and_reimport(client, world, db):
    data = csv_bytes([DEMAND_HEADER_CN, *DEMAND_ROWS_CN], bom=True)
    r = upload(client, "demands", data, world.h("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["rows"]) == (3, 0, 3)
    law = demand(client, world, body["items"][0]["id"])
    assert law["community_id"] == world.communities["建外社区"] and law["area"] == "JW"
    assert law["channel"] == "liaison_station" and law["priority"] == 5
    assert [s["code"] for s in law["required_skills"]] == ["law"]
    assert law["excluded_member_ids"] == [world.members["张伟"]]
    assert datetime.fromisoformat(law["starts_at"]) == datetime.fromisoformat("2026-12-05T09:00:00+08:00")
    fin = demand(client, world, body["items"][1]["id"])
    assert fin["channel"] == "needs_collection" and fin["max_members"] == 1
    art = demand(client, world, body["items"][2]["id"])
    assert art["channel"] == "council_meeting" and art["priority"] == 3 and art["area"] == "LGY"
    assert art["required_skills"] == [] and (art["min_members"], art["max_members"]) == (2, 3)
    assert sorted(art["excluded_member_ids"]) == sorted([world.members["李娜"], world.members["王强"]])
    assert datetime.fromisoformat(art["ends_at"]) == datetime.fromisoformat("2026-12-07T11:00:00+08:00")

    # Again: keyed rows are unchanged; the row without an external_id is created anew (documented).
    r = upload(client, "demands", data, world.h("admin"))
    assert [i["action"] for i in r.json()["items"]] == ["unchanged", "unchanged", "created"]
    assert count(db, Demand) == 4
    rows = [list(row) for row in DEMAND_ROWS_CN[:2]]
    rows[0][6] = "2"
    r = upload(client, "demands", csv_bytes([DEMAND_HEADER_CN, *rows]), world.h("admin"))
    assert [i["action"] for i in r.json()["items"]] == ["updated", "unchanged"]
    assert demand(client, world, body["items"][0]["id"])["priority"] == 2
    assert count(db, Demand) == 4


def test_demands_xlsx_with_datetime_cells_and_english_headers(client, world, db):
    rows = [
        [
            "external_id",
            "community",
            "title",
            "channel",
            "priority",
            "required_skills",
            "min_members",
            "max_members",
            "starts_at",
            "ends_at",
        ],
        [
            "LGY-9",
            "清友园社区",
            "场地借用",
            "reception_day",
            2,
            "场地",
            1,
            1,
            datetime(2026, 12, 8, 14, 0),
            datetime(2026, 12, 8, 15, 0),
        ],
    ]
    r = upload(client, "demands", xlsx_bytes(rows), world.h("admin"), name="needs.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 200, r.text
    d = demand(client, world, r.json()["items"][0]["id"])
    assert d["channel"] == "reception_day" and [s["code"] for s in d["required_skills"]] == ["venue"]
    assert datetime.fromisoformat(d["starts_at"]) == datetime.fromisoformat("2026-12-08T14:00:00+08:00")


def test_bad_demand_rows_reject_the_whole_file(client, world, db):
    with db.session() as s:  # a second 建外社区, in CW: the name alone no longer says which
        s.add(Community(district_id=world.district_id, area_id=world.areas["CW"], name="建外社区"))
        s.commit()
    ok = DEMAND_ROWS_CN[1]
    rows = [
        DEMAND_HEADER_CN,
        list(ok),  # 2: fine
        [
            "D-3",
            "朝外社区",
            "",
            "人数颠倒",
            "",
            "民意信箱",
            "3",
            "",
            "3",
            "1",
            "2026-12-06 14:00",
            "2026-12-06 16:00",
            "",
        ],  # 3: min > max
        [
            "D-4",
            "朝外社区",
            "",
            "日期错误",
            "",
            "民意信箱",
            "3",
            "",
            "1",
            "1",
            "2026-02-30 14:00",
            "2026-12-06 16:00",
            "",
        ],  # 4: bad date
        [
            "D-5",
            "不存在社区",
            "",
            "x",
            "",
            "信箱",
            "3",
            "魔术",
            "1",
            "1",
            "2026-12-06 14:00",
            "2026-12-06 16:00",
            "M-nobody",
        ],  # 5: three cells
        [
            "D-6",
            "建外社区",
            "",
            "哪个建外",
            "",
            "电话",
            "9",
            "",
            "1",
            "1",
            "2026-12-06 14:00",
            "2026-12-06 13:00",
            "",
        ],  # 6: four cells
        [
            "CW-2026-001",
            "朝外社区",
            "",
            "重复",
            "",
            "其他",
            "3",
            "",
            "1",
            "1",
            "2026-12-06 14:00",
            "2026-12-06 16:00",
            "",
        ],  # 7: duplicate id
        [
            "D-8",
            "建外社区",
            "JW",
            "",
            "",
            "其他",
            "3",
            "",
            "1",
            "1",
            "2026-12-06 14:00",
            "2026-12-06 16:00",
            "",
        ],  # 8: no title
    ]
    r = upload(client, "demands", csv_bytes(rows), world.h("admin"))
    assert r.status_code == 422, r.text
    assert bad_cells(r) == {
        (3, "min_members"),
        (4, "starts_at"),
        (5, "community"),
        (5, "required_skills"),
        (5, "excluded_members"),
        (6, "community"),
        (6, "channel"),
        (6, "priority"),
        (6, "ends_at"),
        (7, "external_id"),
        (8, "title"),
    }
    messages = {(e["row"], e["field"]): e["message"] for e in r.json()["errors"]}
    assert "several areas" in messages[(6, "community")]
    assert count(db, Demand) == 0


def test_liaison_imports_demands_of_its_own_area_only(client, world, db):
    jw_row, cw_row = DEMAND_ROWS_CN[0], DEMAND_ROWS_CN[1]
    r = upload(client, "demands", csv_bytes([DEMAND_HEADER_CN, jw_row, cw_row]), world.h("liaison_jw"))
    assert r.status_code == 422, r.text
    assert bad_cells(r) == {(3, "area")}
    assert r.json()["errors"][0]["code"] == "outside_area"
    assert count(db, Demand) == 0

    with db.session() as s:  # a second 建外社区, in CW: for the JW liaison the name still means its own
        s.add(Community(district_id=world.district_id, area_id=world.areas["CW"], name="建外社区"))
        s.commit()
    r = upload(client, "demands", csv_bytes([DEMAND_HEADER_CN, jw_row]), world.h("liaison_jw"))
    assert r.status_code == 200 and r.json()["created"] == 1
    jw_demand = r.json()["items"][0]["id"]
    assert demand(client, world, jw_demand)["community_id"] == world.communities["建外社区"]
    # The CW liaison may not take over the JW demand by naming its external id, even for a CW community.
    moved = ["JW-2026-001", *cw_row[1:]]
    r = upload(client, "demands", csv_bytes([DEMAND_HEADER_CN, moved]), world.h("liaison_cw"))
    assert r.status_code == 422 and bad_cells(r) == {(2, "external_id")}
    assert r.json()["errors"][0]["code"] == "outside_area"
    stored = demand(client, world, jw_demand)
    assert stored["area"] == "JW" and stored["title"] == jw_row[3] and stored["version"] == 1
    assert count(db, Demand) == 1


def test_body_cap_applies_to_uploads(settings, world, db):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    rows = [MEMBER_HEADER_CN] + [[f"B{i}", "某委员", "", "", "JW", "", "", "", "", "", "", "", ""] for i in range(100)]
    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": 2000}))) as small:
        r = upload(small, "members", csv_bytes(rows), world.h("admin"))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert count(db, Member) == 3


# -- cell parsing (no database) ----------------------------------------------------------------


def test_cell_parsers_read_what_offices_type():
    import pytest

    from app.services.imports.demands import parse_channel
    from app.services.imports.values import (
        CellError,
        parse_bool,
        parse_dates,
        parse_datetime,
        parse_int,
        parse_skills,
        parse_slots,
    )

    beijing = datetime.fromisoformat("2026-12-05T09:00:00+08:00")
    for raw in [
        "2026-12-05 09:00",
        "2026/12/5 9:00",
        "2026-12-05T09:00:00+08:00",
        "2026年12月5日 9:00",
        "2026年12月5日9时00分",
        "2026-12-05T01:00:00Z",
        datetime(2026, 12, 5, 9, 0),
    ]:
        assert parse_datetime(raw) == beijing, raw
    for raw in ["2026-12-05", "2026-02-30 09:00", "下周六", "2026-12-05 25:00", date(2026, 12, 5)]:
        with pytest.raises(CellError):
            parse_datetime(raw)
    assert parse_dates("2026-12-01;2026.12.03、2026年12月4日") == [
        date(2026, 12, 1),
        date(2026, 12, 3),
        date(2026, 12, 4),
    ]
    assert parse_dates("2026-12-30至2027-01-02") == [
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 2),
    ]
    with pytest.raises(CellError):
        parse_dates("2026-12-05~2026-12-01")
    assert parse_slots("星期一 8:30～11:00，礼拜天 14:00至17:00；Sat 09:00-12:00") == [
        {"weekday": 0, "start": "08:30", "end": "11:00"},
        {"weekday": 6, "start": "14:00", "end": "17:00"},
        {"weekday": 5, "start": "09:00", "end": "12:00"},
    ]
    for raw in ["周六", "周六 12:00-09:00", "Caturday 09:00-10:00", "周六 09:70-10:00"]:
        with pytest.raises(CellError):
            parse_slots(raw)
    assert parse_skills("法律咨询：3；金融,  场地:1") == [("法律咨询", 3), ("金融", None), ("场地", 1)]
    for raw in ["法律咨询:4", "法律咨询:高", ":2"]:
        with pytest.raises(CellError):
            parse_skills(raw)
    assert [parse_bool(v) for v in ["是", "否", "TRUE", "0", 1, False, "Y"]] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
    ]
    with pytest.raises(CellError):
        parse_bool("也许")
    assert parse_int("3") == parse_int(3.0) == parse_int("3.0") == 3
    with pytest.raises(CellError):
        parse_int("2.5")
    assert parse_channel("民情联络站") == "liaison_station" and parse_channel("WeChat Forum") == "wechat_forum"
    with pytest.raises(CellError):
        parse_channel("电话")


def test_bad_cells_are_reported_in_the_callers_language(client, world, db):
    rows = [list(row) for row in MEMBER_ROWS_CN]
    rows[0][4] = "火星片区"  # no such area
    rows[1][7] = "三"  # not a whole number
    data = csv_bytes([MEMBER_HEADER_CN, *rows])
    before = count(db, Member)
    zh = upload(client, "members", data, {**world.h("admin"), "Accept-Language": "zh-CN"}).json()
    en = upload(client, "members", data, {**world.h("admin"), "Accept-Language": "en"}).json()
    by_field = {(e["row"], e["field"]): e["message"] for e in zh["errors"]}
    assert "未知的片区“火星片区”" in by_field[(2, "home_area")]
    assert "“三”不是整数" in by_field[(3, "weekly_cap")]
    english = {(e["row"], e["field"]): e["message"] for e in en["errors"]}
    assert "unknown area '火星片区'" in english[(2, "home_area")]
    assert [(e["row"], e["field"], e["code"]) for e in zh["errors"]] == [
        (e["row"], e["field"], e["code"]) for e in en["errors"]
    ]
    assert count(db, Member) == before  # all-or-nothing
