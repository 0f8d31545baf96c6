"""One way to show dates and times to people: Beijing time, in the catalogue's words.

``format_datetime(dt)`` -> ``2026年12月7日 周一 09:00``. Stored timestamps are UTC (SQLite returns
them naive); they are shown in Asia/Shanghai, the district's time, whatever the server's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from app.i18n import t

try:
    from zoneinfo import ZoneInfo

    LOCAL_TZ: Any = ZoneInfo("Asia/Shanghai")
except Exception:  # noqa: BLE001 - no tz database: China has had no DST since 1991
    LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def to_local(value: datetime) -> datetime:
    """A stored (UTC, possibly naive) timestamp as Beijing time."""
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(LOCAL_TZ)


def format_date(value: date | datetime | None, locale: str | None = None) -> str:
    if value is None:
        return "—"
    day = to_local(value).date() if isinstance(value, datetime) else value
    weekday = t(f"fmt.weekday.{day.weekday()}", locale)
    return t("fmt.date", locale, year=day.year, month=day.month, day=day.day, weekday=weekday)


def format_datetime(value: datetime | None, locale: str | None = None) -> str:
    if value is None:
        return "—"
    local = to_local(value)
    return t("fmt.datetime", locale, date=format_date(local.date(), locale), time=local.strftime("%H:%M"))


def format_time(value: datetime | None) -> str:
    return "—" if value is None else to_local(value).strftime("%H:%M")
