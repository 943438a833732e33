"""Who may do what with a ledger item or a supervision order: the one home of these rules.

- **See** an item: staff whose unit scope holds the item's unit (app/auth/scope.py), and the
  person responsible for it. Anyone else gets 404, as if it did not exist. 纪检督察
  (``inspector``) oversee the ledger of their subtree: they see its items, figures and 督办令
  like staff (``READERS``) and change nothing — every write below leaves them out, and the
  write routes do not admit the role (403).
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.scope import ancestor_ids, unit_in_scope
from ..models import LedgerItem, Unit, User

STAFF = frozenset({"supervisor", "leader", "admin"})
#: Roles that read the ledger of their scope (items, figures, 督办令, the Excel export). The
#: routes' access lists are built from these sets, so a role added here reads every ledger page.
READERS = STAFF | {"inspector"}


def may_see(session: Session, user: User, item: LedgerItem) -> bool:
    if item.responsible_id == user.id:
        return True
    return user.role in READERS and unit_in_scope(session, user, item.unit_id)


def may_record(session: Session, user: User, unit_id: int) -> bool:
    return user.role in ("supervisor", "admin") and unit_in_scope(session, user, unit_id)


def may_work_on(user: User, item: LedgerItem) -> bool:
    return item.responsible_id == user.id or (user.role == "supervisor" and user.unit_id == item.unit_id)


def supervised_units(session: Session) -> set[int]:
    """Ids of the units that have an active supervisor."""
    return set(session.scalars(select(User.unit_id).where(User.role == "supervisor", User.is_active.is_(True))))


def office_closes(unit: Unit, supervised: set[int]) -> bool:
    """No active supervisor sits above ``unit`` (``supervised``: supervised_units), so the
    campaign office accepts its items."""
    return not any(i in supervised for i in ancestor_ids(unit.path) if i != unit.id)


def may_close(session: Session, user: User, item: LedgerItem, supervised: set[int] | None = None) -> bool:
    """The supervisor above the item's unit, or the office where no supervisor is above it.
    ``supervised`` (supervised_units) may be passed by a caller checking many items."""
    if user.role == "supervisor":
        return user.unit_id != item.unit_id and unit_in_scope(session, user, item.unit_id)
    if user.role == "admin":
        unit = session.get(Unit, item.unit_id)
        return unit is not None and office_closes(unit, supervised if supervised is not None
                                                  else supervised_units(session))
    return False


def may_answer(user: User, unit_id: int) -> bool:
    return user.role == "supervisor" and user.unit_id == unit_id


def closers(session: Session, item: LedgerItem) -> list[User]:
    """The people told that ``item`` waits for 销号: the active supervisors of the nearest unit
    above the item's unit that has any, else the campaign office — each kept only if
    ``may_close`` admits them (the rule itself stays in may_close). Higher supervisors may close
    too, but the nearest level is the one that accepts, so only it is told."""
    unit = session.get(Unit, item.unit_id)
    if unit is None:
        return []
    above = [i for i in ancestor_ids(unit.path) if i != unit.id]
    people = session.scalars(select(User).where(User.role == "supervisor", User.is_active.is_(True),
                                                User.unit_id.in_(above))).all() if above else []
    nearest = max((above.index(p.unit_id) for p in people), default=None)
    chosen = [p for p in people if nearest is not None and above.index(p.unit_id) == nearest]
    if not chosen:
        chosen = list(session.scalars(select(User).where(User.role == "admin", User.is_active.is_(True))))
    supervised = supervised_units(session)
    return [p for p in chosen if may_close(session, p, item, supervised)]
