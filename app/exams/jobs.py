"""Scheduled exam work: build this week's exam, finish overdue attempts, remind mid-week.

Each job is idempotent, can be run by hand (``flask --app wsgi exam …``), and runs once at
scheduler start to catch up on whatever was missed (QUALITY L4): only the current week is
built, however many weeks were missed.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import select

from .. import audit, clock
from ..db import db
from ..models import Attempt, User
from ..notices import reminders
from ..jobguard import claim, register
from ..timeutils import parse_week_key, to_utc, week_key
from . import services
from .blueprints import BlueprintError

log = logging.getLogger("scheduler.exams")
#: Mid-week reminder: Wednesday 12:00 Asia/Shanghai.
REMINDER_OFFSET = timedelta(days=2, hours=12)


def ensure_weekly_exam(session, now: datetime) -> str:
    week = week_key(now)
    try:
        exam, created = services.create_weekly_exam(session, week, now)
    except BlueprintError as err:
        audit.record(session, "exam.create_failed", actor_name="scheduler", target_type="week", target_id=week,
                     detail="; ".join(err.reasons))
        log.error("exam for %s not built: %s", week, err)
        return "failed"
    log.info("exam %s %s", week, "created" if created else "already done")
    return "created" if created else "exists"


def send_reminders(session, now: datetime) -> int:
    """Remind officers who have not taken this week's exam, once per week, after Wednesday noon;
    returns how many were reminded (not those a supervisor already reminded of it today)."""
    week = week_key(now)
    monday = to_utc(datetime.combine(parse_week_key(week), datetime.min.time()))
    exam = services.exam_for_week(session, week)
    if exam is None or now < monday + REMINDER_OFFSET or now >= exam.closes_at:
        return 0
    if not claim(session, "exam_reminder", week, now):
        return 0
    took = select(Attempt.user_id).where(Attempt.exam_id == exam.id)
    officers = list(session.scalars(select(User.id).where(User.role == "officer", User.is_active.is_(True),
                                                          User.id.not_in(took))))
    # Through the once-a-day key: an officer a supervisor already reminded today is skipped.
    sent, _skipped = reminders.send(session, reminders.REMINDERS["exam_not_taken"], officers, week, now,
                                    body=f"{exam.title}将于周日 22:00 截止，请抽空完成。")
    return sent


def _in_app(app: Flask, fn):
    with app.app_context():
        result = fn(db.session, clock.now())
        db.session.commit()
        return result


@register("weekly_exam", CronTrigger(day_of_week="mon", hour=0, minute=5, timezone="Asia/Shanghai"))
def weekly_exam_job(app: Flask):
    return _in_app(app, ensure_weekly_exam)


@register("sweep_overdue", CronTrigger(minute="*", timezone="Asia/Shanghai"))
def sweep_job(app: Flask):
    return _in_app(app, services.sweep_overdue)


@register("exam_reminder", CronTrigger(day_of_week="wed", hour=12, minute=0, timezone="Asia/Shanghai"))
def reminder_job(app: Flask):
    return _in_app(app, send_reminders)
