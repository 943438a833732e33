"""Periodic work: the registry of scheduled jobs, and the exactly-once guard (QUALITY L3, L4): a
job claims (job_name, period_key) by inserting a row under a unique key; whoever loses the
insert knows it is already done. Features register their jobs here; app/scheduler.py runs them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import JobRun


@dataclass(frozen=True)
class Job:
    name: str
    trigger: CronTrigger
    #: ``func(app)``: runs the job in its own app context and commits.
    func: Callable[[Flask], object]
    #: Run once at scheduler start to do whatever a missed run left undone.
    catch_up: bool = True


JOBS: list[Job] = []


def register(name: str, trigger: CronTrigger, catch_up: bool = True):
    """Decorator: add ``func(app)`` to JOBS under ``name`` (feature jobs modules use it)."""
    def decorate(func):
        JOBS.append(Job(name, trigger, func, catch_up))
        return func

    return decorate


def claim(session: Session, job_name: str, period_key: str, now: datetime, detail: str = "") -> bool:
    """True if this caller now owns the period; False if someone already did it."""
    try:
        with session.begin_nested():
            session.add(JobRun(job_name=job_name, period_key=period_key, started_at=now, detail=detail[:255]))
            session.flush()
    except IntegrityError:
        return False
    return True
