"""`python -m bench explain [--db sqlite|postgresql|both]`: the query plan of every list endpoint.

Loads the demo (and its optimized week) into a fresh database, calls each list endpoint with
each of its filters through the real application, catches the page query it sends (the one
with the keyset ``ORDER BY ... id`` and ``LIMIT``) and prints ``EXPLAIN QUERY PLAN`` (SQLite) or
``EXPLAIN`` (PostgreSQL) for it, with the same parameters. A plan that scans a table or sorts
the rows for a filtered page is what a missing index looks like.
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from typing import Any

from bench.live import create_key, database, load_demo_with_plan, next_monday

REQUESTS = (
    ("assignments", "/v1/assignments?limit=100"),
    ("assignments", "/v1/assignments?limit=100&status=proposed"),
    ("assignments", "/v1/assignments?limit=100&run_id=1"),
    ("assignments", "/v1/assignments?limit=100&area=JW"),
    ("assignments", "/v1/assignments?limit=100&member_id=5"),
    ("assignments", "/v1/assignments?limit=100&updated_since={since}"),
    ("demands", "/v1/demands?limit=100"),
    ("demands", "/v1/demands?limit=100&status=open"),
    ("demands", "/v1/demands?limit=100&area=JW"),
    ("demands", "/v1/demands?limit=100&starts_after={monday}&starts_before={sunday}"),
    ("change_events", "/v1/changes?limit=1000"),
    ("change_events", "/v1/changes?limit=1000&after={cursor}"),
    ("members", "/v1/members?limit=100"),
    ("members", "/v1/members?limit=100&area=JW"),
    ("members", "/v1/members?limit=100&group_id=3"),
)


def _page_query(statements: list[tuple[str, Any]], table: str) -> tuple[str, Any] | None:
    for statement, params in statements:
        flat = " ".join(statement.split())
        if f"FROM {table}" in flat and "LIMIT" in flat and "ORDER BY" in flat:
            return statement, params
    return None


def explain(url: str, kind: str) -> list[dict[str, Any]]:
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from app.api.main import create_app
    from app.db import get_engine
    from app.settings import get_settings

    load_demo_with_plan(url)
    key = create_key(url, "admin")
    with get_engine(url).begin() as conn:  # the planner's statistics, as a live database has them
        conn.exec_driver_sql("ANALYZE")
    os.environ.update(
        {"MATCHER_DATABASE_URL": url, "MATCHER_WEBHOOK_ENABLED": "false", "MATCHER_NOTIFY_ENABLED": "false"}
    )
    get_settings.cache_clear()
    settings = get_settings()
    engine = get_engine(url)
    seen: list[tuple[str, Any]] = []

    def catch(_conn, _cursor, statement, params, _context, _many):  # noqa: ANN001 - SQLAlchemy event
        seen.append((statement, params))

    monday = next_monday()
    fill = {
        "since": (monday - timedelta(days=30)).isoformat() + "T00:00:00Z",
        "monday": monday.isoformat() + "T00:00:00",
        "sunday": (monday + timedelta(days=7)).isoformat() + "T00:00:00",
        "cursor": "",
    }
    out = []
    with TestClient(create_app(settings)) as client:
        first = client.get("/v1/changes?limit=500", headers={"X-API-Key": key}).json()
        fill["cursor"] = first.get("next_cursor") or ""
        event.listen(engine, "before_cursor_execute", catch)
        try:
            for table, path in REQUESTS:
                seen.clear()
                r = client.get(path.format(**fill), headers={"X-API-Key": key})
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
                found = _page_query(seen, table)
                out.append({"db": kind, "path": path, "plan": _plan(engine, kind, found) if found else ["(not found)"]})
        finally:
            event.remove(engine, "before_cursor_execute", catch)
    return out


def _plan(engine: Any, kind: str, found: tuple[str, Any]) -> list[str]:
    statement, params = found
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if kind == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            return [str(row[3]) for row in cur.fetchall()]
        cur.execute("EXPLAIN " + statement, params)
        return [str(row[0]) for row in cur.fetchall()]
    finally:
        raw.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")


def main(args: argparse.Namespace) -> int:
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        with database(kind) as url:
            for item in explain(url, kind):
                print(f"== {item['db']} GET {item['path']}")
                for line in item["plan"]:
                    print("   ", line)
    return 0
