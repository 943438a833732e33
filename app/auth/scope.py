"""Unit scope: the one module that decides which units and people a user may see.

Every supervisor query goes through it (ARCHITECTURE rules 8 and 13; tests/test_scope.py fails
when another module builds a unit-path filter or a second "is this unit in scope"). Officers see
no unit-level rows; supervisors and 纪检督察 (inspectors) see their own unit's subtree; leaders and
admins see the whole city. Anything else sees nothing: the helpers fail closed.

The tree is a materialised path of ids (``Unit.path``, e.g. ``"/1/4/17/"``): a unit lies in the
subtree of the unit at ``root_path`` when its path starts with ``root_path``. That rule is
written here once, in ``path_within``, for Python strings and for SQL alike.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, String, false, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import Unit, User
from ..ids import parse_id_arg

CITY_WIDE_ROLES = frozenset({"leader", "admin"})
#: Roles whose scope is the subtree of their own unit.
SUBTREE_ROLES = frozenset({"supervisor", "inspector"})


# --- the tree ---------------------------------------------------------------------------------

def path_within(path, root_path):
    """The unit at ``path`` is the unit at ``root_path`` or lies below it.

    Two strings give a bool. Otherwise an SQL clause, where either side may be a column, a bind
    parameter or a scalar subquery (a string on the left is bound as a literal). Paths hold only
    digits and slashes, so a prefix ``LIKE`` is exact; a string prefix is escaped anyway."""
    if isinstance(path, str) and isinstance(root_path, str):
        return path.startswith(root_path)
    if isinstance(path, str):
        path = literal(path, String)
    if isinstance(root_path, str):
        return path.startswith(root_path, autoescape=True)
    return path.startswith(root_path)


def ancestor_ids(path: str | None) -> list[int]:
    """``"/1/4/17/"`` → ``[1, 4, 17]``: the city down to the unit itself."""
    return [int(part) for part in (path or "").strip("/").split("/") if part.isdigit()]


def subtree_unit_ids(root: Unit) -> Select:
    """SELECT of the ids of ``root`` and every unit below it."""
    return select(Unit.id).where(path_within(Unit.path, root.path))


def aimed_at(target_unit_id, unit_path) -> ColumnElement[bool]:
    """SQL: something aimed at ``target_unit_id`` (a column; NULL = the whole city) reaches the
    people of the unit at ``unit_path`` (a column, bind parameter or string): the target is that
    unit or one above it. Join-free (the target's path is a correlated lookup by primary key),
    so it fits statements built once with bind parameters and any FROM list."""
    target = aliased(Unit)
    target_path = select(target.path).where(target.id == target_unit_id).scalar_subquery()
    return or_(target_unit_id.is_(None), path_within(unit_path, target_path))


# --- the caller's scope -----------------------------------------------------------------------

def scope_root(session: Session, user: User) -> Unit | None:
    """The highest unit the user may see, or None for no unit-level access."""
    if user is None or not user.is_active:
        return None
    if user.role in CITY_WIDE_ROLES:
        return session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1))
    if user.role in SUBTREE_ROLES:
        return session.get(Unit, user.unit_id)
    return None


def units_in_scope(session: Session, user: User) -> Select:
    """SELECT of the unit ids the user may see; an empty SELECT when none."""
    root = scope_root(session, user)
    if root is None:
        return select(Unit.id).where(false())
    return subtree_unit_ids(root)


#: The name most callers know ``units_in_scope`` by.
visible_unit_ids = units_in_scope


def people_in_scope(session: Session, user: User, unit_id=User.unit_id) -> ColumnElement[bool]:
    """SQL: the person whose unit is the column ``unit_id`` (``User.unit_id`` by default) belongs
    to a unit the user may see. Officers, supervisors and every other role alike: a caller that
    wants officers only adds ``User.role == "officer"``."""
    return unit_id.in_(units_in_scope(session, user))


def unit_in_scope(session: Session, user: User, unit_id: int | None) -> bool:
    """The unit exists and lies in the user's subtree."""
    root = scope_root(session, user)
    if root is None or unit_id is None:
        return False
    unit = session.get(Unit, unit_id)
    return unit is not None and path_within(unit.path, root.path)


def user_in_scope(session: Session, viewer: User, person: User) -> bool:
    """A person is visible to themselves and to staff whose subtree holds their unit."""
    if viewer.id == person.id:
        return True
    return unit_in_scope(session, viewer, person.unit_id)


def overlaps_scope(session: Session, viewer: User, target_path):
    """Something aimed at the subtree at ``target_path`` reaches people the viewer may see: the
    target lies inside the viewer's subtree, or above it. A string gives a bool; a column (say an
    announcement's target unit's path) gives an SQL clause. False for a viewer without scope."""
    root = scope_root(session, viewer)
    if root is None:
        return False if isinstance(target_path, str) else literal(False)
    if isinstance(target_path, str):
        return path_within(target_path, root.path) or path_within(root.path, target_path)
    return or_(path_within(target_path, root.path), path_within(root.path, target_path))


def ancestors_in_scope(session: Session, viewer: User, unit: Unit, root: Unit | None = None) -> list[Unit]:
    """The units from the viewer's scope root (``root`` when the caller already has it) down to
    ``unit`` (a breadcrumb): ancestors outside the viewer's subtree are left out."""
    root = root if root is not None else scope_root(session, viewer)
    if root is None:
        return []
    chain = (session.get(Unit, i) for i in ancestor_ids(unit.path))
    return [u for u in chain if u is not None and path_within(u.path, root.path)]


# --- a unit named by the client (A16) ---------------------------------------------------------

class UnitRefused(Exception):
    """A unit id from the client that cannot be served. ``malformed``: the value is not an id
    (pages answer 400, the API 422 ``invalid_unit``). Otherwise there is no such unit or it lies
    outside the caller's subtree: 403 either way, so ids outside the scope cannot be probed."""

    def __init__(self, malformed: bool = False):
        super().__init__("malformed unit id" if malformed else "unit outside the caller's scope")
        self.malformed = malformed

    @property
    def status(self) -> int:
        return 400 if self.malformed else 403


def unit_for(session: Session, user: User, unit_id: int, root: Unit | None = None) -> Unit:
    """The unit ``unit_id`` (already parsed, e.g. by the URL converter) if the user may see it;
    ``root`` is the caller's scope root when the caller already has it. UnitRefused otherwise."""
    root = root if root is not None else scope_root(session, user)
    unit = session.get(Unit, unit_id) if root is not None else None
    if unit is None or not path_within(unit.path, root.path):
        raise UnitRefused()
    return unit


def requested_unit(session: Session, user: User, raw: str | None, root: Unit | None = None) -> Unit:
    """The unit a query string or form asks for, by its raw value: empty or missing means the
    caller's scope root (``root`` when the caller already has it). Parsed with
    ``app.web.parse_id_arg``; UnitRefused when malformed, unknown or outside the subtree."""
    root = root if root is not None else scope_root(session, user)
    if root is None:
        raise UnitRefused()
    if raw in (None, ""):
        return root
    try:
        unit_id = parse_id_arg(raw)
    except ValueError:
        raise UnitRefused(malformed=True) from None
    return unit_for(session, user, unit_id, root)
