"""What the officer's home page shows about this week's exam."""
from __future__ import annotations

from ..exams import queries, services


def home_context(session, user, now) -> dict:
    """``exam_card``: this week's exam and the officer's attempt, or None before it exists."""
    exam = services.exam_for_week(session, services.current_week(now))
    if exam is None:
        return {"exam_card": None}
    attempt = services.find_attempt(session, exam.id, user.id)
    return {"exam_card": {"exam": exam, "attempt": attempt, "status": queries.exam_status(exam, now),
                          "can_start": attempt is None and services.is_open_for(session, exam, user, now)}}
