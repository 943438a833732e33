"""Reads for the home pages."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..auth.scope import subtree_unit_ids
from ..models import Unit, User


def child_unit_headcounts(session: Session, root: Unit) -> list[dict]:
    """Each direct child of ``root`` with the active officers in its whole subtree.

    One query whatever the size of the tree: officers are matched to a child by path prefix.
    """
    child = select(Unit).where(Unit.parent_id == root.id).subquery()
    member_unit = Unit.__table__.alias("member_unit")
    stmt = (
        select(child.c.id, child.c.name, child.c.level, func.count(User.id))
        .select_from(child)
        .outerjoin(member_unit, member_unit.c.path.startswith(child.c.path))
        .outerjoin(User, (User.unit_id == member_unit.c.id) & (User.is_active.is_(True)) & (User.role == "officer"))
        .group_by(child.c.id, child.c.name, child.c.level, child.c.sort_order)
        .order_by(child.c.sort_order, child.c.id)
    )
    return [{"id": r[0], "name": r[1], "level": r[2], "officers": r[3]} for r in session.execute(stmt)]


def officer_count(session: Session, root: Unit) -> int:
    return session.scalar(
        select(func.count(User.id)).where(User.unit_id.in_(subtree_unit_ids(root)), User.is_active.is_(True),
                                          User.role == "officer")
    ) or 0
