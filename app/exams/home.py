"""What the officer's home page shows about this week's exam."""
from __future__ import annotations

from ..exams import practice, queries, services


def home_context(session, user, now) -> dict:
    """``exam_card``: this week's exam and the officer's attempt, or None before it exists;
    ``practice_card``: today's 每日一练 progress, streak and questions mastered."""
    exam, attempt, can_start = services.this_week(session, user, now)
    card = None if exam is None else {"exam": exam, "attempt": attempt, "status": queries.exam_status(exam, now),
                                      "can_start": can_start}
    return {"exam_card": card, "practice_card": practice.summary(session, user.id, now)}
