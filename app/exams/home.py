"""What the officer's home page shows about this week's exam."""
from __future__ import annotations

from ..exams import queries, services


def home_context(session, user, now) -> dict:
    """``exam_card``: this week's exam and the officer's attempt, or None before it exists."""
    exam, attempt, can_start = services.this_week(session, user, now)
    if exam is None:
        return {"exam_card": None}
    return {"exam_card": {"exam": exam, "attempt": attempt, "status": queries.exam_status(exam, now),
                          "can_start": can_start}}
