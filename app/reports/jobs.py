"""Scheduled report work: snapshot each week once it has closed (app/reports/snapshots.py)."""
from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from .. import clock
from ..db import db
from ..exams.services import sweep_overdue
from ..jobguard import register
from . import snapshots

log = logging.getLogger("scheduler.reports")


@register("report_snapshots", CronTrigger(day_of_week="mon", hour=3, minute=30, timezone="Asia/Shanghai"))
def snapshot_job(app: Flask) -> list[str]:
    """Finish overdue attempts first (a snapshot never shows one as pending), then snapshot
    every closed week of the last twelve that has none. Idempotent; also the catch-up."""
    with app.app_context():
        now = clock.now()
        sweep_overdue(db.session, now)
        db.session.commit()
        taken = snapshots.take_missing(db.session, now)
        db.session.commit()
    if taken:
        log.info("report snapshots taken: %s", ", ".join(taken))
    return taken
