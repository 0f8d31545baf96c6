"""Local time of the service: Asia/Shanghai (China has one time zone and no DST since 1991).

Stored timestamps are UTC; people and offices speak Beijing wall-clock time. These helpers are
the one place that converts between the two, for every layer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

try:
    from zoneinfo import ZoneInfo

    LOCAL_TZ: Any = ZoneInfo("Asia/Shanghai")
except Exception:  # noqa: BLE001 - no tz database: China has had no DST since 1991
    LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def localize(dt: datetime) -> datetime:
    """Naive input is Asia/Shanghai wall-clock time."""
    return dt.replace(tzinfo=LOCAL_TZ) if dt.tzinfo is None else dt


def to_utc(dt: datetime) -> datetime:
    """A time people gave (naive = Beijing time) as aware UTC."""
    return localize(dt).astimezone(UTC)


def stored_utc(dt: datetime) -> datetime:
    """A stored timestamp as aware UTC: stored times are UTC and SQLite hands them back naive."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def from_storage(dt: datetime) -> datetime:
    """A stored timestamp in Beijing time, for people."""
    return stored_utc(dt).astimezone(LOCAL_TZ)


def to_local_naive(dt: datetime) -> datetime:
    """A stored timestamp as naive Beijing wall-clock time (what the pure solver works in)."""
    return from_storage(dt).replace(tzinfo=None)


def today_local() -> date:
    """Today's date in Beijing (the district's calendar, whatever the server's zone)."""
    return datetime.now(LOCAL_TZ).date()
