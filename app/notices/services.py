"""Writes for notices: sending an announcement, marking a notice read. Services flush; the
request or command commits once."""
from __future__ import annotations

import html
from datetime import datetime

import nh3
from sqlalchemy import DateTime, Integer, String, Text, func, insert, literal, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..auth.scope import subtree_unit_ids, unit_in_scope
from ..models import AUDIENCES, BODY_FORMATS, Announcement, Notification, Unit, User
from ..study.sanitize import clean_html
from ..timeutils import to_local

EXCERPT_CHARS = 90
#: The notice an admin's password reset leaves the person (attack report F3b). An admin who
#: resets a password can sign in as that person; the reset is never silent: the notice stays in
#: their 消息, and their next sign-in and account page repeat it (``queries.password_resets``).
PASSWORD_RESET = "password_reset"


class AnnouncementError(ValueError):
    """A refused announcement; ``str(err)`` is a code the route turns into a message."""


def notify_password_reset(session: Session, user: User, now: datetime) -> None:
    """Tell ``user`` that an admin reset their password at ``now`` (naive UTC). Stored text, in
    Chinese like every notice's; the time is Asia/Shanghai."""
    when = to_local(now).strftime("%Y-%m-%d %H:%M")
    session.add(Notification(user_id=user.id, kind=PASSWORD_RESET, title="您的密码已由管理员重置",
                             body=f"您的密码已于 {when} 由管理员重置。如非本人申请，请立即联系纪检督察。",
                             link="/me", created_at=now))


def plain_text(body: str, body_format: str) -> str:
    """The words of a body without markup (for excerpts and length checks)."""
    if body_format == "html":
        body = html.unescape(nh3.clean(body or "", tags=set()))
    return " ".join((body or "").split())


def excerpt(body: str, body_format: str, limit: int = EXCERPT_CHARS) -> str:
    text = plain_text(body, body_format)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def recipients(target: Unit, audience: str, sender_id: int | None):
    """SELECT of the ids of active accounts in ``target``'s subtree that the audience takes."""
    stmt = select(User.id).where(User.unit_id.in_(subtree_unit_ids(target)), User.is_active.is_(True))
    if audience == "officers":
        stmt = stmt.where(User.role == "officer")
    if sender_id is not None:
        stmt = stmt.where(User.id != sender_id)
    return stmt


def send(session: Session, sender: User, *, title: str, body: str, body_format: str, target_unit_id: int,
         audience: str, now: datetime) -> Announcement:
    """Store an announcement and deliver it to every recipient in one INSERT … SELECT (a city of
    10,028 officers is one statement, not 10,028 ORM rows); audited once.

    The sender may address only units in their own scope (the city for the campaign office, the
    own subtree for a supervisor). Raises ``AnnouncementError`` (``scope``, ``empty``,
    ``bad_format``, ``bad_audience``, ``no_recipients``); the caller rolls back.
    """
    if body_format not in BODY_FORMATS:
        raise AnnouncementError("bad_format")
    if audience not in AUDIENCES:
        raise AnnouncementError("bad_audience")
    target = session.get(Unit, target_unit_id)
    if target is None or not target.is_active or not unit_in_scope(session, sender, target_unit_id):
        raise AnnouncementError("scope")
    title = (title or "").strip()[:120]
    body = clean_html(body) if body_format == "html" else (body or "").strip()
    if not title or not plain_text(body, body_format):
        raise AnnouncementError("empty")
    ann = Announcement(sender_id=sender.id, title=title, body=body, body_format=body_format,
                       target_unit_id=target.id, audience=audience, created_at=now)
    session.add(ann)
    session.flush()
    who = recipients(target, audience, sender.id).subquery()
    rows = select(who.c.id, literal("announcement", String), literal(title, String), literal(excerpt(body, body_format), Text),
                  literal(ann.id, Integer), literal(now, DateTime))
    result = session.execute(insert(Notification).from_select(
        ["user_id", "kind", "title", "body", "announcement_id", "created_at"], rows))
    count = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else session.scalar(
        select(func.count(Notification.id)).where(Notification.announcement_id == ann.id))
    if not count:
        raise AnnouncementError("no_recipients")
    ann.recipient_count = count
    session.flush()
    audit.record(session, "announcement.send", actor=sender, target=ann,
                 after={"title": title, "target_unit_id": target.id, "target_unit": target.name,
                        "audience": audience, "body_format": body_format, "recipients": count})
    return ann


def open_notice(session: Session, user: User, notice_id: int, now: datetime) -> Notification | None:
    """The caller's notice, marked read now if it was unread (the read receipt); None when it
    is not theirs. A second open keeps the first reading time."""
    session.execute(update(Notification).where(Notification.id == notice_id, Notification.user_id == user.id,
                                               Notification.read_at.is_(None)).values(read_at=now))
    return session.scalar(select(Notification).where(Notification.id == notice_id,
                                                     Notification.user_id == user.id))


def mark_all_read(session: Session, user: User, now: datetime) -> int:
    """Reminders only: an announcement counts as read when it is opened, so "all read" cannot
    turn into a read receipt for text nobody looked at."""
    result = session.execute(update(Notification).where(Notification.user_id == user.id,
                                                        Notification.announcement_id.is_(None),
                                                        Notification.read_at.is_(None)).values(read_at=now))
    return result.rowcount or 0
