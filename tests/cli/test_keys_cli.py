"""`matcher db upgrade` and `matcher keys create`, run as the ops scripts run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.db import get_sessionmaker
from app.errors import Problem
from app.models import Area
from app.services.api_keys import authenticate
from app.services.districts import ensure_district
from tests.support import run_matcher as run

MATCHER = str(Path(sys.executable).parent / "matcher")


def binary(args: list[str], url: str) -> subprocess.CompletedProcess:
    """The installed binary, as the ops scripts run it (the first test); the others run in process."""
    env = {**os.environ, "MATCHER_DATABASE_URL": url}
    return subprocess.run([MATCHER, *args], env=env, capture_output=True, text=True, timeout=120)


def test_upgrade_then_create_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    r = binary(["db", "upgrade"], url)
    assert r.returncode == 0, r.stderr
    with get_sessionmaker(url)() as s:
        d = ensure_district(s, code="chaoyang", name="朝阳区")
        s.add(Area(district_id=d.id, code="JW", name="建外街道", kind="street"))
        s.commit()
    r = binary(["keys", "create", "--role", "admin", "--name", "ops"], url)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert key.startswith("mk_") and "\n" not in key
    with get_sessionmaker(url)() as s:
        caller = authenticate(s, raw=key)
        assert caller.role == "admin"
    r = run(["keys", "create", "--role", "liaison", "--area", "JW"], url)
    assert r.returncode == 0 and r.stdout.strip().startswith("mk_")
    r = run(["keys", "create", "--role", "liaison"], url)
    assert r.returncode == 2 and "area" in r.stderr and r.stdout == ""
    r = run(["keys", "create", "--role", "root"], url)
    assert r.returncode == 2 and "role" in r.stderr


def test_list_revoke_rotate(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(["db", "upgrade"], url).returncode == 0
    with get_sessionmaker(url)() as s:
        ensure_district(s, code="chaoyang", name="朝阳区")
        s.commit()
    first = run(["keys", "create", "--role", "admin", "--name", "ops"], url).stdout.strip()
    r = run(["keys", "list"], url)
    assert r.returncode == 0, r.stderr
    (line,) = r.stdout.splitlines()
    key_id, status, role, district, prefix, name = line.split("\t")[:6]
    assert (status, role, district, name) == ("active", "admin", "chaoyang", "ops")
    assert first not in r.stdout and first.startswith(prefix.rstrip("…"))
    r = run(["keys", "rotate", key_id, "--grace-hours", "0"], url)
    assert r.returncode == 0, r.stderr
    second = r.stdout.strip()
    with get_sessionmaker(url)() as s:
        assert authenticate(s, raw=second).role == "admin"
        try:
            authenticate(s, raw=first)
            raise AssertionError("the rotated key with no grace must be refused")
        except Problem as exc:
            assert exc.status == 401
    new_id = run(["keys", "list"], url).stdout.splitlines()[1].split("\t")[0]
    assert run(["keys", "revoke", new_id], url).stdout.strip() == f"{new_id}\trevoked"
    assert run(["keys", "revoke", "999"], url).returncode == 2


def test_districts_create_with_areas_csv_prints_an_admin_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(["db", "upgrade"], url).returncode == 0
    csv_file = tmp_path / "haidian.csv"
    csv_file.write_text(
        "code,name_zh,kind,lat_approx,lon_approx\nHD1,海淀街道,street,39.98,116.31\nHD2,上庄镇,township,,\n",
        encoding="utf-8",
    )
    r = run(["districts", "create", "haidian", "--name", "海淀区", "--areas", str(csv_file)], url)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    with get_sessionmaker(url)() as s:
        caller = authenticate(s, raw=key)
        assert caller.role == "admin"
        assert sorted(s.scalars(select(Area.code).where(Area.district_id == caller.district_id))) == ["HD1", "HD2"]
    assert "haidian\t海淀区\tAsia/Shanghai\tactive" in run(["districts", "list"], url).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_zh,kind\nX,某地,village\n", encoding="utf-8")
    r = run(["districts", "create", "other", "--name", "某区", "--areas", str(bad)], url)
    assert r.returncode == 2 and "kind" in r.stderr


def test_schedule_set_and_show(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(["db", "upgrade"], url).returncode == 0
    assert run(["districts", "create", "haidian", "--name", "海淀区"], url).returncode == 0
    r = run(["schedule", "set", "--district", "haidian", "--enabled", "--time", "06:30"], url)
    assert r.returncode == 0, r.stderr
    r = run(["schedule", "show", "--district", "haidian"], url)
    assert '"enabled": true' in r.stdout and '"06:30"' in r.stdout and "Asia/Shanghai" in r.stdout
    r = run(["schedule", "set", "--district", "haidian", "--time", "6pm"], url)
    assert r.returncode == 2 and "schedule.time" in r.stderr
    r = run(["audit", "--since", "1h"], url)
    assert r.returncode == 0 and '"actor": {"kind": "cli"' in r.stdout and '"entity": "districts"' in r.stdout


def test_unmigrated_database_says_run_db_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    r = run(["keys", "list"], url)
    assert r.returncode == 3 and "matcher db upgrade" in r.stderr and "Traceback" not in r.stderr
