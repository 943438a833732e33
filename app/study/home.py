"""What the officer's home page shows about study (filled by the study feature)."""
from __future__ import annotations


def home_context(session, user, now) -> dict:
    return {}
