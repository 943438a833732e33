"""Writes for the ledger and 督办令. Services flush, the request or job commits once; every
change writes one audit row (QUALITY A31). Permission rules are policy.py's; ``now`` is passed in
(UTC), "today" is the Asia/Shanghai day of it (app/timeutils.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..auth.scope import ancestor_ids
from ..notices.reminders import ledger_subject, order_subject, resolve
from ..models import (LEDGER_CATEGORIES, LEDGER_SOURCES, LedgerEvidence, LedgerItem, Notification, SupervisionOrder,
                      SupervisionTarget, Unit, User)
from ..timeutils import local_day
from . import policy
from .evidence import MAX_FILES, Stored

#: A submission or response needs at least this much text (a photo alone says too little).
MIN_TEXT = 4


class LedgerError(ValueError):
    """A refused action; ``code`` is what the route turns into a message. Nothing was changed."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def create_item(session: Session, creator: User, *, unit_id: int, source: str, category: str, description: str,
                measures: str, responsible_id: int, deadline: date, now: datetime) -> LedgerItem:
    """Record a problem of ``unit_id``. The person responsible must be an active officer or
    supervisor of that very unit; the deadline may not lie in the past."""
    if not policy.may_record(session, creator, unit_id):
        raise LedgerError("not_in_scope")
    if source not in LEDGER_SOURCES or category not in LEDGER_CATEGORIES:
        raise LedgerError("bad_choice")
    person = session.get(User, responsible_id)
    if person is None or not person.is_active or person.unit_id != unit_id or person.role not in ("officer", "supervisor"):
        raise LedgerError("bad_responsible")
    if deadline < local_day(now):
        raise LedgerError("deadline_past")
    description = _clean(description, 4000)
    if len(description) < MIN_TEXT:
        raise LedgerError("description_short")
    item = LedgerItem(unit_id=unit_id, source=source, category=category, description=description,
                      measures=_clean(measures, 4000), responsible_id=responsible_id, deadline=deadline,
                      status="open", created_by_id=creator.id, created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    session.add(Notification(user_id=responsible_id, kind="ledger_assigned", title="新的整改事项",
                             body=f"{description[:60]}（整改期限 {deadline:%Y-%m-%d}）", link=f"/ledger/items/{item.id}",
                             created_at=now))
    audit.record(session, "ledger.create", actor=creator, target=item,
                 after={"unit_id": unit_id, "source": source, "category": category, "responsible_id": responsible_id,
                        "deadline": deadline.isoformat()})
    return item


def save_evidence(session: Session, user: User, item: LedgerItem, *, text: str, files: list[Stored], submit: bool,
                  now: datetime, remove_ids: list[int] = ()) -> list[str]:
    """Keep the unit's account and files; with ``submit`` ask for 销号 (status ``submitted``).
    Only the person responsible or the unit's own supervisor, only while the item is open or
    returned. A submission needs text of at least MIN_TEXT characters. ``remove_ids``: evidence
    rows of this item to drop; their file names are returned for the caller to delete after the
    commit. A refusal changes nothing (the caller removes the files it stored)."""
    if not policy.may_work_on(user, item):
        raise LedgerError("not_yours")
    session.refresh(item, with_for_update=True)  # a double tap or a second tab waits, then sees the new status
    if item.status not in ("open", "returned"):
        raise LedgerError("locked")
    dropped = [e for e in item.evidence if e.id in set(remove_ids)]
    if len(item.evidence) - len(dropped) + len(files) > MAX_FILES:
        raise LedgerError("too_many_files", n=MAX_FILES)
    if submit and len(_clean(text, 8000)) < MIN_TEXT:
        raise LedgerError("evidence_short")
    if not submit and not _clean(text, 8000) and not files and not dropped and not item.evidence_text:
        raise LedgerError("evidence_empty")  # nothing typed, attached or removed: nothing to keep
    item.evidence_text = _clean(text, 8000)
    for row in dropped:
        item.evidence.remove(row)
    for stored in files:
        item.evidence.append(LedgerEvidence(kind=stored.kind, file_name=stored.name, size=stored.size,
                                            uploaded_by_id=user.id, created_at=now))
    item.updated_at = now
    if submit:
        before = item.status
        item.status, item.submitted_at, item.submitted_by_id = "submitted", now, user.id
        audit.record(session, "ledger.submit", actor=user, target=item, before={"status": before},
                     after={"status": "submitted", "files": len(item.evidence)})
        _tell_closers(session, item, now)
    session.flush()
    return [row.file_name for row in dropped]


def _tell_closers(session: Session, item: LedgerItem, now: datetime) -> None:
    """The people who may accept the 销号 (policy.closers) get a notice linking to the item; it
    is resolved when the item is accepted or returned."""
    people = [p.id for p in policy.closers(session, item)]
    unit = session.get(Unit, item.unit_id)
    if people:
        session.execute(insert(Notification), [
            {"user_id": uid, "kind": "ledger_submitted", "title": "整改事项申请销号，待您验收",
             "body": f"{unit.name if unit else ''}：{item.description[:60]}", "link": f"/ledger/items/{item.id}",
             "subject": ledger_subject(item.id), "created_at": now} for uid in people])


def review(session: Session, reviewer: User, item: LedgerItem, action: str, reason: str, now: datetime) -> None:
    """销号 (``accept``) or 退回 (``return``, with a reason) an item waiting for acceptance.
    Only the supervisor above (policy.may_close). The responsible person and whoever asked for
    the 销号 hear of it; the 待验收 notices of the item are resolved."""
    if not policy.may_close(session, reviewer, item):
        raise LedgerError("not_above")
    session.refresh(item, with_for_update=True)  # two reviewers at once: the second sees it decided
    if item.status != "submitted":
        raise LedgerError("not_waiting")
    if action not in ("accept", "return"):
        raise LedgerError("bad_action")
    reason = _clean(reason, 500)
    if action == "return" and not reason:
        raise LedgerError("reason_required")
    before = item.status
    item.reviewed_by_id, item.reviewed_at, item.updated_at = reviewer.id, now, now
    if action == "accept":
        item.status, item.closed_at, item.return_reason = "closed", now, ""
        title = "整改事项已销号"
    else:
        item.status, item.return_reason = "returned", reason
        title = "整改事项被退回"
    told = dict.fromkeys(i for i in (item.responsible_id, item.submitted_by_id) if i is not None)
    session.execute(insert(Notification), [
        {"user_id": uid, "kind": "ledger_reviewed", "title": title, "body": reason or item.description[:60],
         "link": f"/ledger/items/{item.id}", "created_at": now} for uid in told])
    waiting = session.scalars(select(Notification.user_id).where(
        Notification.kind == "ledger_submitted", Notification.subject == ledger_subject(item.id),
        Notification.resolved_at.is_(None))).all()
    resolve(session, "ledger_reviewed", ledger_subject(item.id), sorted(set(waiting)), now)
    audit.record(session, "ledger.review", actor=reviewer, target=item, before={"status": before},
                 after={"status": item.status, "reason": reason})
    session.flush()


def remind_overdue(session: Session, now: datetime) -> int:
    """Notify the person responsible for each overdue item (deadline before today, not closed),
    at most once per local day: the conditional UPDATE of ``last_reminded_on`` decides, so two
    runs, or two schedulers, send one reminder. Returns the number sent."""
    today = local_day(now)
    due = session.execute(select(LedgerItem.id, LedgerItem.responsible_id, LedgerItem.description, LedgerItem.deadline)
                          .where(LedgerItem.status != "closed", LedgerItem.deadline < today,
                                 or_(LedgerItem.last_reminded_on.is_(None), LedgerItem.last_reminded_on < today))).all()
    sent = []
    for row in due:
        won = session.execute(update(LedgerItem).where(
            LedgerItem.id == row.id, or_(LedgerItem.last_reminded_on.is_(None), LedgerItem.last_reminded_on < today))
            .values(last_reminded_on=today).execution_options(synchronize_session=False)).rowcount
        if won:
            sent.append({"user_id": row.responsible_id, "kind": "ledger_overdue", "title": "整改事项已逾期",
                         "body": f"{row.description[:60]}（期限 {row.deadline:%Y-%m-%d}）",
                         "link": f"/ledger/items/{row.id}", "created_at": now})
    if sent:
        session.execute(insert(Notification), sent)
    return len(sent)


# --- 督办令 -------------------------------------------------------------------------------------

def create_order(session: Session, admin: User, *, title: str, body: str, deadline: date, unit_ids: list[int],
                 now: datetime) -> SupervisionOrder:
    """The office's order to the given units; each unit's supervisors are notified."""
    if admin.role != "admin":
        raise LedgerError("not_office")
    ids = sorted(set(unit_ids))
    if not ids:
        raise LedgerError("no_units")
    if len(session.scalars(select(Unit.id).where(Unit.id.in_(ids), Unit.is_active.is_(True))).all()) != len(ids):
        raise LedgerError("bad_units")
    if deadline < local_day(now):
        raise LedgerError("deadline_past")
    title = _clean(title, 120)
    if len(title) < 2:
        raise LedgerError("title_short")
    order = SupervisionOrder(title=title, body=_clean(body, 8000), deadline=deadline, created_by_id=admin.id,
                             created_at=now)
    order.targets = [SupervisionTarget(unit_id=i) for i in ids]
    session.add(order)
    session.flush()
    people = session.scalars(select(User.id).where(User.role == "supervisor", User.is_active.is_(True),
                                                   User.unit_id.in_(ids))).all()
    if people:
        session.execute(insert(Notification), [
            {"user_id": uid, "kind": "order_issued", "title": f"督办令：{title}"[:120],
             "body": f"请于 {deadline:%Y-%m-%d} 前回复。", "link": f"/ledger/orders/{order.id}", "created_at": now,
             "subject": order_subject(order.id)}
            for uid in people])
    audit.record(session, "order.create", actor=admin, target=order,
                 after={"title": title, "deadline": deadline.isoformat(), "unit_ids": ids})
    return order


def respond(session: Session, user: User, target: SupervisionTarget, *, text: str, attachment: Stored | None,
            now: datetime) -> None:
    """A unit's response, once and final (a late one is kept and shown as late)."""
    if not policy.may_answer(user, target.unit_id):
        raise LedgerError("not_yours")
    session.refresh(target, with_for_update=True)
    if target.responded_at is not None:
        raise LedgerError("already_answered")
    text = _clean(text, 8000)
    if len(text) < MIN_TEXT:
        raise LedgerError("response_short")
    target.response_text, target.responded_at, target.responded_by_id = text, now, user.id
    if attachment is not None:
        target.attachment, target.attachment_kind = attachment.name, attachment.kind
    audit.record(session, "order.respond", actor=user, target=target,
                 after={"order_id": target.order_id, "unit_id": target.unit_id, "attachment": attachment is not None})
    # The unit has answered: its supervisors' 督办令 notice is done (shown 已完成, not unread).
    unit_supervisors = session.scalars(select(User.id).where(User.role == "supervisor",
                                                             User.unit_id == target.unit_id)).all()
    resolve(session, "order_answered", order_subject(target.order_id), list(unit_supervisors), now)
    session.flush()


def escalate_orders(session: Session, now: datetime) -> int:
    """Each unit that has not answered an order whose deadline (a local day) has passed is
    escalated once: ``escalated_at`` is set by a conditional UPDATE, and the supervisors of the
    unit above (or, where there are none, the office) and the order's sender are notified.
    Returns the number of units escalated."""
    today = local_day(now)
    rows = session.execute(
        select(SupervisionTarget.id, SupervisionTarget.unit_id, SupervisionOrder.id.label("order_id"),
               SupervisionOrder.title, SupervisionOrder.created_by_id, Unit.name, Unit.path)
        .join(SupervisionOrder, SupervisionOrder.id == SupervisionTarget.order_id)
        .join(Unit, Unit.id == SupervisionTarget.unit_id)
        .where(SupervisionTarget.responded_at.is_(None), SupervisionTarget.escalated_at.is_(None),
               SupervisionOrder.deadline < today)).all()
    admins = session.scalars(select(User.id).where(User.role == "admin", User.is_active.is_(True))).all()
    notes, count = [], 0
    for row in rows:
        won = session.execute(update(SupervisionTarget).where(
            SupervisionTarget.id == row.id, SupervisionTarget.escalated_at.is_(None),
            SupervisionTarget.responded_at.is_(None)).values(escalated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not won:
            continue
        count += 1
        parent = [i for i in ancestor_ids(row.path) if i != row.unit_id][-1:]
        above = session.scalars(select(User.id).where(User.role == "supervisor", User.is_active.is_(True),
                                                      User.unit_id.in_(parent))).all() if parent else []
        office = [row.created_by_id] if row.created_by_id else list(admins)
        for uid in dict.fromkeys(list(above) + office + ([] if above else list(admins))):
            notes.append({"user_id": uid, "kind": "order_escalated", "title": f"督办令逾期未回复：{row.name}"[:120],
                          "body": f"{row.name} 未在期限内回复督办令“{row.title}”。", "link": f"/ledger/orders/{row.order_id}",
                          "created_at": now})
        audit.record(session, "order.escalate", actor_name="scheduler", target_type="supervisiontarget",
                     target_id=row.id, after={"order_id": row.order_id, "unit_id": row.unit_id})
    if notes:
        session.execute(insert(Notification), notes)
    return count
