"""Demo question bank, exams and history (filled by the exam feature)."""
from __future__ import annotations


def load_content(session, now) -> dict:
    return {}


def seed_activity(session, now, officer_ids, weeks, rng) -> None:
    return None
