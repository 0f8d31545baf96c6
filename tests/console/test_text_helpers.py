"""The console's text helpers: dates in Chinese (Beijing time), pinyin matching, skill suggestion,
and every catalogue key a template names exists."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.i18n import catalogue
from app.i18n.format import format_date, format_datetime
from app.models import Skill
from app.services.pinyin_match import match_rank
from app.services.skill_suggest import find_skills, suggest_skills

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def test_dates_in_chinese_and_beijing_time():
    assert format_datetime(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)) == "2026年12月7日 周一 09:00"
    assert format_datetime(datetime(2026, 12, 6, 16, 30)) == "2026年12月7日 周一 00:30"  # naive = stored UTC
    assert format_date(datetime(2026, 12, 13, 15, 59, tzinfo=UTC)) == "2026年12月13日 周日"
    assert format_datetime(None) == "—"


@pytest.mark.parametrize(
    ("query", "text", "rank"),
    [("fl", "法律咨询", 1), ("falv", "法律咨询", 0), ("法律", "法律咨询", 0), ("zx", "法律咨询", 2),
     ("zhang wei", "张伟", 0), ("ZW", "张伟", 1), ("lv", "绿化", 0), ("law", "法律咨询", None)],
)  # fmt: skip
def test_pinyin_match(query, text, rank):
    assert match_rank(query, text) == rank


def test_every_template_key_is_in_the_catalogue():
    keys = catalogue("zh")
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text()))
    assert used, "no t() calls found"
    missing = sorted(k for k in used if not k.endswith(".") and k not in keys)
    assert missing == []
    prefixes = [k for k in used if k.endswith(".")]  # t("console.nav." ~ key): some keys must start so
    assert prefixes and all(any(key.startswith(p) for key in keys) for p in prefixes)


def test_suggest_and_find_skills(db, world):
    with db.session() as s:
        found = suggest_skills(s, district_id=world.district_id, text="社区讲座：防金融诈骗，需要律师解答法律问题")
        by_code = {x.skill.code: x for x in found}
        assert set(by_code) == {"finance", "law"}
        assert "防金融诈骗" in by_code["finance"].matched_words and by_code["finance"].score >= 3
        assert "律师" in by_code["law"].matched_words and by_code["law"].score >= 3
        assert suggest_skills(s, district_id=world.district_id, text="今天天气很好") == []
        assert [k.code for k in find_skills(s, district_id=world.district_id, query="cd")] == ["venue"]
        s.get(Skill, world.skills["venue"]).active = False
        s.flush()
        assert find_skills(s, district_id=world.district_id, query="cd") == []
