"""What the home page shows about forms: how many the person still has to fill."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import User
from . import queries


def home_context(session: Session, user: User, now: datetime) -> dict:
    rows = queries.forms_for(session, user)
    pending = [form for form, sub in rows if queries.to_do(form, sub, now)]
    return {"forms_card": {"total": len(rows), "pending": len(pending),
                           "overdue": sum(1 for form in pending if queries.is_overdue(form, now)),
                           "next": pending[0] if pending else None}}
