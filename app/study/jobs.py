"""Scheduled study jobs (registered when app/scheduler.py loads the feature jobs)."""
from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from ..db import db
from ..jobguard import register
from .. import clock
from ..timeutils import week_key
from .flags import detect_flags


@register("study_detect_flags", CronTrigger(hour=5, minute=30, timezone="Asia/Shanghai"))
def detect_flags_job(app: Flask) -> None:
    """Every morning after the 01:00–05:00 window: flag this week so far and last week (whose
    Sunday night ended after the previous run). Idempotent, so the catch-up at scheduler start
    and a rerun add nothing twice."""
    with app.app_context():
        now = clock.now()
        for week in sorted({week_key(now - timedelta(days=7)), week_key(now)}):
            detect_flags(db.session, week, now)
            db.session.commit()
