"""Prometheus metrics: request counts/latencies (this process) and run/queue/notification figures
(from the database).

Run outcomes, durations, the queue depth and notification outcomes are read from the database at
scrape time, so the figures include work done by ``matcher worker`` processes, not only by this
API process. ``metrics_app`` is the same page as a tiny ASGI app of its own, which ``matcher
serve`` binds to ``MATCHER_METRICS_PORT`` (unauthenticated, 127.0.0.1 unless configured).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.db import get_sessionmaker
from app.models import Notification, NotificationAttempt, OptimizationRun
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
        yield from self._notifications()

    def _notifications(self) -> Iterator[GaugeMetricFamily]:
        """Outbox rows by channel and status (pending, sent, failed, obsolete) and send attempts
        by channel and result: a failing mail server shows as errors before anything is given up."""
        outbox = GaugeMetricFamily(
            "matcher_notifications",
            "Member notifications in the outbox by channel and status.",
            labels=["channel", "status"],
        )
        attempts = GaugeMetricFamily(
            "matcher_notification_attempts",
            "Notification send attempts by channel and result.",
            labels=["channel", "result"],
        )
        with get_sessionmaker(self.database_url)() as session:
            for channel, status, n in _grouped(session, Notification.channel, Notification.status):
                outbox.add_metric([str(channel), str(status)], n)
            for channel, ok, n in _grouped(session, NotificationAttempt.channel, NotificationAttempt.ok):
                attempts.add_metric([str(channel), "ok" if ok else "error"], n)
        yield outbox
        yield attempts


def _grouped(session: Session, *columns: Any) -> list[Any]:
    return list(session.execute(select(*columns, func.count()).group_by(*columns).order_by(*columns)))


def render(database_url: str) -> bytes:
    """The text exposition of this process's request metrics and the database's run figures."""
    registry = CollectorRegistry()
    for collector in (REQUESTS, LATENCY, DatabaseCollector(database_url)):
        registry.register(collector)
    return generate_latest(registry)


def metrics_app(database_url: str) -> Starlette:
    """``GET /metrics`` and nothing else, no key asked: bind it to a port only the scraper reaches."""

    def page(_request: Request) -> Response:
        return Response(render(database_url), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/metrics", page, methods=["GET"])])


__all__ = ["CONTENT_TYPE_LATEST", "metrics_app", "observe_request", "render"]
