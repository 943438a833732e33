"""Housekeeping jobs: expired login sessions are deleted after a week."""
from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app
from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from .db import db
from .models import AuthSession
from .jobguard import register
from . import clock


def purge_sessions(session: Session, now: datetime, absolute: timedelta) -> int:
    """Delete sessions revoked or expired more than 7 days before ``now``; returns the count."""
    cutoff = now - timedelta(days=7)
    result = session.execute(delete(AuthSession).where(or_(
        AuthSession.revoked_at < cutoff, AuthSession.created_at < cutoff - absolute)))
    return result.rowcount or 0


@register("purge_sessions", CronTrigger(hour=3, minute=30, timezone="Asia/Shanghai"))
def purge_sessions_job(app: Flask) -> None:
    with app.app_context():
        purge_sessions(db.session, clock.now(), current_app.config["SESSION_ABSOLUTE_TIMEOUT"])
        db.session.commit()
