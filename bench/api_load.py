"""`python -m bench api`: the API under a realistic mix, against a real `matcher serve`.

The mix (issue 11): 60 % integrator list reads of 100 rows (/v1/assignments, /v1/demands,
/v1/changes), 25 % single GETs, 15 % liaison writes (POST and PATCH of demands). Four phases:

- sequential: one request at a time per endpoint (service time without queueing);
- closed loop: ``--clients`` clients, each sends its next request when the last one answered;
- open loop: requests start at ``--rate`` per second whatever the server does; latency is
  measured from the scheduled start, so a stalled server shows as latency (no coordinated
  omission). In-flight requests are capped, and every phase stops after ``--duration`` s;
- solve: read p99 and the API's own RSS without and while a city-size solve runs
  (bench/solve_load.py; the instance is added before the server starts).

Loopback only; bounded in time and count. Figures per endpoint: n, p50/p95/p99/max (ms),
status counts; totals: requests/s, errors (status >= 500 or transport failures); server CPU
seconds and RSS (the whole `matcher serve` process tree); on PostgreSQL the database server's
CPU seconds too (postmaster and children, from /proc, ``postgres`` in --json); machine facts with
load average.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httptools
import httpx

from bench import live
from bench.api_client import LeanClient

LIST_SHARE, SINGLE_SHARE = 0.60, 0.25  # the rest (15 %) are liaison writes
OPEN_LOOP_MAX_IN_FLIGHT = 500


#: The row of every GET pooled (its label sorts after the single endpoints' "GET /v1/...").
ALL_READS = "GET (all reads pooled)"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def _latency_figures(sorted_ms: list[float], statuses: dict[str, int]) -> dict[str, Any]:
    """One row of the table: n, p50/p95/p99/max of sorted latencies (ms), status counts."""
    return {
        "n": len(sorted_ms),
        "p50": round(percentile(sorted_ms, 0.50), 2),
        "p95": round(percentile(sorted_ms, 0.95), 2),
        "p99": round(percentile(sorted_ms, 0.99), 2),
        "max": round(sorted_ms[-1], 2),
        "status": statuses,
    }


@dataclass
class Recorder:
    """Latencies (ms) and status counts per endpoint label."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, label: str, ms: float, status: int | str) -> None:
        self.latencies[label].append(ms)
        self.statuses[label][str(status)] += 1

    def summary(self, elapsed_s: float) -> dict[str, Any]:
        endpoints = {}
        total = errors = 0
        for label in sorted(self.latencies):
            values = sorted(self.latencies[label])
            statuses = dict(self.statuses[label])
            total += len(values)
            errors += sum(n for s, n in statuses.items() if not s.isdigit() or int(s) >= 500)
            endpoints[label] = _latency_figures(values, statuses)
        reads = sorted(ms for label, values in self.latencies.items() if label.startswith("GET ") for ms in values)
        if reads:  # pooled: one endpoint's p99 over a few dozen samples is nearly its maximum
            read_statuses = sum(
                (self.statuses[label] for label in self.latencies if label.startswith("GET ")), Counter()
            )
            endpoints[ALL_READS] = _latency_figures(reads, dict(read_statuses))
        return {
            "requests": total,
            "errors": errors,
            "elapsed_s": round(elapsed_s, 2),
            "req_per_s": round(total / elapsed_s, 1) if elapsed_s else 0.0,
            "endpoints": endpoints,
        }


@dataclass
class Fixture:
    """What the workload needs to know about the demo data: keys, ids, cursors, a community."""

    reader_key: str
    liaison_key: str
    liaison_community_id: int
    assignment_ids: list[int]
    demand_ids: list[int]
    cursors: dict[str, list[str | None]]
    week_start: datetime


