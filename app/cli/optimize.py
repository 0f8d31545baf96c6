"""``matcher optimize``: the weekly run for the ops script.

It creates the run exactly as the API does, then executes it right here in the CLI process
(same ``execute_run`` code path as the background executors), showing progress on stderr and
a summary beside both baselines at the end. Exit code 0 only when the run succeeded (and, with
``--publish``, was published); ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from app.cli.common import echo_problem, say
from app.db import session_scope
from app.domain.enums import Role, RunMode, RunStatus
from app.errors import Problem
from app.models import OptimizationRun
from app.services.districts import get_district
from app.services.identity import Caller
from app.services.runs import service
from app.services.runs.execute import execute_run, fail_run
from app.services.runs.executor import SynchronousExecutor
from app.services.runs.publish import publish_run
from app.settings import get_settings

# (metric key, format) for the comparison table; the labels are ``cli.optimize.row.<key>``.
ROWS: list[tuple[str, str]] = [
    ("demands_covered", "count"),
    ("weighted_coverage", "pct"),
    ("assignments", "int"),
    ("mean_skill_score", "f2"),
    ("cross_area_share", "pct"),
    ("mean_distance_km", "f1"),
    ("load_peak", "int"),
    ("load_std", "f2"),
    ("zero_activity_members_served", "zero"),
]
#: the plans side by side (labels ``cli.optimize.plan.<key>``)
PLANS = ("optimized", "fixed_pairing", "greedy")


def _cell(metrics: dict[str, Any] | None, key: str, fmt: str) -> str:
    if not metrics:
        return "-"
    v = metrics.get(key)
    if v is None:
        return "-"
    if fmt == "count":
        return f"{v}/{metrics.get('demands_total', '?')}"
    if fmt == "zero":
        return f"{v}/{metrics.get('zero_activity_members', '?')}"
    if fmt == "pct":
        return f"{100 * v:.1f}%"
    if fmt == "f1":
        return f"{v:.1f}"
    if fmt == "f2":
        return f"{v:.2f}"
    return str(v)


def comparison_table(stats: dict[str, Any]) -> str:
    """The plan beside both baselines, computed on the same problem."""
    header = ["", *[say(f"cli.optimize.plan.{key}") for key in PLANS]]
    body = [[say(f"cli.optimize.row.{k}"), *[_cell(stats.get(key), k, fmt) for key in PLANS]] for k, fmt in ROWS]
    widths = [max(_columns(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        """The label left-aligned, the figures right-aligned, each in its column's width (a CJK
        character takes two columns)."""
        pads = [" " * (widths[i] - _columns(c)) for i, c in enumerate(r)]
        return "  ".join(c + pads[0] if i == 0 else pads[i] + c for i, c in enumerate(r))

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *[line(r) for r in body]])


def load_summary(stats: dict[str, Any]) -> dict[str, Any]:
    """Who carries how much (the optimized plan), in the shape the demo and reports print."""
    m = stats.get("optimized") or {}
    return {
        "load_peak": m.get("load_peak"),
        "load_std": m.get("load_std"),
        "zero_activity_members": m.get("zero_activity_members"),
        "zero_activity_members_served": m.get("zero_activity_members_served"),
    }


class _Display:
    """One refreshing progress line on a terminal, a line every few seconds otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p: dict[str, Any]) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < 5:
            return
        self.last = now
        obj, bound = p.get("objective"), p.get("best_bound")
        text = say("cli.optimize.progress", elapsed=p.get("elapsed_s", 0))
        if obj is not None:
            text += say("cli.optimize.best", value=obj)
        if bound is not None:
            text += say("cli.optimize.bound", value=bound)
        if self.tty:
            print("\r" + text.ljust(70), end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled and self.tty:
            print(file=sys.stderr)


@dataclass
class OptimizeResult:
    run: dict[str, Any]
    published: dict[str, int] | None

    @property
    def stats(self) -> dict[str, Any]:
        return self.run.get("stats") or {}

    def to_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "run": _jsonable(self.run),
            "optimized": s.get("optimized"),
            "fixed_pairing": s.get("fixed_pairing"),
            "greedy": s.get("greedy"),
            "load": load_summary(s),
            "published": self.published,
        }


def _jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


def run_optimization(
    url: str,
    district_code: str,
    *,
    week: str | None = None,
    window: tuple[date, date] | None = None,
    time_limit_s: float | None = None,
    weights: dict[str, Any] | None = None,
    scope: list[str] | None = None,
    mode: RunMode = RunMode.FULL,
    publish: bool = False,
    progress: bool = True,
) -> OptimizeResult:
    """Create a run and execute it synchronously in this process (also used by ``matcher demo``)."""
    settings = get_settings()
    with session_scope(url) as s:
        d = get_district(s, code=district_code)
        caller = Caller(api_key_id=0, name="matcher optimize", role=Role.ADMIN, district_id=d.id)
        data = {
            "week": week,
            "window_start": window[0] if window else None,
            "window_end": window[1] if window else None,
            "time_limit_s": time_limit_s,
            "weights": weights,
            "scope": scope,
            "mode": mode,
        }
        run = service.create_run(
            s, caller, data=data, executor=SynchronousExecutor(), default_time_limit_s=settings.solver_time_limit_s
        )
        s.flush()
        run_id = run.id
    display = _Display(progress)
    try:
        execute_run(url, run_id, display=display)
    except KeyboardInterrupt:
        fail_run(url, run_id, "interrupted (matcher optimize stopped)")  # never leave it "running"
        raise
    finally:
        display.done()
    published = None
    with session_scope(url) as s:
        run = s.get_one(OptimizationRun, run_id)
        if publish and run.status == RunStatus.SUCCEEDED:
            run, published = publish_run(s, caller, run_id=run_id)
        view = service.run_view(s, run=run)
    return OptimizeResult(run=view, published=published)


