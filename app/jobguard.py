"""Exactly-once guard for periodic work (QUALITY L3, L4): a job claims (job_name, period_key)
by inserting a row under a unique key; whoever loses the insert knows it is already done."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import JobRun


def claim(session: Session, job_name: str, period_key: str, now: datetime, detail: str = "") -> bool:
    """True if this caller now owns the period; False if someone already did it."""
    try:
        with session.begin_nested():
            session.add(JobRun(job_name=job_name, period_key=period_key, started_at=now, detail=detail[:255]))
            session.flush()
    except IntegrityError:
        return False
    return True
