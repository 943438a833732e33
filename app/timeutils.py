"""The one definition of time for the platform.

Everything is stored in UTC (naive ``datetime`` values meaning UTC, so SQLite and PostgreSQL
agree). "Today", "this week" and the ``YYYY-Www`` key are defined here in Asia/Shanghai, and
every service takes ``now`` as a parameter so tests never sleep or patch the clock.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WEEK_KEY_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (the storage convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) or aware datetime, in Asia/Shanghai."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ)


def to_utc(value: datetime) -> datetime:
    """An aware datetime, or a naive one meaning Asia/Shanghai local time, as naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def local_day(now: datetime) -> date:
    """The Asia/Shanghai calendar day that contains the UTC instant ``now``."""
    return to_local(now).date()


def day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local day, in naive UTC."""
    start = to_utc(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def week_key(day_or_now: date | datetime) -> str:
    """ISO week key ``YYYY-Www`` of a local day, or of the local day containing a UTC instant.

    The key turns over at Monday 00:00 Asia/Shanghai, which is Sunday 16:00 UTC (QUALITY E23).
    """
    day = local_day(day_or_now) if isinstance(day_or_now, datetime) else day_or_now
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week_key(key: str) -> date:
    """Monday (local date) of an ISO week key; ValueError for anything but ``YYYY-Www``."""
    match = WEEK_KEY_RE.match(key or "")
    if not match:
        raise ValueError("week must look like YYYY-Www")
    year, week = int(match.group(1)), int(match.group(2))
    if not 2000 <= year <= 2099:
        # Far years overflow date arithmetic (week ends, previous weeks) into 500s (A22); the
        # platform has nothing to show outside this century anyway.
        raise ValueError(f"week out of range: {key}")
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise ValueError(f"no such ISO week: {key}") from exc


def week_bounds_utc(key: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local of an ISO week, in naive UTC."""
    monday = parse_week_key(key)
    start, _ = day_bounds_utc(monday)
    return start, start + timedelta(days=7)


def week_days(key: str) -> list[date]:
    monday = parse_week_key(key)
    return [monday + timedelta(days=i) for i in range(7)]


def previous_weeks(key: str, count: int) -> list[str]:
    """``count`` week keys ending with ``key``, oldest first."""
    monday = parse_week_key(key)
    return [week_key(monday - timedelta(weeks=i)) for i in range(count - 1, -1, -1)]


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """Naive UTC instant of a local wall-clock time on a local day."""
    return to_utc(datetime.combine(day, time(hour, minute)))
