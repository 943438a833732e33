"""Reads for the ledger and 督办令: lists, one item, and the unit figures.

Figures per unit, over the unit's whole subtree (a branch counts every item of its stations and
its own, never an average of rates):

- ``found``: items recorded; ``closed``: items 已销号; ``submitted``: waiting for acceptance;
- ``overdue``: not closed and the deadline (a local day) before today (Asia/Shanghai);
- ``completion_rate`` (整改完成率) = closed / found, None while nothing was found.

Two queries whatever the size of the tree: the items' counts per unit (one aggregation), and the
units of the subtree; each unit's own counts are then added to every ancestor inside the subtree
(by ``scope.ancestor_ids``), as app/reports/queries.py rolls up the weekly sums.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..auth.scope import ancestor_ids, scope_root, subtree_unit_ids, units_in_scope
from ..models import LedgerItem, SupervisionOrder, SupervisionTarget, Unit, User
from ..timeutils import local_day
from . import policy

PAGE = 50
#: ``status`` filters of the item list.
FILTERS = ("active", "submitted", "overdue", "closed", "all")


@dataclass
class LedgerSums:
    found: int = 0
    closed: int = 0
    submitted: int = 0
    overdue: int = 0

    def add(self, other: "LedgerSums") -> None:
        self.found += other.found
        self.closed += other.closed
        self.submitted += other.submitted
        self.overdue += other.overdue

    @property
    def completion_rate(self) -> float | None:
        return self.closed / self.found if self.found else None


@dataclass
class FigureRow:
    unit_id: int
    name: str
    parent_id: int | None
    depth: int
    sums: LedgerSums = field(default_factory=LedgerSums)


def overdue_clause(today: date):
    """SQL: the item is overdue on ``today`` (local day)."""
    return and_(LedgerItem.status != "closed", LedgerItem.deadline < today)


def is_overdue(item: LedgerItem, today: date) -> bool:
    """The same rule for one loaded item."""
    return item.status != "closed" and item.deadline < today


def tree_order(units, root_id: int) -> list:
    """``units`` (rows with id, parent_id, sort_order) from ``root_id`` down, each parent before
    its children, siblings by sort order (paths sort "/10/" before "/3/", so not by path)."""
    children: dict = {}
    for u in sorted(units, key=lambda u: (u.sort_order, u.id)):
        children.setdefault(u.parent_id, []).append(u)
    by_id = {u.id: u for u in units}
    ordered: list = []

    def walk(unit) -> None:
        ordered.append(unit)
        for child in children.get(unit.id, []):
            walk(child)

    if root_id in by_id:
        walk(by_id[root_id])
    return ordered


def unit_figures(session: Session, root: Unit, today: date) -> list[FigureRow]:
    """``root`` (already checked against the caller's scope) and every unit below it, parents
    before their children, each with its subtree's sums. Two queries."""
    inside = subtree_unit_ids(root)
    counts = session.execute(
        select(LedgerItem.unit_id, func.count(LedgerItem.id).label("found"),
               func.sum(case((LedgerItem.status == "closed", 1), else_=0)).label("closed"),
               func.sum(case((LedgerItem.status == "submitted", 1), else_=0)).label("submitted"),
               func.sum(case((overdue_clause(today), 1), else_=0)).label("overdue"))
        .where(LedgerItem.unit_id.in_(inside)).group_by(LedgerItem.unit_id)).all()
    every = session.execute(select(Unit.id, Unit.name, Unit.parent_id, Unit.depth, Unit.path, Unit.sort_order,
                                   Unit.is_active).where(Unit.id.in_(inside))).all()
    # An inactive unit is not listed, but its items still count for the units above it.
    units = [u for u in every if u.is_active]
    rows = {u.id: FigureRow(u.id, u.name, u.parent_id, u.depth) for u in units}
    path_of = {u.id: u.path for u in every}
    for c in counts:
        own = LedgerSums(int(c.found), int(c.closed or 0), int(c.submitted or 0), int(c.overdue or 0))
        for ancestor in ancestor_ids(path_of.get(c.unit_id, "")):
            if ancestor in rows:
                rows[ancestor].sums.add(own)
    return [rows[u.id] for u in tree_order(units, root.id)]


def item_for_viewer(session: Session, viewer: User, item_id: int) -> LedgerItem | None:
    """The item if the viewer may see it (policy.may_see), else None (the route answers 404)."""
    item = session.get(LedgerItem, item_id)
    return item if item is not None and policy.may_see(session, viewer, item) else None


def _filtered(stmt, status: str, today: date):
    if status == "active":
        return stmt.where(LedgerItem.status.in_(("open", "returned")))
    if status == "submitted":
        return stmt.where(LedgerItem.status == "submitted")
    if status == "overdue":
        return stmt.where(overdue_clause(today))
    if status == "closed":
        return stmt.where(LedgerItem.status == "closed")
    return stmt


def item_rows(session: Session, root: Unit, status: str, today: date, page: int = 1):
    """(items with their unit and responsible person, total) in ``root``'s subtree, most urgent
    first (earliest deadline, open before closed)."""
    base = _filtered(select(LedgerItem).where(LedgerItem.unit_id.in_(subtree_unit_ids(root))), status, today)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    stmt = (_filtered(select(LedgerItem, Unit.name, User.name)
                      .join(Unit, Unit.id == LedgerItem.unit_id).join(User, User.id == LedgerItem.responsible_id)
                      .where(LedgerItem.unit_id.in_(subtree_unit_ids(root))), status, today)
            .order_by(case((LedgerItem.status == "closed", 1), else_=0), LedgerItem.deadline, LedgerItem.id)
            .limit(PAGE).offset((page - 1) * PAGE))
    return session.execute(stmt).all(), total or 0


def export_rows(session: Session, root: Unit, today: date) -> list[dict]:
    """Every item of ``root``'s subtree (already scope-checked) for the Excel export, by unit."""
    rows = session.execute(
        select(LedgerItem, Unit.name, User.name).join(Unit, Unit.id == LedgerItem.unit_id)
        .join(User, User.id == LedgerItem.responsible_id).where(LedgerItem.unit_id.in_(subtree_unit_ids(root)))
        .order_by(Unit.path, LedgerItem.deadline, LedgerItem.id)).all()
    return [{"unit": unit, "source": item.source, "category": item.category, "description": item.description,
             "measures": item.measures, "responsible": person, "deadline": item.deadline.isoformat(),
             "status": item.status, "overdue": is_overdue(item, today), "evidence": item.evidence_text,
             "submitted_at": item.submitted_at, "closed_at": item.closed_at}
            for item, unit, person in rows]


def own_items(session: Session, user: User):
    """Items the user is responsible for, open ones first."""
    return session.execute(
        select(LedgerItem, Unit.name, User.name).join(Unit, Unit.id == LedgerItem.unit_id)
        .join(User, User.id == LedgerItem.responsible_id).where(LedgerItem.responsible_id == user.id)
        .order_by(case((LedgerItem.status == "closed", 1), else_=0), LedgerItem.deadline, LedgerItem.id)).all()


def awaiting_me(session: Session, viewer: User) -> list:
    """Submitted items in the viewer's scope that the viewer may close (销号)."""
    # The units are loaded as entities, so may_close finds each in the session instead of
    # asking the database once per unit: the same number of queries for 1 item as for 500.
    rows = session.execute(
        select(LedgerItem, Unit, User.name).join(Unit, Unit.id == LedgerItem.unit_id)
        .join(User, User.id == LedgerItem.responsible_id)
        .where(LedgerItem.status == "submitted", LedgerItem.unit_id.in_(units_in_scope(session, viewer)))
        .order_by(LedgerItem.submitted_at, LedgerItem.id)).all()
    supervised = policy.supervised_units(session) if viewer.role == "admin" and rows else None
    return [(item, unit.name, person) for item, unit, person in rows
            if policy.may_close(session, viewer, item, supervised)]


def responsible_choices(session: Session, unit_id: int) -> list[tuple[int, str]]:
    people = session.execute(select(User.id, User.name, User.role).where(
        User.unit_id == unit_id, User.is_active.is_(True), User.role.in_(("officer", "supervisor")))
        .order_by(User.role.desc(), User.name)).all()
    return [(p.id, f"{p.name}（{'单位管理员' if p.role == 'supervisor' else '干警'}）") for p in people]


def unit_choices(session: Session, viewer: User) -> list[tuple[int, str]]:
    """The active units of the viewer's scope, in tree order, indented by depth."""
    root = scope_root(session, viewer)
    if root is None:
        return []
    units = session.execute(select(Unit.id, Unit.name, Unit.depth, Unit.parent_id, Unit.sort_order).where(
        Unit.id.in_(units_in_scope(session, viewer)), Unit.is_active.is_(True))).all()
    return [(u.id, "　" * max(u.depth - root.depth, 0) + u.name) for u in tree_order(units, root.id)]


# --- 督办令 -------------------------------------------------------------------------------------

def target_state(target: SupervisionTarget, order: SupervisionOrder, today: date) -> str:
    """responded (by the deadline) / late / escalated / overdue (the job has not run yet) / pending."""
    if target.responded_at is not None:
        return "responded" if local_day(target.responded_at) <= order.deadline else "late"
    if target.escalated_at is not None:
        return "escalated"
    return "overdue" if order.deadline < today else "pending"


def visible_targets(session: Session, viewer: User, order_id: int) -> list:
    """(target, unit name) of the order that the viewer may see: all for the office, those in
    the scope of other staff; empty when none (the route answers 404)."""
    stmt = (select(SupervisionTarget, Unit.name).join(Unit, Unit.id == SupervisionTarget.unit_id)
            .where(SupervisionTarget.order_id == order_id).order_by(Unit.path))
    if viewer.role != "admin":
        stmt = stmt.where(SupervisionTarget.unit_id.in_(units_in_scope(session, viewer)))
    return session.execute(stmt).all()


def order_rows(session: Session, viewer: User, today: date) -> list[dict]:
    """Orders the viewer may see, newest first, with counts of their visible targets by state."""
    stmt = select(SupervisionOrder, SupervisionTarget).join(
        SupervisionTarget, SupervisionTarget.order_id == SupervisionOrder.id)
    if viewer.role != "admin":
        stmt = stmt.where(SupervisionTarget.unit_id.in_(units_in_scope(session, viewer)))
    out: dict[int, dict] = {}
    for order, target in session.execute(stmt.order_by(SupervisionOrder.id.desc(), SupervisionTarget.id)):
        row = out.setdefault(order.id, {"order": order, "counts": {}, "mine": None})
        state = target_state(target, order, today)
        row["counts"][state] = row["counts"].get(state, 0) + 1
        if target.unit_id == viewer.unit_id and viewer.role == "supervisor":
            row["mine"] = state
    return list(out.values())


def orders_to_answer(session: Session, viewer: User) -> list:
    """(order id, title, deadline) of the 督办令 the viewer's own unit has not answered yet, most
    urgent (earliest deadline) first; empty for anyone who does not answer for a unit
    (policy.may_answer). One query however many there are."""
    if not policy.may_answer(viewer, viewer.unit_id):
        return []
    return session.execute(
        select(SupervisionOrder.id, SupervisionOrder.title, SupervisionOrder.deadline)
        .join(SupervisionTarget, SupervisionTarget.order_id == SupervisionOrder.id)
        .where(SupervisionTarget.unit_id == viewer.unit_id, SupervisionTarget.responded_at.is_(None))
        .order_by(SupervisionOrder.deadline, SupervisionOrder.id)).all()
