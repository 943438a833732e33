"""Reads for the admin pages."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..auth.scope import subtree_unit_ids
from ..models import AuditLog, Unit, User


def unit_tree(session: Session) -> list[Unit]:
    """Every unit in depth-first order (paths sort parents before children within siblings'
    order of creation; sort_order is applied per level by the template's indentation)."""
    units = session.scalars(select(Unit)).all()
    by_parent: dict[int | None, list[Unit]] = {}
    for u in units:
        by_parent.setdefault(u.parent_id, []).append(u)
    for children in by_parent.values():
        children.sort(key=lambda u: (u.sort_order, u.id))
    ordered: list[Unit] = []

    def walk(parent_id):
        for u in by_parent.get(parent_id, []):
            ordered.append(u)
            walk(u.id)

    walk(None)
    return ordered


def unit_choices(session: Session, max_depth: int = 3) -> list[tuple[int, str]]:
    return [(u.id, "　" * u.depth + u.name) for u in unit_tree(session) if u.depth <= max_depth]


def search_users(session: Session, q: str, unit_id: int | None, page: int, per_page: int):
    stmt = select(User).order_by(User.unit_id, User.id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.badge_no.ilike(like), User.name.ilike(like)))
    if unit_id:
        unit = session.get(Unit, unit_id)
        if unit:
            stmt = stmt.where(User.unit_id.in_(subtree_unit_ids(unit)))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def counts(session: Session) -> dict:
    return {
        "units": session.scalar(select(func.count(Unit.id))),
        "users": session.scalar(select(func.count(User.id))),
        "active_officers": session.scalar(select(func.count(User.id)).where(User.role == "officer", User.is_active.is_(True))),
        "pending_password": session.scalar(select(func.count(User.id)).where(User.must_change_password.is_(True))),
    }


def recent_audit(session: Session, limit: int = 20) -> list[AuditLog]:
    return session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)).all()
