"""Decline -> published replacement on the demo data: `python -m bench.repair_latency [--json]`.

Builds the 朝阳区 demo (410 members, 250 needs) in a fresh SQLite file (or the PostgreSQL
database given with --database-url, which is wiped), optimizes and publishes the week like
`matcher demo`, then declines N published assignments one after another through the same
service a personal link uses, and measures for each, with the quiet period set to 0:

* repair_start_s: decline committed -> the repair run is created by the scanner;
* solve_s: the repair run's own wall time (claim to stored plan);
* replacement_s: decline committed -> the repair run is published (the replacement's message
  is then in the outbox, written in the publish transaction).

The dispatcher is driven in a loop here (0.1 s between passes), as `matcher worker` / the API
process would with MATCHER_NOTIFY_INTERVAL_S=0.1; the default quiet period (600 s) comes on top.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from app.db import session_scope
from app.models import Assignment, Demand, OptimizationRun, UnmetDemand
from app.services.member_tasks import answer
from app.services.notifications.dispatcher import Dispatcher
from app.services.notifications.links import mint_task_link
from app.services.runs.executor import InProcessExecutor
from app.settings import NotifySettings
from bench.__main__ import _machine


def _prepare(url: str) -> int:
    from app.cli.demo import next_monday
    from app.cli.optimize import optimize_demo_week
    from app.demo.load import load_demo
    from app.services.notifications.demo import publish_with_example_links

    summary = load_demo(url, 7, next_monday(), reset_postgresql=True)
    run = optimize_demo_week(url, summary.district, summary.week, echo=False)["run"]
    publish_with_example_links(url, summary.district, int(run["id"]))
    return int(run["id"])


def _decline_one(url: str, run_id: int, skip: int) -> int:
    """Decline a proposal whose need then lacks a member (so there is something to repair)."""
    with session_scope(url) as s:
        live = dict(
            s.execute(
                select(Assignment.demand_id, func.count())
                .where(Assignment.status.in_(("published", "accepted", "completed")))
                .group_by(Assignment.demand_id)
            ).all()
        )
        candidates = [
            a
            for a in s.scalars(
                select(Assignment)
                .join(Demand, Demand.id == Assignment.demand_id)
                .where(Assignment.run_id == run_id, Assignment.status == "published")
                .order_by(Assignment.id)
            ).unique()
            if live.get(a.demand_id) == a.demand.min_members
        ]
        a = candidates[skip % len(candidates)]
        link = mint_task_link(s, assignment=a).link
        answer(s, link=link, action="decline", form={"reason": "schedule"})
        return a.id


def _measure(url: str, run_id: int, skip: int, dispatcher: Dispatcher) -> dict:
    with session_scope(url) as s:
        known = set(s.scalars(select(OptimizationRun.id)))
    declined = _decline_one(url, run_id, skip)
    t0 = time.perf_counter()
    started = None
    while True:
        dispatcher.run_once(scan=False)
        with session_scope(url) as s:
            run = s.scalars(select(OptimizationRun).where(OptimizationRun.id.not_in(known))).first()
            if run is not None and started is None:
                started = time.perf_counter() - t0
            if run is not None and run.status == "published":
                solve = (
                    (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
                )
                demand_id = s.get_one(Assignment, declined).demand_id
                unmet = s.scalar(
                    select(UnmetDemand.text).where(UnmetDemand.run_id == run.id, UnmetDemand.demand_id == demand_id)
                )
                return {
                    "unmet": unmet,
                    "repair_start_s": started,
                    "solve_s": solve,
                    "replacement_s": time.perf_counter() - t0,
                    "proposals": (run.stats or {}).get("publish", {}).get("published"),
                }
            if run is not None and run.status == "failed":
                raise RuntimeError(f"repair run failed: {run.error}")
        if time.perf_counter() - t0 > 120:
            raise RuntimeError("no published repair within 120 s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL to use (wiped!); default: a temp SQLite file")
    parser.add_argument("--declines", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'repair-bench.db'}"
    run_id = _prepare(url)
    cfg = NotifySettings(repair_quiet_s=0.0, notify_default_channel="log")
    dispatcher = Dispatcher(url, cfg, executor=InProcessExecutor(url))
    import os

    os.environ["MATCHER_REPAIR_QUIET_S"] = "0"  # the decline's mark is due at once
    while dispatcher.run_once(scan=False).sent:  # the publish's messages go out first
        pass
    rows = [_measure(url, run_id, i * 7, dispatcher) for i in range(args.declines)]
    out = {
        "database": url.split(":", 1)[0],
        "instance": {"members": 410, "demands": 250},
        "declines": rows,
        "median_replacement_s": statistics.median(r["replacement_s"] for r in rows),
        "machine": _machine(),
        "loadavg": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return
    print(f"decline -> published replacement on the demo data ({out['database']}, 410 members, 250 needs)")
    for i, r in enumerate(rows, 1):
        print(
            f"  #{i}: repair run created after {r['repair_start_s']:.2f} s, solved in {r['solve_s']:.2f} s, "
            f"published after {r['replacement_s']:.2f} s ({r['proposals']} new proposal(s))"
        )
    print(
        f"  median {out['median_replacement_s']:.2f} s (quiet period 0; default MATCHER_REPAIR_QUIET_S=600 adds to it)"
    )
    m = out["machine"]
    print(f"  machine: {m['cpu_count']} cpu {m['cpu_model']}, load {out['loadavg'][0]:.2f}, python {m['python']}")


if __name__ == "__main__":
    main()
