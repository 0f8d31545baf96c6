"""`python -m bench feed`: a reader following `/v1/changes?limit=1000` through a 100,000-event log.

The log is the demo district's own events plus synthetic assignment/demand events (realistic
``state`` documents) inserted in bulk; a real `matcher serve` answers and one integrator reads the
whole log page by page, as fast as it can, keeping the cursor. Figures: events, pages, seconds,
events/s, per-page p50/p99 (ms), server CPU and RSS, load average.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import live
from bench.api_load import percentile


def fill_log(url: str, events: int) -> int:
    """Top the change log up to ``events`` rows for the demo district; returns the row count."""
    from sqlalchemy import func, insert, select

    from app.db import session_scope
    from app.models import ChangeEvent, District
    from app.settings import get_settings

    with session_scope(url) as session:
        district_id = session.scalar(select(District.id).where(District.code == get_settings().district_code))
        have = session.scalar(select(func.count()).select_from(ChangeEvent)) or 0
        now = datetime.now(UTC)
        batch: list[dict[str, Any]] = []
        for i in range(have, events):
            state = {
                "id": i,
                "district_id": district_id,
                "run_id": 1,
                "demand_id": 1 + i % 250,
                "member_id": 1 + i % 410,
                "area_id": 1 + i % 43,
                "status": "published",
                "score": 12.5,
                "explanation_text": "持有 法律咨询; 跨片 3.2 km; 本年度首次活动",
                "updated_at": now.isoformat(),
                "version": 1,
            }
            batch.append(
                {
                    "district_id": district_id,
                    "entity_type": "assignment",
                    "entity_id": i,
                    "change_kind": "updated",
                    "area_id": 1 + i % 43,
                    "state": state,
                    "created_at": now,
                }
            )
            if len(batch) == 5000:
                session.execute(insert(ChangeEvent), batch)
                batch = []
        if batch:
            session.execute(insert(ChangeEvent), batch)
    live.analyze(url, table="change_events")  # as autovacuum does after a bulk of inserts
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(ChangeEvent)) or 0)


def follow(base_url: str, key: str, limit: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    page_ms: list[float] = []
    events = 0
    after = "0"
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
        while True:
            t0 = time.perf_counter()
            r = client.get("/v1/changes", params={"after": after, "limit": limit})
            r.raise_for_status()
            body = r.json()
            page_ms.append((time.perf_counter() - t0) * 1000)
            if not body["items"]:
                break
            events += len(body["items"])
            after = body["next_cursor"]
    seconds = time.perf_counter() - started
    page_ms.sort()
    return {
        "events": events,
        "pages": len(page_ms),
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "page_p50_ms": round(percentile(page_ms, 0.5), 1),
        "page_p99_ms": round(percentile(page_ms, 0.99), 1),
    }


def run_one(db: str, events: int, limit: int) -> dict[str, Any]:
    with live.database(db) as url:
        live.load_demo_with_plan(url)
        logged = fill_log(url, events)
        key = live.create_key(url, "reader")
        with live.serve(url) as server:
            before = server.figures()
            load_before = live.machine_facts()["loadavg"]
            result = follow(server.base_url, key, limit)
            after = server.figures()
    result.update(
        {
            "db": db,
            "log_rows": logged,
            "limit": limit,
            "server_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2),
            "server_rss_mb": after["rss_mb"],
            "loadavg_before": load_before,
            "loadavg_after": live.machine_facts()["loadavg"],
        }
    )
    return result


def add_arguments(ap) -> None:  # noqa: ANN001 - argparse parser
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--json", action="store_true")


def main(args) -> int:  # noqa: ANN001 - argparse namespace
    machine = live.machine_facts()
    if not args.json:
        print(f"machine: {machine}")
    for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        result = run_one(db, args.events, args.limit)
        result["machine"] = machine
        print(json.dumps(result, ensure_ascii=False) if args.json else f"== {result}", flush=True)
    return 0
