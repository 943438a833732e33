"""The request's notion of "now": the real UTC clock, or a frozen one that tests install with
``app.config["CLOCK"] = lambda: datetime(...)``, or — in development, from the ``CLOCK_AT``
setting — the real clock shifted to start at a chosen local minute. Services never call this;
they take ``now``."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from .timeutils import parse_datetime_local_arg, to_utc, utcnow


def now() -> datetime:
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()


def running_from(local_minute: str):
    """A clock that reads ``local_minute`` (Asia/Shanghai, ``YYYY-MM-DD HH:MM``) now and runs on in
    real time: each process shifts the real clock by the same offset, so the seconds a heartbeat
    credits stay real seconds. ValueError for a value parse_datetime_local_arg refuses."""
    offset = to_utc(parse_datetime_local_arg(local_minute)) - utcnow()
    return lambda: utcnow() + offset
