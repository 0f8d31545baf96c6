"""The container entry script, run for real (there is no Docker engine here): it migrates the
database, then picks the command. ``MATCHER_ENTRYPOINT_DRY_RUN=1`` prints that command instead
of exec'ing it. Plus a few static checks of the Dockerfile that a reader would otherwise make."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app import migrate

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docker" / "entrypoint.sh"


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_") and k not in ("PORT",)}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    base.update({"MATCHER_DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}", "MATCHER_ENTRYPOINT_DRY_RUN": "1"})
    base.update(env)
    return subprocess.run([str(SCRIPT), *args], env=base, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def at_head(tmp_path: Path) -> bool:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    engine = create_engine(url)
    try:
        return migrate.current_revision(engine) == migrate.head_revision(url)
    finally:
        engine.dispose()


def test_script_is_executable_posix_sh():
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")
    sh = shutil.which("dash") or shutil.which("sh")
    assert subprocess.run([sh, "-n", str(SCRIPT)]).returncode == 0


def test_default_migrates_then_serves(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "matcher serve --host 0.0.0.0 --port 8000"
    assert at_head(tmp_path)


def test_worker_migrates_then_works(tmp_path):
    proc = run(tmp_path, "worker", "--concurrency", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "matcher worker --concurrency 2"
    assert at_head(tmp_path)


@pytest.mark.parametrize(
    ("env", "port"), [({}, "8000"), ({"PORT": "9123"}, "9123"), ({"PORT": "9123", "MATCHER_PORT": "7001"}, "7001")]
)
def test_port_and_extra_serve_arguments(tmp_path, env, port):
    proc = run(tmp_path, "serve", "--workers", "3", MATCHER_SKIP_MIGRATIONS="1", **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"matcher serve --host 0.0.0.0 --port {port} --workers 3"
    assert not (tmp_path / "e.db").exists()  # migrations skipped on request


def test_other_commands_run_as_given_without_migrating(tmp_path):
    proc = run(tmp_path, "matcher", "demo", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "matcher demo --json"
    assert not (tmp_path / "e.db").exists()


def test_really_execs_the_command(tmp_path):
    proc = run(tmp_path, "sh", "-c", "echo started as $(id -u)", MATCHER_ENTRYPOINT_DRY_RUN="0")
    assert proc.returncode == 0 and proc.stdout.startswith("started as ")


def test_failed_migration_stops_before_the_service(tmp_path):
    proc = run(tmp_path, MATCHER_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert proc.returncode != 0
    assert "matcher serve" not in proc.stdout


def test_dockerfile_reads_right():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "fonts-noto-cjk" in text
    assert "EXPOSE 8000" in text
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert 'ENTRYPOINT ["matcher-entrypoint"]' in text and "COPY docker/entrypoint.sh" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "*.db"} <= set(ignored)
    for needed in ("app", "migrations", "pyproject.toml", "docker"):
        assert needed not in ignored
