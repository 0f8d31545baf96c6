"""`python -m bench import`: a 10,000-member spreadsheet imported in one transaction.

Times ``app.services.imports.import_members`` (what `POST /v1/members:import` and `matcher import
members` both call) on the demo district: a first import that creates every member, then the same
file again (every row found unchanged), then a file that changes every member (every row an
update), then a file whose rows change every member but 10 of which are bad: it must be
rejected whole with its per-row report (the member count is checked unchanged). CSV bytes are
generated, never committed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from typing import Any

from bench import live

HEADER = ["编号", "姓名", "界别", "小组", "居住片区", "工作片区", "电话", "每周上限", "接受跨片", "最远距离km", "技能"]


def members_csv(n: int, areas: list[str], groups: list[str], skills: list[str], seed: int, bad_every: int = 0) -> bytes:
    rng = random.Random(seed)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(n):
        home = rng.choice(areas)
        row = [
            f"BENCH-{i:05d}",
            f"委员{i:05d}",
            "经济界",
            rng.choice(groups) if groups else "",
            home,
            rng.choice(areas),
            f"139{i:08d}",
            rng.randint(1, 3),
            rng.choice(("是", "否")),
            rng.choice((5, 8, 12)),
            ";".join(rng.sample(skills, k=min(2, len(skills)))),
        ]
        if bad_every and i % bad_every == 0:
            row[4] = "NO-SUCH-AREA"
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def _catalogue(url: str) -> tuple[int, list[str], list[str], list[str]]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Area, District, Group, Skill
    from app.settings import get_settings

    with session_scope(url) as session:
        district_id = session.scalar(select(District.id).where(District.code == get_settings().district_code))
        assert district_id is not None
        areas = list(session.scalars(select(Area.code).where(Area.district_id == district_id)))
        groups = list(session.scalars(select(Group.name).where(Group.district_id == district_id)))
        skills = list(session.scalars(select(Skill.name)))
    return district_id, areas, groups, skills


def _timed_import(url: str, district_id: int, data: bytes) -> dict[str, Any]:
    from sqlalchemy import func, select

    from app.cli.importer import operator
    from app.db import session_scope
    from app.errors import Problem
    from app.models import Member
    from app.services.imports import import_members

    started = time.perf_counter()
    outcome: dict[str, Any]
    try:
        with session_scope(url) as session:
            report = import_members(session, operator(district_id), data, filename="members.csv")
            outcome = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    except Problem as exc:
        outcome = {"rejected": exc.status, "row_errors": len(exc.errors or [])}
    seconds = time.perf_counter() - started
    with session_scope(url) as session:
        outcome["members_after"] = session.scalar(select(func.count()).select_from(Member))
    return {"seconds": round(seconds, 2), **outcome}


def run_one(db: str, rows: int) -> dict[str, Any]:
    with live.database(db) as url:
        live.load_demo_with_plan(url)
        district_id, areas, groups, skills = _catalogue(url)
        good = members_csv(rows, areas, groups, skills, seed=1)
        changed = members_csv(rows, areas, groups, skills, seed=3)
        bad = members_csv(rows, areas, groups, skills, seed=2, bad_every=1000)
        result = {"db": db, "rows": rows, "csv_bytes": len(good), "loadavg_before": live.machine_facts()["loadavg"]}
        result["create"] = _timed_import(url, district_id, good)
        result["update_same_file"] = _timed_import(url, district_id, good)
        result["change_every_row"] = _timed_import(url, district_id, changed)
        result["rejected_file"] = _timed_import(url, district_id, bad)
        result["loadavg_after"] = live.machine_facts()["loadavg"]
    return result


def add_arguments(ap) -> None:  # noqa: ANN001 - argparse parser
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--json", action="store_true")


def main(args) -> int:  # noqa: ANN001 - argparse namespace
    machine = live.machine_facts()
    if not args.json:
        print(f"machine: {machine}")
    for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        result = run_one(db, args.rows)
        result["machine"] = machine
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
            continue
        print(f"== {db}: {args.rows} members, {result['csv_bytes']} bytes of CSV")
        for phase in ("create", "update_same_file", "change_every_row", "rejected_file"):
            print(f"   {phase:18} {result[phase]}")
        print(f"   load {result['loadavg_before']} -> {result['loadavg_after']}", flush=True)
    return 0
