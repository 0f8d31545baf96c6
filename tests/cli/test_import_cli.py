"""`matcher import members|demands FILE`, run as an operator runs it: a subprocess
on a migrated SQLite file, no API key (the CLI acts as the district's admin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import migrate
from app.db import get_engine, get_sessionmaker
from app.models import Area, Community, Demand, Group, Member, Skill
from app.services.districts import ensure_district
from tests.support import CommandResult, run_matcher

MATCHER = str(Path(sys.executable).parent / "matcher")
SAMPLE = Path(__file__).parent.parent / "fixtures" / "members_sample.csv"


def binary(args: list[str], url: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess:
    """The installed binary, as an operator runs it (the first test); the others run in process."""
    env = {**os.environ, "MATCHER_DATABASE_URL": url, "LANG": lang}
    for name in ("MATCHER_DISTRICT_CODE", "LC_ALL", "LC_MESSAGES"):
        env.pop(name, None)
    return subprocess.run([MATCHER, *args], env=env, capture_output=True, text=True, timeout=120)


def run(args: list[str], url: str, lang: str = "en_US.UTF-8") -> CommandResult:
    return run_matcher(args, url, LANG=lang)


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    migrate.upgrade(url)
    with get_sessionmaker(url)() as s:
        d = ensure_district(s, code="chaoyang", name="朝阳区")
        ensure_district(s, code="haidian", name="海淀区")
        areas = {}
        for code, name in [("JW", "建外街道"), ("CW", "朝外街道"), ("LGY", "来广营地区")]:
            areas[code] = Area(district_id=d.id, code=code, name=name, kind="street")
            s.add(areas[code])
        s.flush()
        s.add(Community(district_id=d.id, area_id=areas["LGY"].id, name="清友园社区"))
        s.add(Group(district_id=d.id, name="第一小组"))
        for code, name in [("law", "法律咨询"), ("finance", "金融"), ("teaching", "教学"), ("venue", "场地")]:
            s.add(Skill(district_id=d.id, code=code, name=name, category="expertise", synonyms=[]))
        s.commit()
    yield url
    get_engine(url).dispose()


def members(url: str) -> dict[str, Member]:
    with get_sessionmaker(url)() as s:
        return {m.external_id: m for m in s.scalars(select(Member))}


def test_import_members_end_to_end(url, tmp_path):
    r = binary(["import", "members", str(SAMPLE), "--dry-run"], url)
    assert r.returncode == 0, r.stderr
    assert "2 created" in r.stdout and "dry run" in r.stdout
    assert members(url) == {}

    r = run(["import", "members", str(SAMPLE)], url)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("members: 2 rows: 2 created, 0 updated, 0 unchanged")
    stored = members(url)
    assert set(stored) == {"CY-0001", "CY-0002"}
    assert stored["CY-0001"].weekly_cap == 3 and stored["CY-0001"].accepts_cross_area is False

    r = run(["import", "members", str(SAMPLE), "--json"], url)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        SAMPLE.read_text(encoding="utf-8-sig").replace("LGY", "XYZ").replace("教学", "魔术"), encoding="utf-8"
    )
    r = run(["import", "members", str(bad)], url)
    assert r.returncode == 2 and r.stdout == ""
    assert "row 2: home_area (居住片区): unknown area 'XYZ'" in r.stderr
    assert "row 3: skills (技能)" in r.stderr and "魔术" in r.stderr
    r = run(["import", "members", str(bad), "--json"], url)
    assert r.returncode == 2
    problem = json.loads(r.stdout)
    assert problem["code"] == "import_rejected" and problem["bad_rows"] == [2, 3]
    assert set(members(url)) == {"CY-0001", "CY-0002"}
    assert members(url)["CY-0001"].version == stored["CY-0001"].version

    # Another district has none of these areas: every row is bad there, nothing is written.
    r = run(["import", "members", str(SAMPLE), "--district", "haidian"], url)
    assert r.returncode == 2 and "home_area" in r.stderr
    r = run(["import", "members", str(SAMPLE), "--district", "nowhere"], url)
    assert r.returncode == 2 and "nowhere" in r.stderr
    assert len(members(url)) == 2


def test_import_demands_end_to_end(url, tmp_path):
    run(["import", "members", str(SAMPLE)], url)
    sheet = tmp_path / "needs.csv"
    sheet.write_text(
        "编号,社区,标题,渠道,所需技能,最少人数,开始,结束,回避委员\n"
        "LGY-1,清友园社区,防范金融诈骗讲座,民需收集库,金融,1,2026-12-02 14:00,2026-12-02 16:00,CY-0001\n",
        encoding="utf-8",
    )
    r = run(["import", "demands", str(sheet)], url)
    assert r.returncode == 0, r.stderr
    assert "1 created" in r.stdout
    r = run(["import", "demands", str(sheet)], url)
    assert r.returncode == 0 and "1 unchanged" in r.stdout
    with get_sessionmaker(url)() as s:
        assert s.scalar(select(func.count()).select_from(Demand)) == 1
        demand = s.scalar(select(Demand))
        assert demand.channel == "needs_collection" and demand.created_by == "cli-import"
        assert [m.external_id for m in demand.excluded_members] == ["CY-0001"]


def test_import_messages_follow_lang(url, tmp_path):
    r = run(["import", "members", str(SAMPLE), "--dry-run"], url, lang="zh_CN.UTF-8")
    assert r.returncode == 0, r.stderr
    assert "委员：共 2 行，新建 2" in r.stdout and "试运行" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,姓名,居住片区\nX-1,某,NOPE\n", encoding="utf-8")
    r = run(["import", "members", str(bad)], url, lang="zh_CN.UTF-8")
    assert r.returncode == 2 and "导入被拒绝" in r.stderr and "第 2 行：" in r.stderr
    r = run(["import", "members", str(bad)], url, lang="C.UTF-8")  # no language named: Chinese
    assert "导入被拒绝" in r.stderr
    r = run(["import", "members", str(bad)], url, lang="en_GB.UTF-8")
    assert "rejected:" in r.stderr and "row 2: " in r.stderr
