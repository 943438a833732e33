"""In-app notifications (reminders, task returns) and announcements with read receipts (issue #6)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utc_now

AUDIENCES = ("officers", "all")
BODY_FORMATS = ("text", "html")


class Announcement(Base):
    """A notice (通知公告) from the campaign office to the city or any subtree, or from a supervisor
    to their own subtree. Delivered once, at send time, as one ``Notification`` per recipient;
    read receipts are those rows' ``read_at``."""

    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint("audience IN ('officers', 'all')", name="audience"),
        CheckConstraint("body_format IN ('text', 'html')", name="body_format"),
        Index("ix_announcements_sender_created", "sender_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    #: Plain text, or HTML already cleaned by ``app.study.sanitize.clean_html`` when stored.
    body: Mapped[str] = mapped_column(Text, default="")
    body_format: Mapped[str] = mapped_column(String(8), default="text")
    #: Root of the subtree addressed; the city root unit means the whole city.
    target_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    #: ``officers`` (干警 only) or ``all`` (every active account in the subtree but the sender).
    audience: Mapped[str] = mapped_column(String(10), default="officers")
    #: Notifications written at send time (people who joined the subtree later do not get it).
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        # One delivery per person per announcement; reminders (NULL) are not limited by it.
        UniqueConstraint("announcement_id", "user_id", name="uq_notifications_announcement_user"),
        # A reminder of one kind reaches a person at most once per local day, whoever sends it
        # (issue #16): senders insert with ON CONFLICT DO NOTHING on this key. Other notices
        # have no ``remind_day`` (NULL), which a unique index never compares equal.
        Index("uq_notifications_user_kind_remind_day", "user_id", "kind", "remind_day", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: ``exam_reminder``, ``study_reminder``, ``task_returned``, ``announcement`` …
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(120))
    #: For an announcement, a short plain-text excerpt; the full text stays on the announcement.
    body: Mapped[str] = mapped_column(Text, default="")
    #: A same-site path to open, e.g. ``/exams``.
    link: Mapped[str | None] = mapped_column(String(200))
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column()
    #: The Asia/Shanghai day a reminder was sent; NULL for every other notice. The once-a-day key.
    remind_day: Mapped[date | None] = mapped_column(Date)
    #: What the notice asks about, matched by the action that resolves it
    #: (``app.notices.reminders.resolve``): the ISO week of a weekly reminder, ``task:<id>``.
    subject: Mapped[str | None] = mapped_column(String(40))
    #: When the person did what the notice asked: shown as done, no longer unread.
    resolved_at: Mapped[datetime | None] = mapped_column()
