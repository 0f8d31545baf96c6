"""``matcher doctor``: what is wrong with this deployment and how to fix it (Chinese and English)."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from urllib.parse import urlsplit

import typer
from sqlalchemy import make_url, select, text

from app import migrate
from app.db import get_engine, get_sessionmaker, is_sqlite
from app.domain.enums import NotificationChannel
from app.i18n import t
from app.models import District, Member, ScheduledPeriod
from app.services.district_settings import effective
from app.settings import NotifySettings, get_settings

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
    _notifications(report, url)
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


def _notifications(report: Report, url: str) -> None:
    """Each channel members would be told through (issue 9) must be able to deliver: the SMTP
    server answers when mail is used, the gateway URL is set when the webhook channel (the
    district's messaging or SMS gateway) is used, and links point somewhere members can open."""
    cfg = NotifySettings()
    if not cfg.notify_enabled:
        report.line(True, "doctor.notify_off")
        return
    used = _channels_in_use(url, cfg)
    report.line(True, "doctor.notify_channels", channels=", ".join(sorted(used)))
    if NotificationChannel.EMAIL in used:
        _smtp(report, cfg)
    if NotificationChannel.WEBHOOK in used:
        gateway = cfg.notify_webhook_url or ""
        ok = urlsplit(gateway).scheme in ("http", "https") and bool(urlsplit(gateway).netloc)
        report.line(ok, "doctor.webhook_ok" if ok else "doctor.webhook_fix", url=_without_query(gateway) or "-")
    if used - {NotificationChannel.LOG}:
        local = urlsplit(cfg.public_base_url).hostname in ("127.0.0.1", "localhost", "::1")
        key = "doctor.base_url_fix" if local else "doctor.base_url_ok"
        report.line(not local, key, url=cfg.public_base_url)


def _channels_in_use(url: str, cfg: NotifySettings) -> set[NotificationChannel]:
    """The default channel and every channel an active member would be told through (``channel_for``)."""
    default = NotificationChannel(cfg.notify_default_channel)
    used = {default}
    with get_sessionmaker(url)() as session:
        rows = session.execute(
            select(Member.preferred_channel, Member.email.is_not(None)).where(Member.active.is_(True)).distinct()
        )
        for preferred, has_email in rows:
            used.add(
                NotificationChannel(preferred) if preferred else NotificationChannel.EMAIL if has_email else default
            )
    return used


def _smtp(report: Report, cfg: NotifySettings) -> None:
    """Open an SMTP session (greeting and NOOP, nothing sent) with the dispatcher's settings."""
    where = f"{cfg.smtp_host}:{cfg.smtp_port}"
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=min(cfg.notify_timeout_s, 5.0)) as smtp:
            smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        report.line(False, "doctor.smtp_fix", where=where, error=type(exc).__name__)
        return
    report.line(True, "doctor.smtp_ok", where=where)
    if cfg.smtp_user and not cfg.smtp_password:
        report.line(False, "doctor.smtp_password_fix", user=cfg.smtp_user)


def _without_query(url: str) -> str:
    """Robot URLs carry their secret in the query (``?key=``): never print it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url[:40]
