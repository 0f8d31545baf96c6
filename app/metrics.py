"""Prometheus metrics: request counts/latencies (this process) and run/queue figures (from the database).

Run outcomes, durations and the queue depth are read from the database at scrape time, so the
figures include runs executed by ``matcher worker`` processes, not only by this API process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.db import get_sessionmaker
from app.models import OptimizationRun
from app.models.base import utcnow

REQUESTS = Counter(
    "matcher_http_requests_total",
    "HTTP requests by route and status.",
    ["method", "route", "status"],
    registry=None,
)
LATENCY = Histogram(
    "matcher_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class DatabaseCollector(Collector):
    """Runs by status, durations of the last day's finished runs, and the queue depth."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runs = GaugeMetricFamily("matcher_runs", "Optimization runs by status (all districts).", labels=["status"])
        queue = GaugeMetricFamily("matcher_run_queue_depth", "Runs queued and not yet started.")
        duration = GaugeMetricFamily(
            "matcher_run_duration_seconds_last_day",
            "Mean and max duration of runs finished in the last 24 h.",
            labels=["stat"],
        )
        with get_sessionmaker(self.database_url)() as session:
            for status, n in session.execute(
                select(OptimizationRun.status, func.count()).group_by(OptimizationRun.status)
            ):
                runs.add_metric([str(status)], n)
            queued = session.scalar(
                select(func.count()).select_from(OptimizationRun).where(OptimizationRun.status == "queued")
            )
            queue.add_metric([], queued or 0)
            finished = session.execute(
                select(OptimizationRun.started_at, OptimizationRun.finished_at).where(
                    OptimizationRun.finished_at >= utcnow() - timedelta(days=1),
                    OptimizationRun.started_at.is_not(None),
                )
            ).all()
        seconds = [(f - s).total_seconds() for s, f in finished if s and f]
        duration.add_metric(["mean"], sum(seconds) / len(seconds) if seconds else 0.0)
        duration.add_metric(["max"], max(seconds, default=0.0))
        yield runs
        yield queue
        yield duration


def render(database_url: str) -> bytes:
    """The text exposition of this process's request metrics and the database's run figures."""
    registry = CollectorRegistry()
    for collector in (REQUESTS, LATENCY, DatabaseCollector(database_url)):
        registry.register(collector)
    return generate_latest(registry)


__all__ = ["CONTENT_TYPE_LATEST", "observe_request", "render"]
