"""The solve phase of `python -m bench api`: read latency and API memory while a city-size solve runs.

Before the server starts, ``add_city_instance`` imports ``--solve-members`` members (the member
import service, as `matcher import members` does) and copies the demo week's demands up to
``--solve-demands`` (10,000 x 2,000 by default: the issue's city-size solve). The phase then
runs the open-loop mix at ``--solve-rate`` for ``--duration`` s without a solve, starts a run
(POST /v1/optimization-runs), runs the same load while it solves, waits for the run to end and
reports per read endpoint p99 without/with the solve (target: within 1.25x), the API process's
own RSS before and after (target: back within 50 MB), and which process solved the run
(SQLite: a child of the API, never the API process; PostgreSQL: a `matcher worker` started here).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from datetime import timedelta
from typing import Any

import httpx

from bench import live

READ_PREFIX = "GET "


def add_city_instance(url: str, members: int, demands: int, seed: int = 7) -> dict[str, Any]:
    """Members through the import service, demands as copies of the demo week's (skills kept)."""
    from sqlalchemy import select

    from app.cli.importer import operator
    from app.db import session_scope
    from app.models import Demand
    from app.services.imports import import_members
    from bench.import_bench import _catalogue, members_csv

    started = time.perf_counter()
    district_id, areas, groups, skills = _catalogue(url)
    with session_scope(url) as session:
        import_members(session, operator(district_id), members_csv(members, areas, groups, skills, seed=seed))
    rng = random.Random(seed)
    with session_scope(url) as session:
        week_start = live.next_monday()
        models = list(session.scalars(select(Demand).where(Demand.district_id == district_id)))
        in_week = [d for d in models if d.starts_at.date() >= week_start] or models
        for i in range(max(0, demands - len(models))):
            model = rng.choice(in_week)
            shift = timedelta(hours=rng.randint(-3, 3))
            session.add(
                Demand(
                    district_id=district_id,
                    external_id=f"BENCH-D{i:05d}",
                    community_id=model.community_id,
                    area_id=model.area_id,
                    title=f"{model.title} #{i}",
                    channel=model.channel,
                    priority=rng.randint(1, 5),
                    min_members=model.min_members,
                    max_members=model.max_members,
                    starts_at=model.starts_at + shift,
                    ends_at=model.ends_at + shift,
                    required_skills=list(model.required_skills),
                )
            )
    return {
        "members_added": members,
        "demands_total": max(demands, len(models)),
        "s": round(time.perf_counter() - started, 1),
    }


def _read_p99(result: dict[str, Any]) -> dict[str, float]:
    return {label: e["p99"] for label, e in result["endpoints"].items() if label.startswith(READ_PREFIX)}


def _api_rss(server: live.Server) -> float:
    return live.rss_mb([server.proc.pid])  # the API process alone (not its solve children)


def _worker(url: str, db: str) -> subprocess.Popen | None:
    if db != "postgresql":
        return None
    env = {**os.environ, "MATCHER_DATABASE_URL": url}
    return subprocess.Popen(
        [*live._matcher_command(), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def _run_status(client: httpx.AsyncClient, run_id: int, key: str) -> dict[str, Any]:
    r = await client.get(f"/v1/optimization-runs/{run_id}", headers={"Authorization": f"Bearer {key}"})
    return r.json()


async def solve_phase(server: live.Server, url: str, db: str, fixture: Any, args: Any) -> dict[str, Any]:
    from bench.api_load import open_loop

    admin = args.solve_admin_key  # made before the server started: a busy server's writers starve other processes
    week = live.next_monday().isocalendar()
    out: dict[str, Any] = {"rate": args.solve_rate, "duration_s": args.duration, "api_pid": server.proc.pid}
    out["api_rss_mb_before"] = _api_rss(server)
    quiet = await open_loop(server.base_url, fixture, args.solve_rate, args.duration)
    worker = _worker(url, db)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as client:
            body = {"week": f"{week.year}-W{week.week:02d}", "time_limit_s": args.duration * 2 + 30}
            r = await client.post("/v1/optimization-runs", json=body, headers={"Authorization": f"Bearer {admin}"})
            assert r.status_code == 202, r.text
            run_id = r.json()["id"]
            started = time.perf_counter()
            while (await _run_status(client, run_id, admin))[
                "status"
            ] == "queued" and time.perf_counter() - started < 120:
                await asyncio.sleep(0.5)
            out["api_rss_mb_solving"] = _api_rss(server)
            busy = await open_loop(server.base_url, fixture, args.solve_rate, args.duration)
            run = await _run_status(client, run_id, admin)
            while run["status"] in ("queued", "running"):
                await asyncio.sleep(1)
                run = await _run_status(client, run_id, admin)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    await asyncio.sleep(2)
    out["api_rss_mb_after"] = _api_rss(server)
    stats = run.get("stats") or {}
    out.update(
        {
            "run": {"id": run_id, "status": run["status"], "wall_s": round(time.perf_counter() - started, 1)},
            "solved_by_pid": stats.get("executor_pid"),
            "counts": run.get("counts"),
            "p99_without": _read_p99(quiet),
            "p99_with": _read_p99(busy),
            "errors": {"without": quiet["errors"], "with": busy["errors"]},
            "loadavg_after": live.machine_facts()["loadavg"],
        }
    )
    out["p99_ratio"] = {
        k: round(v / out["p99_without"][k], 2) for k, v in out["p99_with"].items() if out["p99_without"].get(k)
    }
    return out


def render(solve: dict[str, Any]) -> list[str]:
    run = solve["run"]
    lines = [
        f"-- solve: run {run['id']} {run['status']} in {run['wall_s']} s, counts {solve['counts']}; "
        f"solved by pid {solve['solved_by_pid']} (API pid {solve['api_pid']}); open loop {solve['rate']}/s "
        f"x {solve['duration_s']} s, errors {solve['errors']}",
        f"   API RSS {solve['api_rss_mb_before']} MB before, {solve['api_rss_mb_solving']} solving, "
        f"{solve['api_rss_mb_after']} after; load after {solve['loadavg_after']}",
        f"   {'read endpoint':34} {'p99 without':>12} {'p99 with':>10} {'ratio':>6}",
    ]
    for label, p99 in solve["p99_without"].items():
        with_p99 = solve["p99_with"].get(label)
        lines.append(f"   {label:34} {p99:>12} {with_p99:>10} {solve['p99_ratio'].get(label, '')!s:>6}")
    return lines
