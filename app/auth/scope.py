"""Unit scope: the one helper that decides which units and people a user may see.

Every supervisor query goes through it (ARCHITECTURE rule 8). Officers see no unit-level rows;
supervisors see their own unit's subtree; leaders and admins see the whole city. Anything else
sees nothing: the helpers fail closed.
"""
from __future__ import annotations

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from ..models import Unit, User

CITY_WIDE_ROLES = frozenset({"leader", "admin"})


def subtree_unit_ids(root: Unit) -> Select:
    """SELECT of the ids of ``root`` and every unit below it."""
    return select(Unit.id).where(Unit.path.startswith(root.path, autoescape=True))


def scope_root(session: Session, user: User) -> Unit | None:
    """The highest unit the user may see, or None for no unit-level access."""
    if user is None or not user.is_active:
        return None
    if user.role in CITY_WIDE_ROLES:
        return session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1))
    if user.role == "supervisor":
        return session.get(Unit, user.unit_id)
    return None


def visible_unit_ids(session: Session, user: User) -> Select:
    """SELECT of unit ids the user may see; an empty SELECT when none."""
    root = scope_root(session, user)
    if root is None:
        return select(Unit.id).where(false())
    return subtree_unit_ids(root)


def unit_in_scope(session: Session, user: User, unit_id: int) -> bool:
    root = scope_root(session, user)
    if root is None:
        return False
    unit = session.get(Unit, unit_id)
    return unit is not None and unit.path.startswith(root.path)


def user_in_scope(session: Session, viewer: User, person: User) -> bool:
    """A person is visible to themselves and to staff whose subtree holds their unit."""
    if viewer.id == person.id:
        return True
    return unit_in_scope(session, viewer, person.unit_id)
