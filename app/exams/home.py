"""What the officer's home page shows about this week's exam (filled by the exam feature)."""
from __future__ import annotations


def home_context(session, user, now) -> dict:
    return {}