async def _page_cursors(client: httpx.AsyncClient, path: str, key: str, param: str) -> list[str | None]:
    """Every cursor of ``path`` in pages of 100 (capped), so list reads hit pages all over the table."""
    cursors: list[str | None] = [None]
    headers = {"Authorization": f"Bearer {key}"}
    while len(cursors) < 50:
        params: dict[str, Any] = {"limit": 100}
        if cursors[-1] is not None:
            params[param] = cursors[-1]
        r = await client.get(path, params=params, headers=headers)
        r.raise_for_status()
        nxt = r.json().get("next_cursor")
        if not nxt or nxt == cursors[-1] or not r.json()["items"]:
            break
        cursors.append(nxt)
    return cursors[:-1] if len(cursors) > 1 and path == "/v1/changes" else cursors


async def _ids(client: httpx.AsyncClient, path: str, key: str) -> list[int]:
    ids: list[int] = []
    cursor = None
    headers = {"Authorization": f"Bearer {key}"}
    while len(ids) < 2000:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(path, params=params, headers=headers)
        r.raise_for_status()
        body = r.json()
        ids.extend(item["id"] for item in body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return ids


async def prepare(base_url: str, url: str) -> Fixture:
    reader = live.create_key(url, "reader")
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Area, Community

    with session_scope(url) as session:
        area_code, community_id = session.execute(
            select(Area.code, Community.id).join(Community, Community.area_id == Area.id).order_by(Community.id)
        ).first()  # type: ignore[misc] # the demo always has communities
    liaison = live.create_key(url, "liaison", area_code)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        cursors = {
            "/v1/assignments": await _page_cursors(client, "/v1/assignments", reader, "cursor"),
            "/v1/demands": await _page_cursors(client, "/v1/demands", reader, "cursor"),
            "/v1/changes": await _page_cursors(client, "/v1/changes", reader, "after"),
        }
        assignment_ids = await _ids(client, "/v1/assignments", reader)
        demand_ids = await _ids(client, "/v1/demands", reader)
    return Fixture(
        reader_key=reader,
        liaison_key=liaison,
        liaison_community_id=community_id,
        assignment_ids=assignment_ids,
        demand_ids=demand_ids,
        cursors=cursors,
        week_start=datetime.combine(live.next_monday(), datetime.min.time()),
    )


class Workload:
    """Chooses and sends one request of the mix; liaison writes PATCH only demands they created."""

    def __init__(self, fixture: Fixture, seed: int) -> None:
        self.f = fixture
        self.rng = random.Random(seed)
        self.own: dict[int, int] = {}  # demand id -> version, created by this workload
        self.counter = 0
        self.reader = {"Authorization": f"Bearer {fixture.reader_key}"}
        self.liaison = {"Authorization": f"Bearer {fixture.liaison_key}"}

    def choose(self) -> tuple[str, str, str, dict[str, Any]]:
        """(label, method, path, request kwargs) of the next request."""
        roll = self.rng.random()
        if roll < LIST_SHARE:
            path = self.rng.choice(("/v1/assignments", "/v1/demands", "/v1/changes"))
            params: dict[str, Any] = {"limit": 100}
            cursor = self.rng.choice(self.f.cursors[path])
            if cursor:
                params["after" if path == "/v1/changes" else "cursor"] = cursor
            return f"GET {path}?limit=100", "GET", path, {"params": params, "headers": self.reader}
        if roll < LIST_SHARE + SINGLE_SHARE:
            if self.f.assignment_ids and self.rng.random() < 0.5:
                aid = self.rng.choice(self.f.assignment_ids)
                return "GET /v1/assignments/{id}", "GET", f"/v1/assignments/{aid}", {"headers": self.reader}
            did = self.rng.choice(self.f.demand_ids)
            return "GET /v1/demands/{id}", "GET", f"/v1/demands/{did}", {"headers": self.reader}
        if self.own and self.rng.random() < 0.5:
            did = self.rng.choice(list(self.own))
            headers = {**self.liaison, "If-Match": f'"v{self.own[did]}"'}
            body = {"priority": self.rng.randint(1, 5), "description": f"bench edit {self.counter}"}
            return "PATCH /v1/demands/{id}", "PATCH", f"/v1/demands/{did}", {"json": body, "headers": headers}
        self.counter += 1
        starts = self.f.week_start + timedelta(days=self.rng.randint(0, 6), hours=9)
        body = {
            "community_id": self.f.liaison_community_id,
            "title": f"压测需求 {self.counter}",
            "channel": "liaison_station",
            "priority": 3,
            "min_members": 1,
            "max_members": 2,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
        }
        return "POST /v1/demands", "POST", "/v1/demands", {"json": body, "headers": self.liaison}

    def learn(self, method: str, path: str, response: httpx.Response) -> None:
        if method == "POST" and response.status_code == 201:
            body = response.json()
            self.own[body["id"]] = body["version"]
        elif method == "PATCH" and response.status_code == 200:
            self.own[int(path.rsplit("/", 1)[1])] = response.json()["version"]

    async def send(self, client: Client, rec: Recorder, started: float | None = None) -> None:
        label, method, path, kwargs = self.choose()
        await self.send_one(client, rec, label, method, path, kwargs, started)

    async def send_one(self, client, rec, label, method, path, kwargs, started=None) -> None:  # noqa: ANN001 - internal
        t0 = started if started is not None else time.perf_counter()
        try:
            response = await client.request(method, path, **kwargs)
            status: int | str = response.status_code
            self.learn(method, path, response)
        except (httpx.HTTPError, OSError, TimeoutError, httptools.HttpParserError) as exc:
            status = type(exc).__name__
        rec.add(label, (time.perf_counter() - t0) * 1000, status)


Client = LeanClient | httpx.AsyncClient
#: The load generator's HTTP client: "lean" (bench.api_client, the default) or "httpx" (to compare).
CLIENT_KIND = {"kind": "lean"}


def _client(base_url: str, connections: int) -> Client:
    if CLIENT_KIND["kind"] == "lean":
        return LeanClient(base_url, connections)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits)


