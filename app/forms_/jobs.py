"""The forms' daily job (registered when app/scheduler.py loads the feature jobs): the deadline
reminders of app/forms_/remind.py. Idempotent by the reminders' once-a-day key, so the catch-up
at scheduler start, a rerun and a second scheduler send nothing twice."""
from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from .. import clock
from ..db import db
from ..jobguard import register
from .remind import remind

log = logging.getLogger("scheduler.forms")


@register("forms_remind", CronTrigger(hour=8, minute=30, timezone="Asia/Shanghai"))
def forms_remind_job(app: Flask):
    with app.app_context():
        result = remind(db.session, clock.now())
        db.session.commit()
        log.info("forms: %d deadline reminders sent, %d already reminded today", result["sent"], result["skipped"])
        return result
