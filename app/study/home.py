"""What the officer's home page shows about study: today's progress toward the daily target
(first on the page), where they stopped, this week and the streak."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import User
from ..timeutils import local_day
from . import queries
from .labels import labels


def home_context(session: Session, user: User, now: datetime) -> dict:
    summary = queries.progress_summary(session, user, local_day(now), now)
    items, required_left, resume = queries.home_rows(session, user, now)
    return {
        "study": {**summary, "resume": resume, "items": items, "required_left": required_left},
        **labels(),
    }