def optimize_demo_week(
    url: str, district_code: str, week: str, *, echo: bool = True, time_limit_s: float | None = None
) -> dict[str, Any]:
    """``matcher demo``'s optimisation step: a full run of the demo week, executed here.

    Returns ``optimized``, ``fixed_pairing``, ``greedy`` (plan figures on the same problem),
    ``load`` (load summary of the optimized plan) and ``run`` (id, status, solver figures),
    for the demo's JSON; with ``echo`` the figures are also printed as a table (stdout).
    """
    result = run_optimization(url, district_code, week=week, time_limit_s=time_limit_s, progress=echo)
    r = result.run
    out = result.to_dict()
    out["run"] = _jsonable(
        {
            k: r.get(k)
            for k in (
                "id",
                "status",
                "mode",
                "week",
                "solver_status",
                "objective",
                "best_bound",
                "gap",
                "counts",
                "error",
            )
        }
    )
    out.pop("published", None)
    if echo:
        gap = r.get("gap")
        proposals = (r.get("counts") or {}).get("proposals")
        solver = r.get("solver_status")
        typer.echo(
            say("cli.demo.optimised", id=r["id"], status=r["status"], solver=solver, gap=_gap(gap), proposals=proposals)
        )
        if result.stats:
            typer.echo(comparison_table(result.stats))
        typer.echo("")
    return out


def _read_weights(path: Path) -> dict[str, Any]:
    from app.schemas.runs import WeightsIn

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        message = say("cli.optimize.weights_unreadable", path=path, error=exc)
        raise typer.BadParameter(message, param_hint="--weights") from None
    try:
        return WeightsIn.model_validate(raw).model_dump(exclude_none=True)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) + f" ({e['msg']})" for e in exc.errors())
        raise typer.BadParameter(say("cli.optimize.weights_invalid", fields=fields), param_hint="--weights") from None


def optimize(
    week: str = typer.Option(..., help="ISO week to plan, e.g. 2026-W48."),
    publish: bool = typer.Option(False, "--publish", help="Publish the plan when the run succeeds."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=1, max=300, help="Solver time limit in seconds (1..300)."
    ),
    weights: Path | None = typer.Option(None, "--weights", help="JSON file with weight overrides."),
    scope: str | None = typer.Option(None, "--scope", help="Only these areas, comma-separated codes: JW,CW"),
    mode: RunMode = typer.Option(RunMode.FULL, "--mode", help="full | repair"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    district: str | None = typer.Option(None, help="District code (default MATCHER_DISTRICT_CODE)."),
) -> None:
    """Optimise one week now, in this process, and print the plan beside both baselines."""
    settings = get_settings()
    overrides = _read_weights(weights) if weights else None
    areas = [c.strip() for c in scope.split(",")] if scope else None
    try:
        result = run_optimization(
            settings.database_url,
            district or settings.district_code,
            week=week,
            time_limit_s=time_limit,
            weights=overrides,
            scope=areas,
            mode=mode,
            publish=publish,
            progress=True,
        )
    except Problem as exc:
        echo_problem(exc)
        raise typer.Exit(2) from None
    run = result.run
    ok = run["status"] in (RunStatus.SUCCEEDED, RunStatus.PUBLISHED) and (not publish or result.published is not None)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _echo_result(result)
    if not ok:
        raise typer.Exit(1)


def _gap(gap: float | None) -> str:
    return "-" if gap is None else f"{100 * gap:.2f}%"


def _columns(text: str) -> int:
    """Terminal width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _echo_result(result: OptimizeResult) -> None:
    """The run's figures, its plan beside the baselines and what was published, as text."""
    run, c = result.run, result.run.get("counts") or {}
    typer.echo(
        say(
            "cli.optimize.run",
            id=run["id"],
            status=run["status"],
            start=run["window_start"],
            end=run["window_end"],
            solver=run.get("solver_status"),
            objective=run.get("objective"),
            bound=run.get("best_bound"),
            gap=_gap(run.get("gap")),
        )
    )
    counts = {k: c.get(k) for k in ("members", "demands", "proposals", "pinned", "unmet")}
    typer.echo(say("cli.optimize.counts", **counts))
    if result.stats:
        typer.echo("")
        typer.echo(comparison_table(result.stats))
    if result.published is not None:
        p = result.published
        published = say(
            "cli.optimize.published",
            published=p.get("published"),
            superseded=p.get("superseded"),
            assigned=p.get("demands_assigned"),
        )
        typer.echo("\n" + published)
    if run.get("error"):
        typer.echo(say("cli.error", message=run["error"]), err=True)
