"""``matcher demo`` end to end: a real subprocess on a temporary SQLite file, plus the option
handling in-process (text output, bad week, PostgreSQL refusal)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.cli.demo import next_monday, parse_week

MATCHER = str(Path(sys.executable).parent / "matcher")


def test_demo_json_subprocess_builds_the_database(tmp_path):
    db_file = tmp_path / "demo.db"
    db_file.write_text("not a database")  # whatever was there is replaced
    env = {**os.environ, "MATCHER_DATABASE_URL": f"sqlite:///{db_file}"}
    proc = subprocess.run(
        [MATCHER, "demo", "--json", "--seed", "7", "--week", "2026-W49"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # exactly one JSON object on stdout
    assert out["district"] == "chaoyang" and out["seed"] == 7
    assert (out["week"], out["week_start"], out["week_end"]) == ("2026-W49", "2026-11-30", "2026-12-06")
    counts = out["counts"]
    assert counts["areas"] == 43 and counts["members"] == 410 and counts["groups"] == 22
    assert counts["communities"] == 150 and counts["demands"] == 250 and counts["api_keys"] == 1
    assert sum(out["demands_by_channel"].values()) == 250
    assert set(out["demands_by_priority"]) == {"1", "2", "3", "4", "5"}
    assert out["members_without_activity"] == 164
    assert out["admin_key"].startswith("mk_")
    assert out["elapsed_s"] < 30

    engine = create_engine(f"sqlite:///{db_file}")
    with engine.connect() as conn:
        rows = {
            t: conn.scalar(text(f"SELECT count(*) FROM {t}"))
            for t in (
                "areas",
                "communities",
                "groups",
                "members",
                "member_skills",
                "demands",
                "duty_records",
                "api_keys",
            )
        }
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) is not None
        statuses = {r[0] for r in conn.execute(text("SELECT DISTINCT status FROM demands"))}
    engine.dispose()
    assert rows == {k: counts[k] for k in rows}
    assert "assigned" in statuses and statuses <= {"open", "assigned"}  # the demo publishes its plan
    links = out["links"]
    assert links["published"]["published"] > 0 and len(links["task_links"]) == 2
    assert all("/t/" in t["url"] for t in links["task_links"]) and "/m/" in links["member_link"]["url"]


def test_demo_text_output_is_chinese_by_default(tmp_path, monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # a locale naming no language: the demo speaks Chinese
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(cli, ["demo", "--database-url", url, "--week", "2026-W50", "--seed", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "朝阳区演示数据库已就绪" in out and "2026-W50（2026-12-07 至 2026-12-13）" in out
    assert "委员 410" in out and "需求 250" in out
    assert "liaison_station" in out and "民情联络站" in out
    assert "今年尚未参加社区活动的委员：164 / 410" in out
    assert "管理员 API 密钥" in out and "mk_" in out
    assert out.count("http://127.0.0.1:8000/t/") == 2 and "个人链接示例" in out
    assert "演示周已优化" in out and "定点包片" in out


@pytest.mark.parametrize("week", ["2026-49", "W49", "2026-W54"])
def test_bad_week_is_a_usage_error(week, tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--week", week])
    assert result.exit_code == 2
    assert "--week" in result.output
    assert not (tmp_path / "x.db").exists()


def test_postgresql_needs_reset():
    result = CliRunner().invoke(cli, ["demo", "--database-url", "postgresql+psycopg://u:pw@127.0.0.1:1/x"])
    assert result.exit_code == 2
    assert "--reset" in result.output and "pw@" not in result.output


def test_week_helpers():
    assert parse_week("2026-W49") == date(2026, 11, 30)
    assert parse_week("2027W01") == date(2027, 1, 4)
    assert next_monday(date(2026, 11, 25)) == date(2026, 11, 30)  # Wednesday -> coming Monday
    assert next_monday(date(2026, 11, 30)) == date(2026, 12, 7)  # a Monday -> the week after
    assert next_monday(date(2026, 12, 6)) == date(2026, 12, 7)  # Sunday -> tomorrow


def test_postgresql_with_reset_loads_the_demo(pg_db):
    result = CliRunner().invoke(cli, ["demo", "--database-url", pg_db.url, "--reset", "--json", "--week", "2026-W49"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["counts"]["members"] == 410 and out["counts"]["demands"] == 250
    engine = create_engine(pg_db.url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM members")) == 410
    engine.dispose()
