"""Who may do what with a ledger item or a supervision order: the one home of these rules.

- **See** an item: staff whose unit scope holds the item's unit (app/auth/scope.py), and the
  person responsible for it. Anyone else gets 404, as if it did not exist.
- **Record** an item for a unit: a supervisor whose scope holds the unit, or the campaign
  office (admin). The leader reads only.
- **Work on** an item (evidence, 申请销号): the person responsible, or a supervisor *of the
  item's own unit*.
- **Close** (销号) or return it: a supervisor of a unit *above* the item's unit (its scope
  holds the unit and it is not the unit itself); when no active supervisor sits above the unit
  (a branch whose system has none, a top-level unit) the campaign office does it. The unit's
  own supervisor never closes its own item — the check is the supervisor above, not oneself.
- **Answer** a 督办令 for a unit: a supervisor of that unit. **See** it: the office, and staff
  whose scope holds the target unit.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..auth.scope import ancestor_ids, unit_in_scope
from ..models import LedgerItem, Unit, User

STAFF = frozenset({"supervisor", "leader", "admin"})


def may_see(session: Session, user: User, item: LedgerItem) -> bool:
    if item.responsible_id == user.id:
        return True
    return user.role in STAFF and unit_in_scope(session, user, item.unit_id)


def may_record(session: Session, user: User, unit_id: int) -> bool:
    return user.role in ("supervisor", "admin") and unit_in_scope(session, user, unit_id)


def may_work_on(user: User, item: LedgerItem) -> bool:
    return item.responsible_id == user.id or (user.role == "supervisor" and user.unit_id == item.unit_id)


def supervisors_above(session: Session, unit: Unit) -> int:
    """Active supervisors of the units strictly above ``unit``."""
    above = [i for i in ancestor_ids(unit.path) if i != unit.id]
    if not above:
        return 0
    return session.scalar(select(func.count(User.id)).where(
        User.role == "supervisor", User.is_active.is_(True), User.unit_id.in_(above))) or 0


def may_close(session: Session, user: User, item: LedgerItem) -> bool:
    """The supervisor above the item's unit, or the office where no supervisor is above it."""
    if user.role == "supervisor":
        return user.unit_id != item.unit_id and unit_in_scope(session, user, item.unit_id)
    if user.role == "admin":
        unit = session.get(Unit, item.unit_id)
        return unit is not None and supervisors_above(session, unit) == 0
    return False


def may_answer(user: User, unit_id: int) -> bool:
    return user.role == "supervisor" and user.unit_id == unit_id