async def sequential(base_url: str, fixture: Fixture, per_endpoint: int) -> dict[str, Any]:
    """Each request kind ``per_endpoint`` times, one at a time (the service time, no queueing)."""
    rec = Recorder()
    wl = Workload(fixture, seed=1)
    kinds = [
        ("GET /v1/assignments?limit=100", "/v1/assignments", {"limit": 100}),
        ("GET /v1/demands?limit=100", "/v1/demands", {"limit": 100}),
        ("GET /v1/changes?limit=100", "/v1/changes", {"limit": 100}),
    ]
    started = time.perf_counter()
    async with _client(base_url, 1) as client:
        for label, path, params in kinds:
            for _ in range(per_endpoint):
                await wl.send_one(client, rec, label, "GET", path, {"params": params, "headers": wl.reader})
        for i in range(per_endpoint):
            aid = fixture.assignment_ids[i % len(fixture.assignment_ids)] if fixture.assignment_ids else None
            if aid is not None:
                path = f"/v1/assignments/{aid}"
                await wl.send_one(client, rec, "GET /v1/assignments/{id}", "GET", path, {"headers": wl.reader})
            path = f"/v1/demands/{fixture.demand_ids[i % len(fixture.demand_ids)]}"
            await wl.send_one(client, rec, "GET /v1/demands/{id}", "GET", path, {"headers": wl.reader})
    return rec.summary(time.perf_counter() - started)


async def closed_loop(base_url: str, fixture: Fixture, clients: int, duration_s: float) -> dict[str, Any]:
    rec = Recorder()
    stop_at = time.perf_counter() + duration_s

    async def one_client(i: int, client: Client) -> None:
        wl = Workload(fixture, seed=100 + i)
        while time.perf_counter() < stop_at:
            await wl.send(client, rec)

    started = time.perf_counter()
    async with _client(base_url, clients) as client:
        await asyncio.gather(*(one_client(i, client) for i in range(clients)))
    return rec.summary(time.perf_counter() - started)


