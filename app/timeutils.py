"""The one definition of time for the platform.

Everything is stored in UTC (naive ``datetime`` values meaning UTC, so SQLite and PostgreSQL
agree). "Today", "this week" and the ``YYYY-Www`` key are defined here in Asia/Shanghai, and
every service takes ``now`` as a parameter so tests never sleep or patch the clock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: ``YYYY-Www`` and ``YYYY-MM`` in ASCII digits, matched whole (``fullmatch``): ``\d`` and ``$``
#: would let full-width digits (int("４９") is 49) and a trailing newline through (A36).
WEEK_KEY_RE = re.compile(r"([0-9]{4})-W([0-9]{2})", re.ASCII)
MONTH_KEY_RE = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
#: A day ``YYYY-MM-DD`` and the minute ``YYYY-MM-DDTHH:MM`` an ``<input type="datetime-local">``
#: sends (HTML allows a space for the T), in ASCII digits, matched whole. Not strptime or
#: fromisoformat: strptime takes full-width digits ("1９" is the 19th) and single digits,
#: fromisoformat takes "20260319" and "2026-W11-1", and both take year 0001, which overflows
#: the local/UTC conversion (A36).
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
#: An ISO 8601 instant as ``datetime.isoformat()`` writes it into stored JSON (audit details):
#: ``2026-12-02T14:00`` with optional seconds, fraction and offset; searched, not matched whole.
ISO_INSTANT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([+-][0-9]{2}:[0-9]{2})?")
LOCAL_MINUTE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})", re.ASCII)
#: Years a week or month from outside (query string, CLI option) may name: the platform has
#: nothing to show outside this century, and far years (0001, 9999) overflow date arithmetic.
REQUEST_YEARS = range(2000, 2100)
#: Years any key may name once inside: a request's week plus the weeks computed from it (the
#: dashboard's trend of 2000-W01 reaches back into 1999), far from date's limits.
KEY_YEARS = range(1900, 2200)


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (the storage convention)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def to_local(value: datetime) -> datetime:
    """A stored (naive UTC) or aware datetime, in Asia/Shanghai."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ)


