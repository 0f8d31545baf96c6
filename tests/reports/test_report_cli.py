"""`matcher report ...`: tables, CSV/XLSX files, and the charts as PNG.

Most calls go through Typer's runner in-process (the CLI's start-up costs ~2 s a call);
one test runs the installed `matcher` binary exactly as written in the docs.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from openpyxl import load_workbook
from typer.testing import CliRunner

from app.cli import cli

MATCHER = str(Path(sys.executable).parent / "matcher")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_binary(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MATCHER_DATABASE_URL": url, "MATCHER_DISTRICT_CODE": "chaoyang"}
    return subprocess.run([MATCHER, "report", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def run(settings):
    """In-process `matcher report ...` against the test database (``settings`` sets the URL)."""
    runner = CliRunner()

    def _run(args: list[str], url: str | None = None):
        result = runner.invoke(cli, ["report", *args], catch_exceptions=False)
        result.returncode = result.exit_code
        return result

    return _run


def test_duty_and_needs_tables_and_files(db, rw, run, tmp_path):
    r = run(["duty", "--year", "2026"], db.url)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["委员编号", "姓名", "小组", "所在片区"]
    zm = next(line for line in lines if "赵敏" in line)
    assert zm.split()[-2:] == ["no", "suggestion;activity"]

    out_csv, out_xlsx = tmp_path / "duty.csv", tmp_path / "duty.xlsx"
    r = run(["duty", "--year", "2026", "--by", "group", "--csv", str(out_csv), "--xlsx", str(out_xlsx)], db.url)
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in csv.DictReader(out_csv.open(encoding="utf-8"))}
    assert rows["第一小组"]["members"] == "3" and rows["第一小组"]["missing_information_members"] == "李娜;王强"
    ws = load_workbook(out_xlsx).active
    header, *values = list(ws.iter_rows(values_only=True))
    assert header[:4] == ("编号", "小组", "委员数", "已完成人数")
    assert {v[1]: v[3] for v in values} == {"第一小组": 1, "第二小组": 0}

    r = run(["needs", "--from", "2026-11-01", "--to", "2026-11-30"], db.url)
    assert r.returncode == 0, r.stderr
    total = next(line for line in r.stdout.splitlines() if line.startswith("*"))
    assert total.split()[1:5] == ["合计", "5", "2", "3"]
    out_xlsx = tmp_path / "needs.xlsx"
    r = run(["needs", "--from", "2026-11-01", "--to", "2026-11-30", "--xlsx", str(out_xlsx)], db.url)
    assert r.returncode == 0 and r.stdout == ""
    values = list(load_workbook(out_xlsx).active.iter_rows(values_only=True))
    assert {v[0]: v[2] for v in values[1:]} == {"CW": 2, "JW": 2, "LGY": 1, "*": 5}

    r = run(["needs", "--from", "someday"], db.url)
    assert r.returncode == 2 and "--from" in r.stderr
    r = run(["duty", "--by", "street"], db.url)
    assert r.returncode == 2 and "by" in r.stderr


def assert_png_not_blank(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC
    img = mpimg.imread(path)
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert np.any(rgb < 200, axis=1).mean() > 0.01, f"{path.name} is (nearly) blank"
    assert len(np.unique(rgb, axis=0)) > 10, f"{path.name} has too few colours"


def test_png_export(db, rw, run, tmp_path):
    out = tmp_path / "charts"
    run_id = rw.runs["run2"]
    r = run(["--png", str(out), "--year", "2026", "--run", str(run_id)], db.url)
    assert r.returncode == 0, r.stderr
    expected = {"duty-2026-groups.png", *(f"run-{run_id}-{n}.png" for n in ("baselines", "flows", "loads", "coverage"))}
    assert {p.name for p in out.iterdir()} == expected
    assert sorted(Path(line).name for line in r.stdout.split()) == sorted(expected)
    for path in out.iterdir():
        assert_png_not_blank(path)

    # without --run: the latest run with figures; a missing run is a clean error
    out2 = tmp_path / "latest"
    r = run(["--png", str(out2), "--year", "2026"], db.url)
    assert r.returncode == 0 and (out2 / f"run-{run_id}-flows.png").exists(), r.stderr
    r = run(["--png", str(tmp_path / "x"), "--run", "999999"], db.url)
    assert r.returncode == 2 and "999999" in r.stderr


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_installed_binary_png_export_as_documented(db, rw, tmp_path):
    """`matcher report --png DIR --year 2026 --run ID`, the real entry point, no font-warning spam."""
    out = tmp_path / "png"
    r = run_binary(["--png", str(out), "--year", "2026", "--run", str(rw.runs["run2"])], db.url)
    assert r.returncode == 0, r.stderr
    assert len(list(out.glob("*.png"))) == 5
    assert_png_not_blank(out / f"run-{rw.runs['run2']}-flows.png")
    assert "Glyph" not in r.stderr and "findfont" not in r.stderr and "Warning" not in r.stderr
    r = run_binary([], db.url)
    assert r.returncode == 0 and "--png" in r.stdout and "duty" in r.stdout
