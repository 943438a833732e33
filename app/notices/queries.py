"""Reads for notices: a person's own notices, and announcements with their read receipts.

Receipts are always counted through the unit-scope helper (ARCHITECTURE rule 8): the campaign
office sees the whole city, a supervisor only the people of their own subtree, whoever sent the
announcement. People are counted by the unit they belong to now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from ..auth.scope import overlaps_scope, people_in_scope, units_in_scope
from ..models import Announcement, Notification, Unit, User
from .services import PASSWORD_RESET


@dataclass(frozen=True)
class Receipt:
    """Recipients and readers of one announcement among the people a viewer may see."""
    recipients: int = 0
    read: int = 0

    @property
    def unread(self) -> int:
        return self.recipients - self.read

    @property
    def rate(self) -> float | None:
        """Read rate 0–1; None when nobody in scope received it."""
        return self.read / self.recipients if self.recipients else None


def own_notices(session: Session, user: User, limit: int = 100) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    """The badge: notices neither read nor resolved (a reminder whose thing is done is not news)."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None), Notification.resolved_at.is_(None))) or 0


def password_resets(session: Session, user_id: int, since: datetime | None = None, limit: int = 5) -> list[datetime]:
    """When admins reset this person's password (``services.PASSWORD_RESET`` notices, read or
    not: marking them read hides nothing), newest first, after ``since`` when given."""
    stmt = select(Notification.created_at).where(Notification.user_id == user_id, Notification.kind == PASSWORD_RESET)
    if since is not None:
        stmt = stmt.where(Notification.created_at > since)
    return list(session.scalars(stmt.order_by(Notification.created_at.desc()).limit(limit)))


def own_notice(session: Session, user: User, notice_id: int) -> Notification | None:
    return session.scalar(select(Notification).where(Notification.id == notice_id, Notification.user_id == user.id))


def target_choices(session: Session, viewer: User) -> list[tuple[int, str]]:
    """Units the viewer may address, tree order, indented; the scope's root first."""
    rows = session.execute(select(Unit.id, Unit.name, Unit.depth).where(
        Unit.id.in_(units_in_scope(session, viewer)), Unit.is_active.is_(True)).order_by(Unit.path)).all()
    top = min((depth for _i, _n, depth in rows), default=0)
    return [(uid, "\u3000" * (depth - top) + name) for uid, name, depth in rows]


def announcements_page(session: Session, viewer: User, view: str, page: int, per_page: int):
    """``mine``: what the viewer sent. ``others``: what others sent that reaches the viewer's
    scope (for the campaign office, everything else). Newest first; (rows, total) where a row is
    (announcement, target unit, sender or None)."""
    target, sender = aliased(Unit), aliased(User)
    stmt = (select(Announcement, target, sender).join(target, target.id == Announcement.target_unit_id)
            .outerjoin(sender, sender.id == Announcement.sender_id))
    if view == "mine":
        stmt = stmt.where(Announcement.sender_id == viewer.id)
    else:
        stmt = stmt.where(or_(Announcement.sender_id.is_(None), Announcement.sender_id != viewer.id),
                          overlaps_scope(session, viewer, target.path))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.order_by(Announcement.created_at.desc(), Announcement.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return [tuple(r) for r in rows], total


def receipts(session: Session, viewer: User, announcement_ids: list[int]) -> dict[int, Receipt]:
    """Recipients and readers per announcement, among the people in the viewer's scope: one
    grouped query for the whole page."""
    if not announcement_ids:
        return {}
    rows = session.execute(
        select(Notification.announcement_id, func.count(Notification.id), func.count(Notification.read_at))
        .join(User, User.id == Notification.user_id)
        .where(Notification.announcement_id.in_(announcement_ids),
               people_in_scope(session, viewer))
        .group_by(Notification.announcement_id)).all()
    return {aid: Receipt(total, read) for aid, total, read in rows}


def viewable_announcement(session: Session, viewer: User, announcement_id: int):
    """(announcement, target unit, sender) if the viewer sent it or it reaches their scope."""
    target, sender = aliased(Unit), aliased(User)
    row = session.execute(select(Announcement, target, sender).join(target, target.id == Announcement.target_unit_id)
                          .outerjoin(sender, sender.id == Announcement.sender_id)
                          .where(Announcement.id == announcement_id)).first()
    if row is None:
        return None
    ann, unit, _sender = row
    if ann.sender_id == viewer.id:
        return tuple(row)
    if not overlaps_scope(session, viewer, unit.path):
        return None
    return tuple(row)


def _unread_in_scope(session: Session, viewer: User, announcement_id: int):
    return (Notification.announcement_id == announcement_id, Notification.read_at.is_(None),
            people_in_scope(session, viewer))


def unread_people(session: Session, viewer: User, announcement_id: int, page: int, per_page: int):
    """Who in the viewer's scope has not opened it: (rows, total), a row being (name, badge_no or
    username, role, unit name); grouped by unit (ordered by the unit's path), then by name."""
    where = _unread_in_scope(session, viewer, announcement_id)
    total = session.scalar(select(func.count(Notification.id)).join(User, User.id == Notification.user_id)
                           .where(*where)) or 0
    rows = session.execute(
        select(User.name, func.coalesce(User.badge_no, User.username), User.role, Unit.name)
        .select_from(Notification).join(User, User.id == Notification.user_id).join(Unit, Unit.id == User.unit_id)
        .where(*where).order_by(Unit.path, User.name, User.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    return [tuple(r) for r in rows], total


def units_behind(session: Session, viewer: User, announcement_id: int, limit: int = 10) -> list[tuple[str, Receipt]]:
    """The units (people's own units) with the lowest read rate, for chasing: (unit name, receipt)."""
    rows = session.execute(
        select(Unit.name, func.count(Notification.id), func.count(Notification.read_at))
        .select_from(Notification).join(User, User.id == Notification.user_id).join(Unit, Unit.id == User.unit_id)
        .where(Notification.announcement_id == announcement_id, people_in_scope(session, viewer))
        .group_by(Unit.id, Unit.name, Unit.path)
        .having(func.count(Notification.id) > func.count(Notification.read_at))
        .order_by((func.count(Notification.read_at) * 1.0 / func.count(Notification.id)), Unit.path)
        .limit(limit)).all()
    return [(name, Receipt(total, read)) for name, total, read in rows]
