"""The flat-table writers (no database): CSV/XLSX round trips, formula safety, terminal layout."""

from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import load_workbook

from app.services.reports.table import Table, to_csv, to_text, to_xlsx


def sample() -> Table:
    return Table(
        "示例",
        [("name", "姓名"), ("missing", "尚缺"), ("score", "得分")],
        [
            {"name": "张伟", "missing": ["suggestion", "activity"], "score": 0.123456},
            {"name": '=HYPERLINK("x")', "missing": [], "score": None},
        ],
    )


def test_csv_round_trip():
    rows = list(csv.DictReader(io.StringIO(to_csv(sample()))))
    assert rows == [
        {"name": "张伟", "missing": "suggestion;activity", "score": "0.1235"},
        {"name": '=HYPERLINK("x")', "missing": "", "score": ""},
    ]


def test_xlsx_round_trip_and_no_formulas():
    data = to_xlsx(sample(), Table("示例", [("a", "甲")], [{"a": 1}]))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["示例", "示例2"]
    values = list(wb["示例"].iter_rows(values_only=True))
    assert values[0] == ("姓名", "尚缺", "得分")
    assert values[1] == ("张伟", "suggestion;activity", 0.1235)
    assert values[2][0] == '=HYPERLINK("x")' and values[2][2] is None
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # text from the field is never written as a formula


def test_text_table_aligns_cjk_and_clips_long_cells():
    t = Table(
        "t",
        [("name", "姓名"), ("list", "名单")],
        [{"name": "张伟", "list": ["王强"] * 40}, {"name": "Li", "list": "x"}],
    )
    lines = to_text(t).splitlines()
    assert lines[0].startswith("姓名  名单") and set(lines[1]) <= {"-", " "}
    assert lines[2].endswith("…") and len(lines[2]) < 60
    assert lines[3].startswith("Li    x")
