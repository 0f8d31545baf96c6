"""``matcher doctor``: what is wrong with this deployment and how to fix it (Chinese and English)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from sqlalchemy import make_url, select, text

from app import migrate
from app.db import get_engine, get_sessionmaker, is_sqlite
from app.i18n import t
from app.models import District, ScheduledPeriod
from app.services.district_settings import effective
from app.settings import get_settings

WORKER_STALE_S = 120
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Report:
    def __init__(self) -> None:
        self.fixes = 0

    def line(self, ok: bool, key: str, **params: object) -> None:
        if not ok:
            self.fixes += 1
        mark = "ok " if ok else "FIX"
        typer.echo(f"[{mark}] {t(key, 'zh', **params)}")
        typer.echo(f"      {t(key, 'en', **params)}")


def doctor() -> None:
    """Check the database URL, connectivity, schema revision, worker, schedules and notifications."""
    url = get_settings().database_url
    report = Report()
    shown = make_url(url).render_as_string(hide_password=True)
    report.line(True, "doctor.database_url", url=shown, kind="SQLite" if is_sqlite(url) else "PostgreSQL")
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        current = migrate.current_revision(get_engine(url))
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding itself
        report.line(False, "doctor.connect_fail", error=type(exc).__name__)
        raise typer.Exit(1) from None
    report.line(True, "doctor.connect_ok")
    head = migrate.head_revision(url)
    report.line(
        current == head,
        "doctor.migration_ok" if current == head else "doctor.migration_fix",
        current=current or "-",
        head=head,
    )
    if current != head:
        raise typer.Exit(1)
    _worker(report, url)
    _schedules(report, url)
    _notifications(report)
    typer.echo(
        t("doctor.summary_ok") + " / " + t("doctor.summary_ok", "en")
        if not report.fixes
        else t("doctor.summary_fix", n=report.fixes) + " / " + t("doctor.summary_fix", "en", n=report.fixes)
    )
    raise typer.Exit(1 if report.fixes else 0)


def _worker(report: Report, url: str) -> None:
    if is_sqlite(url):
        report.line(True, "doctor.worker_inprocess")
        return
    with get_engine(url).connect() as conn:
        last = conn.scalar(text("SELECT max(last_heartbeat) FROM procrastinate_workers"))
    if last is not None:
        ago = int((datetime.now(UTC) - last).total_seconds())
        if ago <= WORKER_STALE_S:
            report.line(True, "doctor.worker_ok", ago=ago)
            return
    report.line(False, "doctor.worker_fix", last=last.isoformat() if last else t("doctor.never", "en"))


def _schedules(report: Report, url: str) -> None:
    with get_sessionmaker(url)() as session:
        for district in session.scalars(select(District).where(District.active.is_(True)).order_by(District.id)):
            schedule = effective(district).schedule
            if not schedule.enabled:
                report.line(True, "doctor.schedule_off", district=district.code)
                continue
            last = session.scalar(
                select(ScheduledPeriod.period)
                .where(ScheduledPeriod.district_id == district.id)
                .order_by(ScheduledPeriod.id.desc())
                .limit(1)
            )
            report.line(
                True,
                "doctor.schedule_on",
                district=district.code,
                weekday=WEEKDAYS[schedule.weekday],
                time=schedule.time,
                tz=district.timezone,
                publish=schedule.publish,
                last=last or "-",
            )


def _notifications(report: Report) -> None:
    """Notification channels come from MATCHER_* settings; list the ones this build knows of."""
    settings = get_settings()
    names = sorted(n for n in type(settings).model_fields if any(w in n for w in ("smtp", "notify", "wecom")))
    detail = ", ".join(f"{n}={'set' if getattr(settings, n) else 'unset'}" for n in names) or "-"
    report.line(True, "doctor.notifications", detail=detail)
