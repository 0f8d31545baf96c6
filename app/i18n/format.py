"""One way to show dates and times to people: Beijing time, in the catalogue's words.

``format_datetime(dt)`` -> ``2026年12月7日 周一 09:00``. Stored timestamps are UTC (SQLite returns
them naive); they are shown in Asia/Shanghai, the district's time, whatever the server's zone.
"""

from __future__ import annotations

from datetime import date, datetime

from app.domain.times import LOCAL_TZ, from_storage
from app.i18n import t

__all__ = ["LOCAL_TZ", "format_date", "format_datetime", "format_time", "to_local"]
to_local = from_storage  # a stored (UTC, possibly naive) timestamp as Beijing time


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
