"""The notification centre: reminders reach the officer, the badge counts unread, reading is a POST."""
from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.models import Notification


def test_reminder_shows_with_badge_and_marks_read(app, city, auth, clock):
    """A reminder appears in the officer's notices with an unread badge; marking read clears it."""
    with app.app_context():
        db.session.add(Notification(user_id=city.users["officer"], kind="exam_reminder", title="本周测试还未参加",
                                    body="请抽空完成。", link="/exams/", created_at=clock.now))
        db.session.add(Notification(user_id=city.users["officer2"], kind="exam_reminder", title="别人的提醒",
                                    created_at=clock.now))
        db.session.commit()
    c = app.test_client()
    auth.login(c, "officer")
    home = c.get("/me").get_data(as_text=True)
    assert "app-badge" in home and "1 条未读" in home
    page = c.get("/notices/").get_data(as_text=True)
    assert "本周测试还未参加" in page and "别人的提醒" not in page
    assert c.post("/notices/read").status_code == 302
    assert "app-badge" not in c.get("/me").get_data(as_text=True)
    with app.app_context():
        other = db.session.scalar(select(Notification).where(Notification.user_id == city.users["officer2"]))
        assert other.read_at is None