def utc_iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) instant as ISO 8601 with ``Z``, as the JSON API writes every instant."""
    return None if value is None else value.isoformat() + "Z"


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
    """Monday (local date) of an ISO week key; ValueError for anything but exactly ``YYYY-Www``
    (ASCII digits) naming a real ISO week (not W00, not W53 of a 52-week year) of KEY_YEARS."""
    match = WEEK_KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if not match:
        raise ValueError("week must look like YYYY-Www")
    year, week = int(match.group(1)), int(match.group(2))
    if year not in KEY_YEARS:
        raise ValueError(f"week out of range: {key}")
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise ValueError(f"no such ISO week: {key}") from exc


def parse_week_arg(raw: str | None) -> str:
    """A week key given from outside (a query string, a CLI option), rebuilt from its numbers so
    nothing but ``YYYY-Www`` in ASCII reaches a query, a page or a header (A36). ValueError unless
    parse_week_key accepts it and its ISO year is in REQUEST_YEARS. The one check for a week given
    from outside: routes and commands call it, never parse_week_key alone."""
    monday = parse_week_key(raw)
    if monday.isocalendar()[0] not in REQUEST_YEARS:  # the key's own (ISO) year
        raise ValueError(f"week out of range: {raw}")
    return week_key(monday)


def parse_month_arg(raw: str | None) -> date:
    """First day of a ``YYYY-MM`` month given from outside; ValueError unless exactly that, in
    ASCII digits, with a month 01–12 and a year in REQUEST_YEARS (A36)."""
    match = MONTH_KEY_RE.fullmatch(raw) if isinstance(raw, str) else None
    if not match:
        raise ValueError("month must look like YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if year not in REQUEST_YEARS or not 1 <= month <= 12:
        raise ValueError(f"month out of range: {raw}")
    return date(year, month, 1)


def parse_date_arg(raw: str | None) -> date:
    """A calendar day given from outside (a query string, a form, a CLI option); ValueError unless
    exactly ``YYYY-MM-DD`` in ASCII digits naming a real day of REQUEST_YEARS (A36). The one check
    for a day from outside: routes, forms and commands call it, never strptime or fromisoformat."""
    match = DATE_RE.fullmatch(raw) if isinstance(raw, str) else None
    if not match:
        raise ValueError("date must look like YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    if year not in REQUEST_YEARS:
        raise ValueError(f"date out of range: {raw}")
    return date(year, month, day)  # ValueError for 2026-02-30 or month 13


def parse_datetime_local_arg(raw: str | None) -> datetime:
    """A local (Asia/Shanghai) wall-clock minute given from outside, as ``<input
    type="datetime-local">`` sends it: exactly ``YYYY-MM-DDTHH:MM`` (or a space for the T) in ASCII
    digits, a real day of REQUEST_YEARS and a real time; ValueError otherwise (A36). Returns a
    naive datetime meaning local time (pass it to to_utc); within those years no conversion
    overflows. The one check for a time from outside, as parse_date_arg is for a day."""
    match = LOCAL_MINUTE_RE.fullmatch(raw) if isinstance(raw, str) else None
    if not match:
        raise ValueError("time must look like YYYY-MM-DDTHH:MM")
    year, month, day, hour, minute = (int(part) for part in match.groups())
    if year not in REQUEST_YEARS:
        raise ValueError(f"time out of range: {raw}")
    return datetime(year, month, day, hour, minute)  # ValueError for day 32, hour 24, minute 60


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


def week_span(key: str) -> tuple[int, date, date]:
    """(ISO week number, Monday, Sunday) of a week key: what a person reads as 第N周（MM-DD～MM-DD）.
    Pages and printed reports show weeks through the ``week_label`` template filter (app/web.py),
    which formats these parts; APIs and file names keep the ISO key."""
    monday = parse_week_key(key)
    return monday.isocalendar()[1], monday, monday + timedelta(days=6)


@dataclass(frozen=True)
class WeekProgress:
    """Where the instant ``now`` stands against an ISO week, in Asia/Shanghai (issue 16).

    ``state``: "past" (the week has ended), "current" (``now`` falls inside it) or "future".
    ``as_of``: ``now`` as a local (aware) datetime. ``days_elapsed``: local days of the week
    already over (0 on Monday, 3 on Thursday, 7 for a past week, 0 for a future one).
    ``days_left``: whole local days after today until the week ends (3 on Thursday, 0 on
    Sunday; 0 for a past week, 7 for a future one)."""
    week: str
    state: str
    as_of: datetime
    days_elapsed: int
    days_left: int

    @property
    def in_progress(self) -> bool:
        return self.state == "current"


def week_progress(week: str, now: datetime) -> WeekProgress:
    """The one reading of "how far into ``week`` is it at ``now``" (``now`` naive UTC): pages,
    exports and the pro-rated study target (reports/figures.pace_target_seconds) all use it."""
    monday = parse_week_key(week)
    today = local_day(now)
    local = to_local(now)
    if today < monday:
        return WeekProgress(week, "future", local, 0, 7)
    if today > monday + timedelta(days=6):
        return WeekProgress(week, "past", local, 7, 0)
    elapsed = (today - monday).days
    return WeekProgress(week, "current", local, elapsed, 6 - elapsed)


def parse_stored_instant(text: str) -> datetime:
    """An instant the platform itself wrote as ``isoformat()`` (audit details, stored JSON), as
    naive UTC; ValueError unless ISO_INSTANT_RE matches it whole. Not for input from outside:
    those go through the parse_*_arg functions above."""
    if not isinstance(text, str) or not ISO_INSTANT_RE.fullmatch(text):
        raise ValueError("not a stored instant")
    moment = datetime.fromisoformat(text)
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
