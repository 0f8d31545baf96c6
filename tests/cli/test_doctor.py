"""`matcher doctor` on a real database: what is fine, what to fix, in Chinese and English."""

from __future__ import annotations

from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli


def test_doctor_reports_worker_and_schedule(db, settings):
    with db.session() as s:
        s.execute(
            text(
                "INSERT INTO districts (code, name, active, timezone, settings, created_at, updated_at) "
                "VALUES ('haidian', '海淀区', true, 'Asia/Shanghai', "
                '\'{"schedule": {"enabled": true, "weekday": 0, "time": "06:00"}}\', '
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        s.commit()
    r = CliRunner().invoke(cli, ["doctor"])
    assert "the schema is at the latest revision" in r.output and "数据库可以连接" in r.output
    assert "haidian: weekly optimisation Mon 06:00 (Asia/Shanghai)" in r.output
    if db.kind == "sqlite":
        assert r.exit_code == 0 and "all good" in r.output
        return
    assert r.exit_code == 1 and "start `matcher worker`" in r.output  # no worker has ever run
    with db.session() as s:
        s.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
        s.commit()
    r = CliRunner().invoke(cli, ["doctor"])
    assert r.exit_code == 0 and "a worker is alive" in r.output, r.output


def test_doctor_on_an_unmigrated_database(tmp_path, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(cli, ["doctor"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1 and "run `matcher db upgrade`" in r.output
