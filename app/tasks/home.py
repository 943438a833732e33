"""What the officer's home page shows about the campaign: the current stage, what it asks of
them and how far they are."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import User
from ..timeutils import local_day
from . import queries


def home_context(session: Session, user: User, now: datetime) -> dict:
    today = local_day(now)
    stage = queries.current_stage(session, today)
    rows = queries.task_rows(session, user, now, today, stage.id if stage else None) if stage else []
    return {
        "campaign": {
            "stage": stage,
            "stages": queries.stages(session),
            "total": len(rows),
            "done": sum(1 for r in rows if r.done),
            "returned": sum(1 for r in rows if r.status == "returned"),
            "overdue": sum(1 for r in rows if r.overdue),
            "next": next((r for r in rows if not r.done), None),
            "today": today,
        }
    }
