"""The ledger's daily job (registered when app/scheduler.py loads the feature jobs): remind the
people responsible for overdue items and escalate 督办令 that units left unanswered. Both are
idempotent per item and per target (conditional UPDATEs), so the catch-up at scheduler start, a
rerun and a second scheduler send nothing twice."""
from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from .. import clock
from ..db import db
from ..jobguard import register
from .services import escalate_orders, remind_overdue

log = logging.getLogger("scheduler.ledger")


def run_daily(session, now) -> tuple[int, int]:
    """(reminders sent, units escalated); the caller commits."""
    return remind_overdue(session, now), escalate_orders(session, now)


@register("ledger_daily", CronTrigger(hour=8, minute=30, timezone="Asia/Shanghai"))
def ledger_daily_job(app: Flask):
    with app.app_context():
        reminded, escalated = run_daily(db.session, clock.now())
        db.session.commit()
        log.info("ledger: %d overdue reminders, %d orders escalated", reminded, escalated)
        return reminded, escalated