async def open_loop(base_url: str, fixture: Fixture, rate: float, duration_s: float) -> dict[str, Any]:
    """Requests start on a fixed schedule of ``rate``/s; latency counts from the scheduled start."""
    rec = Recorder()
    wl = Workload(fixture, seed=7)
    total = int(rate * duration_s)
    in_flight: set[asyncio.Task] = set()
    dropped = 0
    started = time.perf_counter()
    async with _client(base_url, OPEN_LOOP_MAX_IN_FLIGHT) as client:
        for i in range(total):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= OPEN_LOOP_MAX_IN_FLIGHT:
                dropped += 1
                continue
            task = asyncio.create_task(wl.send(client, rec, started=due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight, timeout=60)
    result = rec.summary(time.perf_counter() - started)
    result.update({"offered_rate": rate, "dropped_over_in_flight_cap": dropped})
    return result


async def _phases(server: live.Server, url: str, args) -> dict[str, Any]:  # noqa: ANN001 - argparse namespace
    fixture = await prepare(server.base_url, url)
    out: dict[str, Any] = {"data": {"assignments": len(fixture.assignment_ids), "demands": len(fixture.demand_ids)}}
    phases = [
        ("sequential", lambda: sequential(server.base_url, fixture, args.sequential)),
        ("closed_loop", lambda: closed_loop(server.base_url, fixture, args.clients, args.duration)),
        ("open_loop", lambda: open_loop(server.base_url, fixture, args.rate, args.duration)),
    ]
    for name, run in phases:
        if name not in args.phases:
            continue
        before = server.figures()
        pg_before = live.postgres_cpu_seconds(url)
        load_before = live.machine_facts()["loadavg"]
        client_cpu_before = time.process_time()
        result = await run()
        client_cpu_s = time.process_time() - client_cpu_before
        after = server.figures()
        pg_after = live.postgres_cpu_seconds(url)
        result["server"] = {
            "cpu_s": round(after["cpu_s"] - before["cpu_s"], 2),
            "cpu_util": round((after["cpu_s"] - before["cpu_s"]) / result["elapsed_s"], 2),
            "rss_mb_before": before["rss_mb"],
            "rss_mb_after": after["rss_mb"],
            "processes": after["processes"],
        }
        if pg_before is not None and pg_after is not None:
            # The PostgreSQL server's CPU (postmaster and its children) in the same phase.
            pg_cpu_s = pg_after - pg_before
            result["postgres"] = {
                "cpu_s": round(pg_cpu_s, 2),
                "cpu_util": round(pg_cpu_s / result["elapsed_s"], 2),
                "cpu_ms_per_request": round(1000 * pg_cpu_s / max(result["requests"], 1), 3),
            }
        # The generator shares the machine: a client near one core would be what limits the figures.
        result["client"] = {"cpu_s": round(client_cpu_s, 2), "cpu_util": round(client_cpu_s / result["elapsed_s"], 2)}
        result["loadavg_before"] = load_before
        result["loadavg_after"] = live.machine_facts()["loadavg"]
        out[name] = result
    if "solve" in args.phases:
        from bench.solve_load import solve_phase

        out["solve"] = await solve_phase(server, url, args.db_kind, fixture, args)
    return out


def run_one(db: str, args) -> dict[str, Any]:  # noqa: ANN001 - argparse namespace
    with live.database(db) as url:
        t0 = time.perf_counter()
        live.load_demo_with_plan(url)
        loaded_s = round(time.perf_counter() - t0, 1)
        city = None
        if "solve" in args.phases:
            from bench.solve_load import add_city_instance

            city = add_city_instance(url, args.solve_members, args.solve_demands)
            live.analyze(url)
            args.solve_admin_key = live.create_key(url, "admin")
        args.db_kind = db
        with live.serve(url, workers=args.workers) as server:
            result = asyncio.run(_phases(server, url, args))
        result["server_errors"] = server.extra.get("server_errors")
    result.update(
        {"client": args.client, "db": db, "workers": args.workers, "demo_load_s": loaded_s, "city_instance": city}
    )
    return result


def render(result: dict[str, Any]) -> str:
    lines = [
        f"== {result['db']} · matcher serve --workers {result['workers']} · data {result['data']}"
        f" · client {result['client']}"
    ]
    for phase in ("sequential", "closed_loop", "open_loop"):
        if phase not in result:
            continue
        r, s = result[phase], result[phase]["server"]
        extra = (
            f", offered {r['offered_rate']}/s, dropped {r['dropped_over_in_flight_cap']}" if "offered_rate" in r else ""
        )
        lines.append(
            f"-- {phase}: {r['requests']} requests in {r['elapsed_s']} s = {r['req_per_s']} req/s, "
            f"errors {r['errors']}{extra}; server cpu {s['cpu_s']} s ({s['cpu_util']} cores), "
            f"{_postgres_cpu(r)}"
            f"client cpu {r['client']['cpu_util']} cores, "
            f"rss {s['rss_mb_before']} -> {s['rss_mb_after']} MB; load {r['loadavg_before']} -> {r['loadavg_after']}"
        )
        lines.append(f"   {'endpoint':34} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  status")
        for label, e in r["endpoints"].items():
            status = " ".join(f"{k}:{v}" for k, v in sorted(e["status"].items()))
            lines.append(f"   {label:34} {e['n']:>6} {e['p50']:>8} {e['p95']:>8} {e['p99']:>8} {e['max']:>8}  {status}")
    if "solve" in result:
        from bench.solve_load import render as render_solve

        lines.append(f"-- city instance added before the server started: {result['city_instance']}")
        lines.extend(render_solve(result["solve"]))
    errors = result.get("server_errors") or {}
    lines.append(f"-- server log: {errors.get('count', 0)} ERROR records")
    lines.extend(f"   {line}" for line in errors.get("first", []))
    return "\n".join(lines)


def _postgres_cpu(phase: dict[str, Any]) -> str:
    pg = phase.get("postgres")
    if pg is None:
        return ""
    return f"postgres cpu {pg['cpu_s']} s ({pg['cpu_util']} cores, {pg['cpu_ms_per_request']} ms/request), "


def add_arguments(ap) -> None:  # noqa: ANN001 - argparse parser
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    ap.add_argument("--workers", type=int, default=1, help="matcher serve --workers")
    ap.add_argument("--clients", type=int, default=50, help="closed-loop concurrent clients")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per load phase")
    ap.add_argument("--rate", type=float, default=200.0, help="open-loop offered requests/s")
    ap.add_argument("--sequential", type=int, default=200, help="requests per endpoint, one at a time")
    ap.add_argument("--phases", default="sequential,closed_loop,open_loop,solve")
    ap.add_argument("--solve-members", type=int, default=10_000, help="members added for the solve phase")
    ap.add_argument("--solve-demands", type=int, default=2_000, help="demands in the solve phase's week")
    ap.add_argument("--solve-rate", type=float, default=50.0, help="open-loop requests/s during the solve phase")
    ap.add_argument("--client", choices=("lean", "httpx"), default="lean", help="the generator's HTTP client")
    ap.add_argument("--json", action="store_true", help="one JSON object per database")


def main(args) -> int:  # noqa: ANN001 - argparse namespace
    args.phases = set(args.phases.split(","))
    CLIENT_KIND["kind"] = args.client
    machine = live.machine_facts()
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if not args.json:
        print(f"machine: {machine}")
    for db in dbs:
        result = run_one(db, args)
        result["machine"] = machine
        print(json.dumps(result, ensure_ascii=False) if args.json else render(result), flush=True)
    return 0
