"""The notification centre: an officer's reminders and notices, newest first."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from .. import clock
from ..auth.access import signed_in
from ..db import db
from ..models import Notification

bp = Blueprint("notices", __name__)


def unread_count(session, user_id: int) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


@bp.route("/")
@signed_in
def index():
    rows = db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                              .order_by(Notification.id.desc()).limit(100)).all()
    return render_template("notices/index.html", rows=rows)


@bp.route("/read", methods=["POST"])
@signed_in
def mark_read():
    """Mark all of the caller's notices read (a POST: a GET never changes state)."""
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                   Notification.read_at.is_(None)).values(read_at=clock.now()))
    db.session.commit()
    return redirect(url_for("notices.index"))


def init_app(app) -> None:
    @app.context_processor
    def _unread():
        """Unread count for the tab bar badge: one small indexed query, officers only."""
        if current_user.is_authenticated and current_user.role == "officer" and not current_user.must_change_password:
            return {"unread_notices": unread_count(db.session, current_user.id)}
        return {"unread_notices": 0}
