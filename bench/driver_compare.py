"""`python -m bench drivers`: sync drivers in a threadpool against async drivers, same queries.

Issue 11 asks whether async endpoints with an async driver, or sync endpoints with a right-sized
threadpool and connection pool, are faster here. This measures the database part of a request
both ways, on the demo data, in one process:

- PostgreSQL: psycopg (sync, what the service runs) against asyncpg (SQLAlchemy asyncio);
- SQLite: sqlite3 (sync) against aiosqlite (SQLAlchemy asyncio).

One operation = check a connection out of the pool, run the query, fetch every row, commit (as
the API's unit of work ends every request), give the connection back: a read-only request's
database work. ``--end rollback`` leaves the transaction to the pool's reset instead, which costs
psycopg dearly: its ``rollback()`` forgets every statement it prepared on that connection
(psycopg/_connection_base.py), so each query is parsed and planned again on the server. Two queries, both the API's own
statements: ``one`` is the single assignment document by primary key (GET /v1/assignments/{id}),
``page`` a keyset page of 100 assignment documents (GET /v1/assignments?limit=100, five tables
joined). Concurrency 1 and 50 (operations in flight on one asyncio loop), pool sizes 4 and 40
(no overflow). Sync operations run as FastAPI runs a sync endpoint: handed to a thread pool,
here one thread per pooled connection (the right-sized pool); async ones run on the loop.

Per case: wall per operation (elapsed / operations, so at c=50 it is the inverse throughput),
process CPU per operation (every thread of this process), and on PostgreSQL the server's CPU per
operation (the CPU time of its client backends, from /proc), with the load average beside each line.
Loopback only; every case is bounded by ``--duration`` seconds.

``--checkout`` measures the pool instead: checkout + ``SELECT 1`` + commit through the service's
engine against one that pings on every checkout (``pool_pre_ping``), interleaved by round.

The async drivers are in the optional ``bench`` extra (``make bench-deps`` or
``.venv/bin/pip install -e '.[bench]'``); without them this says so and exits 2.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench import live

ASYNC_DRIVERS = ("asyncpg", "aiosqlite", "greenlet")
INSTALL_HINT = "make bench-deps  (or: .venv/bin/pip install -e '.[bench]')"
PAGE = 100


def missing_async_drivers() -> list[str]:
    missing = []
    for name in ASYNC_DRIVERS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


@dataclass(frozen=True)
class Case:
    db: str  # sqlite | postgresql
    driver: str  # psycopg | asyncpg | sqlite3 | aiosqlite
    query: str  # one | page
    concurrency: int
    pool: int

    @property
    def is_async(self) -> bool:
        return self.driver in ("asyncpg", "aiosqlite")


def _statements() -> dict[str, Any]:
    """The API's statements: one assignment document by id, and a keyset page of them after a
    cursor (as ``pagination._keyset`` builds it: id > after, ordered by id, one row more)."""
    from sqlalchemy import bindparam

    from app.models import Assignment
    from app.services.assignment_documents import _DOCUMENT_ROWS, _ONE_ASSIGNMENT

    page = _DOCUMENT_ROWS.where(Assignment.id > bindparam("after")).order_by(Assignment.id).limit(PAGE + 1)
    return {"one": _ONE_ASSIGNMENT, "page": page}


def _urls(db: str, url: str) -> dict[str, str]:
    if db == "postgresql":
        return {"psycopg": url, "asyncpg": url.replace("postgresql+psycopg://", "postgresql+asyncpg://")}
    return {"sqlite3": url, "aiosqlite": url.replace("sqlite:///", "sqlite+aiosqlite:///")}


def _params_maker(query: str, ids: list[int]) -> Callable[[random.Random], dict[str, Any]]:
    if query == "one":
        return lambda rng: {"assignment_id": rng.choice(ids)}
    starts = [0, *ids[: max(1, len(ids) - PAGE)]]
    return lambda rng: {"after": rng.choice(starts)}


async def _run_case(
    case: Case, url: str, stmts: dict[str, Any], ids: list[int], duration_s: float, end: str = "commit"
) -> dict[str, Any]:
    from sqlalchemy import create_engine

    end_commit = end == "commit"

    rng = random.Random(11)
    params = _params_maker(case.query, ids)
    stmt = stmts[case.query]
    ops = 0
    executor: ThreadPoolExecutor | None = None
    if case.is_async:
        from sqlalchemy.ext.asyncio import create_async_engine

        aengine = create_async_engine(url, pool_size=case.pool, max_overflow=0)

        async def op() -> None:
            async with aengine.connect() as conn:
                result = await conn.execute(stmt, params(rng))
                result.fetchall()
                if end_commit:
                    await conn.commit()

        async def dispose() -> None:
            await aengine.dispose()
    else:
        engine = create_engine(url, pool_size=case.pool, max_overflow=0)
        executor = ThreadPoolExecutor(max_workers=case.pool, thread_name_prefix="sync-endpoint")
        loop = asyncio.get_running_loop()

        def sync_op() -> None:
            with engine.connect() as conn:
                conn.execute(stmt, params(rng)).fetchall()
                if end_commit:
                    conn.commit()

        async def op() -> None:
            await loop.run_in_executor(executor, sync_op)

        async def dispose() -> None:
            engine.dispose()

    async def worker(stop_at: float) -> int:
        n = 0
        while time.perf_counter() < stop_at:
            await op()
            n += 1
        return n

    try:
        # Warm up: fill the pool (every backend started) and the statement caches.
        await asyncio.gather(*(worker(time.perf_counter() + min(0.5, duration_s / 4)) for _ in range(case.concurrency)))
        pg_before = live.postgres_cpu_seconds(_psycopg_url(url), clients_only=True)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        stop_at = wall0 + duration_s
        ops = sum(await asyncio.gather(*(worker(stop_at) for _ in range(case.concurrency))))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        pg_after = live.postgres_cpu_seconds(_psycopg_url(url), clients_only=True)
    finally:
        await dispose()
        if executor is not None:
            executor.shutdown()
    row: dict[str, Any] = {**case.__dict__, "end": end, **_per_op(ops, wall, cpu, pg_before, pg_after)}
    if "pg_cpu_us_per_op" in row:
        row["total_cpu_us_per_op"] = round(row["cpu_us_per_op"] + row["pg_cpu_us_per_op"], 1)
    return row


def _per_op(ops: int, wall: float, cpu: float, pg_before: float | None, pg_after: float | None) -> dict[str, Any]:
    """One measured stretch as figures per operation (PostgreSQL's CPU when both readings exist)."""
    figures: dict[str, Any] = {
        "ops": ops,
        "wall_us_per_op": round(1e6 * wall / ops, 1),
        "cpu_us_per_op": round(1e6 * cpu / ops, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    if pg_before is not None and pg_after is not None:
        figures["pg_cpu_us_per_op"] = round(1e6 * (pg_after - pg_before) / ops, 1)
    return figures


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql+psycopg://")


def _assignment_ids(url: str) -> list[int]:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Assignment

    with session_scope(url) as session:
        return list(session.scalars(select(Assignment.id).order_by(Assignment.id)))


def _settle(url: str) -> None:
    """After the bulk load: PostgreSQL vacuumed, analyzed and checkpointed, so neither autovacuum
    nor a checkpoint runs into the first cases."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("sqlalchemy", "psycopg", "asyncpg", "aiosqlite", "greenlet"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out


def _render(row: dict[str, Any]) -> str:
    pg = f"{row['pg_cpu_us_per_op']:>9.0f} {row['total_cpu_us_per_op']:>9.0f}" if "pg_cpu_us_per_op" in row else ""
    return (
        f"{row['db']:10} {row['driver']:9} {row['query']:5} {row['concurrency']:>3} {row['pool']:>4} {row['ops']:>7} "
        f"{row['wall_us_per_op']:>9.0f} {row['cpu_us_per_op']:>9.0f} {pg:19}  {row['loadavg'][0]:.2f}"
    )


def checkout_ab(url: str, *, ops: int, rounds: int) -> list[dict[str, Any]]:
    """Checkout + ``SELECT 1`` + commit + check-in, one at a time, through the service's engine
    (``app.db.get_engine``: a ping only for a connection idle over 5 s or with data waiting)
    and through one like it that pings on every checkout (``pool_pre_ping``, what it had
    before), interleaved round by round so both meet the same load."""
    from sqlalchemy import create_engine, text

    from app.db import _pool_size, get_engine

    engines = {
        "pre_ping": create_engine(url, pool_pre_ping=True, **_pool_size(max_overflow=20)),
        "app": get_engine(url),
    }
    select_one = text("SELECT 1")

    def loop(engine: Any, n: int) -> None:
        for _ in range(n):
            with engine.connect() as conn:
                conn.execute(select_one)
                conn.commit()

    rows = []
    try:
        for engine in engines.values():
            loop(engine, min(300, ops))
        for n in range(rounds):
            for name, engine in engines.items():
                pg0 = live.postgres_cpu_seconds(url, clients_only=True)
                cpu0, wall0 = time.process_time(), time.perf_counter()
                loop(engine, ops)
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                pg1 = live.postgres_cpu_seconds(url, clients_only=True)
                rows.append({"checkout": name, "round": n, **_per_op(ops, wall, cpu, pg0, pg1)})
    finally:
        for engine in engines.values():
            engine.dispose()
    return rows


def _checkout_main(args) -> int:  # noqa: ANN001 - argparse namespace
    print(f"machine: {live.machine_facts()}", flush=True)
    with live.database("postgresql") as url:
        rows = checkout_ab(url, ops=args.checkout_ops, rounds=max(args.rounds, 1))
    for row in rows:
        print(
            json.dumps(row)
            if args.json
            else f"round {row['round']} {row['checkout']:8}: wall {row['wall_us_per_op']:.0f} us/op, "
            f"cpu {row['cpu_us_per_op']:.0f} us/op, postgres cpu {row.get('pg_cpu_us_per_op', 0):.0f} us/op, "
            f"load {row['loadavg'][0]:.2f}"
        )
    if not args.json:
        for name in ("pre_ping", "app"):
            walls = sorted(r["wall_us_per_op"] for r in rows if r["checkout"] == name)
            cpus = sorted(r["cpu_us_per_op"] for r in rows if r["checkout"] == name)
            pgs = sorted(r.get("pg_cpu_us_per_op", 0) for r in rows if r["checkout"] == name)
            print(
                f"{name:8}: wall median {walls[len(walls) // 2]:.0f} us/op ({walls[0]:.0f}-{walls[-1]:.0f}), "
                f"cpu median {cpus[len(cpus) // 2]:.0f} us/op, postgres cpu median {pgs[len(pgs) // 2]:.0f} us/op"
            )
    return 0


def add_arguments(ap) -> None:  # noqa: ANN001 - argparse parser
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--queries", default="one,page", help="one (row by primary key), page (100 rows)")
    ap.add_argument("--concurrency", default="1,50", help="operations in flight")
    ap.add_argument("--pools", default="4,40", help="connection pool sizes (sync: as many threads)")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per case (plus a short warm-up)")
    ap.add_argument("--rounds", type=int, default=1, help="run every case this many times, interleaved")
    ap.add_argument(
        "--end",
        choices=("commit", "rollback"),
        default="commit",
        help="end each operation's transaction as the API does (commit) or leave it to the pool's rollback",
    )
    ap.add_argument(
        "--checkout",
        action="store_true",
        help="instead: PostgreSQL checkout + SELECT 1 + commit, the service's engine against pool_pre_ping",
    )
    ap.add_argument("--checkout-ops", type=int, default=2000, help="--checkout: operations per round")
    ap.add_argument("--json", action="store_true", help="one JSON object per case")


def main(args) -> int:  # noqa: ANN001 - argparse namespace
    if args.checkout:  # sync psycopg only: no async driver needed
        return _checkout_main(args)
    missing = missing_async_drivers()
    if missing:
        print(f"python -m bench drivers needs the async drivers of the 'bench' extra; missing: {', '.join(missing)}")
        print(f"install them with: {INSTALL_HINT}")
        return 2
    machine = {**live.machine_facts(), "versions": _versions()}
    print(json.dumps({"machine": machine}) if args.json else f"machine: {machine}", flush=True)
    if not args.json:
        print(
            f"{'db':10} {'driver':9} {'query':5} {'c':>3} {'pool':>4} {'ops':>7} {'wall_us':>9} {'cpu_us':>9} "
            f"{'pg_cpu_us':>9} {'total_us':>9}  load1  (per operation; total = this process + PostgreSQL)"
        )
    dbs = ("postgresql", "sqlite") if args.db == "both" else (args.db,)
    queries = [q for q in args.queries.split(",") if q]
    concurrency = [int(c) for c in args.concurrency.split(",") if c]
    pools = [int(p) for p in args.pools.split(",") if p]
    stmts = _statements()
    for db in dbs:
        with live.database(db) as url:
            live.load_demo_with_plan(url)
            _settle(url)
            ids = _assignment_ids(url)
            from app.db import get_engine

            get_engine(url).dispose()
            urls = _urls(db, url)
            for _ in range(args.rounds):
                for query in queries:
                    for c in concurrency:
                        for pool in pools:
                            for driver, driver_url in urls.items():
                                case = Case(db, driver, query, c, pool)
                                row = asyncio.run(_run_case(case, driver_url, stmts, ids, args.duration, args.end))
                                print(json.dumps(row) if args.json else _render(row), flush=True)
    return 0
