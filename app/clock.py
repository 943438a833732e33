"""The request's notion of "now": the real UTC clock, or a frozen one that tests install with
``app.config["CLOCK"] = lambda: datetime(...)``. Services never call this; they take ``now``."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from .timeutils import utcnow


def now() -> datetime:
    clock = current_app.config.get("CLOCK")
    return clock() if clock else utcnow()
