"""The files district offices really have: GBK/GB18030 CSV, the 兴趣爱好/资源状况 columns, cells as
offices type them (full-width digits, Chinese separators, spaced phones, minority names, every
date form), and workbooks that inflate far beyond their size (zip bombs).

Every test runs on SQLite and PostgreSQL through the real API.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
from datetime import datetime

from app.models import Member
from tests.factories import XLSX_TYPE, csv_bytes, xlsx_bytes
from tests.support import bad_cells, count, upload

HEADER = ["编号", "姓名", "居住片区"]


def members_by_external_id(client, world) -> dict[str, dict]:
    r = client.get("/v1/members?limit=500", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return {m["external_id"]: m for m in r.json()["items"]}


def imported(client, world, rows: list[list], *, data: bytes | None = None, name: str = "委员.csv") -> dict:
    """Upload a member sheet (CSV text unless ``data`` is given) and return the stored members."""
    payload = data if data is not None else csv_bytes(rows)
    ctype = XLSX_TYPE if name.endswith(".xlsx") else "text/csv"
    r = upload(client, "members", payload, world.h("admin"), name=name, ctype=ctype)
    assert r.status_code == 200, r.text
    return members_by_external_id(client, world)


# -- encodings ---------------------------------------------------------------------------------


def test_csv_saved_as_gbk_by_excel_on_chinese_windows(client, world, db):
    text = "编号,姓名,居住片区,界别\r\nG-1,欧阳娜娜,建外街道,文化艺术界\r\nG-2,张伟,JW,经济界\r\n"
    stored = imported(client, world, [], data=text.encode("gbk"))
    assert stored["G-1"]["name"] == "欧阳娜娜" and stored["G-1"]["home_area"] == "JW"
    assert stored["G-1"]["sector"] == "文化艺术界" and stored["G-2"]["sector"] == "经济界"


def test_csv_in_gb18030_with_four_byte_characters(client, world, db):
    rare = "\U00020000"  # 𠀀: outside GBK, four bytes in GB18030
    text = f"编号,姓名,居住片区\r\nR-1,王{rare}明,JW\r\nR-2,䶮,CW\r\n"
    data = text.encode("gb18030")
    assert rare.encode("gb18030") and len(rare.encode("gb18030")) == 4
    try:
        text.encode("gbk")
        raise AssertionError("the fixture must need GB18030")
    except UnicodeEncodeError:
        pass
    stored = imported(client, world, [], data=data)
    assert stored["R-1"]["name"] == f"王{rare}明" and stored["R-2"]["name"] == "䶮"


def test_csv_in_utf8_is_not_misread_as_gb18030(client, world, db):
    stored = imported(client, world, [], data="编号,姓名,居住片区\nU-1,李𠀀,JW\n".encode())
    assert stored["U-1"]["name"] == "李\U00020000"


def test_undecodable_csv_is_a_clear_encoding_problem(client, world, db):
    r = upload(client, "members", b"\xe7\xbc\x96\xff\xfe,\x81\x20\n", world.h("admin"))
    assert r.status_code == 415, r.text
    body = r.json()
    assert body["code"] == "unsupported_encoding" and body["errors"][0]["field"] == "file"
    assert "UTF-8" in body["detail"] and "GB18030" in body["detail"]
    assert count(db, Member) == 3


# -- the skill kinds: 专业特长 / 兴趣爱好 / 资源状况 -------------------------------------------------


def test_interest_and_resource_columns_are_read_as_their_kinds(client, world, db):
    rows = [
        [*HEADER, "专业特长", "兴趣爱好", "资源状况"],
        ["K-1", "赵敏", "JW", "法律咨询:3", "教学", "场地:1"],
    ]
    r = upload(client, "members", csv_bytes(rows), world.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["ignored_columns"] == []
    skills = {s["code"]: (s["category"], s["level"]) for s in members_by_external_id(client, world)["K-1"]["skills"]}
    assert skills == {"law": ("expertise", 3), "teaching": ("interest", 2), "venue": ("resource", 1)}


def test_a_kind_column_refuses_skills_of_another_kind(client, world, db):
    rows = [[*HEADER, "兴趣爱好", "资源状况"], ["K-2", "钱多多", "JW", "法律咨询", "教学"]]
    r = upload(client, "members", csv_bytes(rows), world.h("admin"))
    assert r.status_code == 422, r.text
    assert bad_cells(r) == {(2, "interests"), (2, "resources")}
    columns = {e["field"]: e["column"] for e in r.json()["errors"]}
    assert columns == {"interests": "兴趣爱好", "resources": "资源状况"}
    assert count(db, Member) == 3


def test_an_interest_column_alone_replaces_only_interests(client, world, db):
    # 李娜 holds finance (expertise) and teaching (interest); a sheet of interests only keeps finance.
    rows = [[*HEADER, "兴趣爱好"], ["M-李娜", "李娜", "CW", ""]]
    stored = imported(client, world, rows)
    assert [s["code"] for s in stored["M-李娜"]["skills"]] == ["finance"]
    rows = [[*HEADER, "兴趣爱好"], ["M-李娜", "李娜", "CW", "教学:3"]]
    stored = imported(client, world, rows)
    assert sorted((s["code"], s["level"]) for s in stored["M-李娜"]["skills"]) == [("finance", 2), ("teaching", 3)]


# -- cells as offices type them ----------------------------------------------------------------


def test_full_width_digits(client, world, db):
    rows = [
        [*HEADER, "每周上限", "最远距离km", "专业特长"],
        ["F-1", "孙丽", "JW", "１２", "１２．５公里", "法律咨询：３"],
    ]
    m = imported(client, world, rows)["F-1"]
    assert (m["weekly_cap"], m["max_distance_km"], m["skills"][0]["level"]) == (12, 12.5, 3)


def test_chinese_list_separators_in_skill_lists(client, world, db):
    for sep in ("、", "，", "；"):
        rows = [[*HEADER, "专业特长"], ["S-1", "周杰", "JW", f"法律咨询{sep}金融{sep}场地"]]
        codes = sorted(s["code"] for s in imported(client, world, rows)["S-1"]["skills"])
        assert codes == ["finance", "law", "venue"], sep


def test_phone_numbers_as_typed(client, world, db):
    rows = [
        [*HEADER, "电话"],
        ["P-1", "吴一", "JW", "+86 138 0013 8000"],
        ["P-2", "吴二", "JW", "138-0013-8000"],
        ["P-3", "吴三", "JW", "（010）6500-1000"],
        ["P-4", "吴四", "JW", "１３９　０１２３　４５６７"],
    ]
    stored = imported(client, world, rows)
    assert [stored[f"P-{i}"]["phone"] for i in range(1, 5)] == [
        "13800138000",
        "13800138000",
        "(010)6500-1000",  # full-width brackets folded
        "13901234567",
    ]
    r = upload(client, "members", csv_bytes([[*HEADER, "电话"], ["P-5", "吴五", "JW", "请联系秘书"]]), world.h("admin"))
    assert r.status_code == 422 and bad_cells(r) == {(2, "phone")}


def test_minority_names_with_a_middle_dot(client, world, db):
    rows = [
        [*HEADER],
        ["N-1", "阿依古丽·买买提", "JW"],
        ["N-2", "热依扎 • 艾力", "JW"],
        ["N-3", "迪丽热巴・迪力木拉提", "JW"],
        ["N-4", "王　强", "JW"],  # two-character names padded to align with three-character ones
    ]
    stored = imported(client, world, rows)
    assert [stored[f"N-{i}"]["name"] for i in range(1, 5)] == [
        "阿依古丽·买买提",
        "热依扎·艾力",
        "迪丽热巴·迪力木拉提",
        "王强",
    ]


def test_dates_as_cells_and_as_typed(client, world, db):
    rows = [
        [*HEADER, "不可用日期"],
        ["D-1", "冯一", "JW", datetime(2026, 12, 7)],  # an Excel date cell
        ["D-2", "冯二", "JW", 46363],  # a date cell that lost its format: Excel day 46363
        ["D-3", "冯三", "JW", "2026/12/7"],
        ["D-4", "冯四", "JW", "2026年12月7日"],
        ["D-5", "冯五", "JW", "２０２６年１２月７日、2026/12/8"],
    ]
    stored = imported(client, world, [], data=xlsx_bytes(rows), name="委员.xlsx")
    for i in range(1, 5):
        assert stored[f"D-{i}"]["blackout_dates"] == ["2026-12-07"], i
    assert stored["D-5"]["blackout_dates"] == ["2026-12-07", "2026-12-08"]


def test_leading_and_trailing_ideographic_spaces(client, world, db):
    rows = [
        ["　编号　", "姓名", "居住片区", "界别", "专业特长", "每周上限"],
        ["　W-1　", "　陈　晨　", "　JW　", "　经济界　", "　法律咨询　、　金融　", "　３　"],
    ]
    m = imported(client, world, rows)["W-1"]
    assert (m["name"], m["home_area"], m["sector"], m["weekly_cap"]) == ("陈晨", "JW", "经济界", 3)
    assert sorted(s["code"] for s in m["skills"]) == ["finance", "law"]


# -- zip bombs ---------------------------------------------------------------------------------


def _workbook_with_sheet(sheet_xml_chunks) -> bytes:
    """A minimal XLSX whose first worksheet is the given XML (written in chunks, deflated)."""
    from openpyxl import Workbook

    template = io.BytesIO()
    Workbook().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                sheet = zipfile.ZipInfo(info.filename)
                sheet.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(sheet, "w") as part:
                    for chunk in sheet_xml_chunks:
                        part.write(chunk)
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def _bomb(inflated_mib: int) -> bytes:
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    head += b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
    tail = b"</t></is></c></row></sheetData></worksheet>"
    return _workbook_with_sheet([head, *(b" " * (1 << 20) for _ in range(inflated_mib)), tail])


def test_a_zip_bomb_is_refused_before_it_is_inflated(client, world, db):
    data = _bomb(64)  # 64 MiB of sheet XML in a file of about 64 KiB; the default bound is 50 MiB
    assert len(data) < 200_000
    started = time.process_time()
    r = upload(client, "members", data, world.h("admin"), name="名册.xlsx", ctype=XLSX_TYPE)
    cpu = time.process_time() - started
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "workbook_too_large" and r.json()["errors"][0]["field"] == "file"
    # Inflating and parsing 64 MiB of XML costs seconds of CPU; reading the ZIP directory does not.
    assert cpu < 1.0, cpu
    assert count(db, Member) == 3


def test_the_inflated_size_and_row_bounds_are_configurable(client, world, db, monkeypatch):
    from app.settings import get_settings

    rows = [HEADER] + [[f"C-{i}", "某", "JW"] for i in range(30)]
    data = xlsx_bytes(rows)
    monkeypatch.setenv("MATCHER_IMPORT_MAX_SHEET_ROWS", "20")
    get_settings.cache_clear()
    r = upload(client, "members", data, world.h("admin"), name="名册.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 422 and r.json()["code"] == "too_many_rows", r.text
    monkeypatch.setenv("MATCHER_IMPORT_MAX_SHEET_ROWS", "50000")
    monkeypatch.setenv("MATCHER_IMPORT_MAX_INFLATED_BYTES", "1000")
    get_settings.cache_clear()
    r = upload(client, "members", data, world.h("admin"), name="名册.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 413 and r.json()["code"] == "workbook_too_large", r.text
    monkeypatch.delenv("MATCHER_IMPORT_MAX_INFLATED_BYTES")
    get_settings.cache_clear()
    assert upload(client, "members", data, world.h("admin"), name="名册.xlsx", ctype=XLSX_TYPE).status_code == 200


def test_a_sheet_of_countless_empty_rows_is_counted_before_parsing(client, world, db):
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    rows = b"".join(b'<row r="%d"/>' % i for i in range(1, 60_002))
    data = _workbook_with_sheet([head, rows, b"</sheetData></worksheet>"])
    r = upload(client, "members", data, world.h("admin"), name="名册.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "too_many_rows" and "50000" in r.json()["detail"]


def test_a_workbook_that_lies_about_its_inflated_size_is_unreadable(client, world, db):
    data = bytearray(_bomb(8))
    # Declare 1 KiB for the 8 MiB sheet in the central directory: zipfile stops at the declared
    # size, the CRC then fails, and nothing past the declared bound is ever inflated.
    name = b"xl/worksheets/sheet1.xml"
    at = data.rindex(b"PK\x01\x02", 0, data.rindex(name))
    data[at + 24 : at + 28] = struct.pack("<I", 1024)
    r = upload(client, "members", bytes(data), world.h("admin"), name="名册.xlsx", ctype=XLSX_TYPE)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "unreadable_file" and "CRC" in r.json()["detail"]
    assert count(db, Member) == 3
