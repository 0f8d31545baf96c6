"""CLI texts follow the operator's locale (LC_ALL, LC_MESSAGES, LANG): English when it names
English, Chinese otherwise. In process and cheap: refusals that happen before any database work,
the problem printer, and the tables and lines the demo and ``matcher optimize`` print."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.cli.common import cli_locale, echo_problem
from app.cli.demo import render_links
from app.cli.optimize import _columns, comparison_table
from app.errors import invalid, msg

EN, ZH = "en_US.UTF-8", "zh_CN.UTF-8"


@pytest.fixture
def lang(monkeypatch):
    """Set the operator's LANG (LC_ALL and LC_MESSAGES cleared)."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)

    def _set(value: str) -> None:
        monkeypatch.setenv("LANG", value)

    return _set


@pytest.mark.parametrize(
    ("env", "locale"),
    [({"LANG": EN}, "en"), ({"LANG": ZH}, "zh"), ({"LANG": "C.UTF-8"}, "zh"), ({"LANG": EN, "LC_ALL": ZH}, "zh")],
)
def test_the_locale_comes_from_the_environment(env, locale, monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli_locale() == locale


@pytest.mark.parametrize(
    ("args", "english", "chinese"),
    [
        (
            ["keys", "rotate", "1", "--grace-hours", "-1"],
            "error: --grace-hours must not be negative",
            "错误：--grace-hours 不能为负数",
        ),
        (
            ["districts", "create", "xx", "--name", "某区", "--areas", "/nowhere.csv"],
            "error: no such file",
            "错误：文件不存在",
        ),
        (
            ["report", "needs", "--from", "soon"],
            "error: --from: expected a date",
            "错误：--from：应为 2026-11-01 这样的日期",
        ),
    ],
)
def test_refusals_follow_lang(args, english, chinese, lang):
    lang(EN)
    en = CliRunner().invoke(cli, args)
    lang(ZH)
    zh = CliRunner().invoke(cli, args)
    assert en.exit_code == zh.exit_code == 2
    assert english in en.output and chinese in zh.output and "错误" not in en.output


def test_a_database_without_schema_is_said_in_the_operators_language(lang, tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        lang(EN)
        en = CliRunner().invoke(cli, ["keys", "list"])
        lang(ZH)
        zh = CliRunner().invoke(cli, ["keys", "list"])
    finally:
        get_settings.cache_clear()
    assert en.exit_code == zh.exit_code == 3
    assert "error: the database has no (or an old) schema" in en.output
    assert "错误：数据库尚未初始化" in zh.output and "matcher db upgrade" in zh.output


def test_a_refused_command_prints_the_problem_in_the_operators_language(lang, capsys):
    problem = invalid("area", msg("unknown_area_code", code="XYZ"))
    lang(EN)
    echo_problem(problem)
    lang(ZH)
    echo_problem(problem)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: area: no area with code 'XYZ' in this district",
        "  area: no area with code 'XYZ' in this district",
        "错误：area：本区没有编码为 'XYZ' 的片区",
        "  area: 本区没有编码为 'XYZ' 的片区",
    ]


STATS = {
    "optimized": {"demands_covered": 2, "demands_total": 3, "weighted_coverage": 0.75, "assignments": 2},
    "fixed_pairing": {"demands_covered": 1, "demands_total": 3, "weighted_coverage": 0.5, "assignments": 1},
    "greedy": None,
}


def test_the_comparison_table_follows_lang_and_stays_aligned(lang):
    lang(EN)
    en = comparison_table(STATS)
    lang(ZH)
    zh = comparison_table(STATS)
    assert "fixed pairing" in en and "demands covered" in en and "2/3" in en
    assert "定点包片" in zh and "满足的需求" in zh and "2/3" in zh and "fixed pairing" not in zh
    for table in (en, zh):
        assert len({_columns(line) for line in table.splitlines()}) == 1, table  # CJK counted as two columns


def test_the_demo_links_follow_lang(lang):
    links = {
        "published": {"published": 5},
        "task_links": [{"member": "张伟", "need": "法律咨询", "url": "http://h/t/1"}],
        "member_link": {"member": "张伟", "url": "http://h/m/1"},
    }
    lang(EN)
    en = render_links(links)
    lang(ZH)
    zh = render_links(links)
    assert en.startswith("Published the plan: 5 proposals") and "all tasks of 张伟: http://h/m/1" in en
    assert zh.startswith("方案已发布：5 条派单") and "张伟的全部任务：http://h/m/1" in zh
