"""Reminders (issue #16): what each reminder says, sending one at most once a day per person
whoever sends it, and which notices doing a thing resolves.

Once a day is a database key, not a check: ``uq_notifications_user_kind_remind_day`` on
(user_id, kind, remind_day), with ``remind_day`` the Asia/Shanghai day. Every sender — a
supervisor's or the campaign office's 一键提醒, the scheduled mid-week job — writes through
``send``, an INSERT … SELECT … ON CONFLICT DO NOTHING on that key, so two clicks, two devices or
two supervisors at once give one notice and no error; the losers' rows are counted as skipped.
``plan`` counts the same key before sending, for the confirmation step.

A notice that asks for something (take this week's exam, reach this week's study target, hand
a returned task in again, submit a form before or after its deadline) is resolved when the
person does it: ``RESOLVES`` is the one table of
which action resolves which kinds, and ``resolve`` the one statement that does it, called where
the action happens (exam finish and sweep, a heartbeat crossing the weekly target, a task
submission, a form submission). Resolved notices show as done and are not unread.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Date, DateTime, String, Text, bindparam, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Notification, User
from ..timeutils import local_day

#: Ids per statement: well inside SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 5000


def N_(text: str) -> str:
    """Marks a msgid for extraction; the stored notice keeps the Chinese text (officers' default
    language), pages show it translated with ``_()``."""
    return text


@dataclass(frozen=True)
class Reminder:
    """One kind of reminder: ``kind`` is the once-a-day key's kind; title, body and link are what
    the officer reads."""

    kind: str
    title: str
    body: str
    link: str


#: The reminders of the dashboard's filters (app/reports/queries.FILTERS), by filter.
REMINDERS: dict[str, Reminder] = {
    "exam_not_taken": Reminder("exam_reminder", N_("本周测试还未参加"), N_("请在周日 22:00 前完成本周测试。"), "/exams/"),
    "target_not_met": Reminder("study_reminder", N_("本周学习时长还未达标"), N_("请抽空完成本周的学习任务。"), "/study/"),
    "failed": Reminder("exam_failed", N_("本周测试未及格"), N_("请复习错题本中的题目，巩固学习内容。"), "/exams/mistakes"),
}

#: The deadline reminders of 查纠整改 forms (app/forms_/remind.py decides who and when): from
#: the local day before the deadline until it passes, then every day while the form is open.
#: ``link`` is replaced by the form's own page when sent; ``body`` names the form.
FORM_REMINDERS: dict[str, Reminder] = {
    "due": Reminder("form_due", N_("查纠整改表单即将截止"), N_("请在截止时间前填报并提交。"), "/forms/"),
    "overdue": Reminder("form_overdue", N_("查纠整改表单已逾期"), N_("截止时间已过，请尽快填报并提交。"), "/forms/"),
}

#: Which notice kinds an action resolves (matched on the notice's ``subject``).
RESOLVES: dict[str, tuple[str, ...]] = {
    "exam_finished": ("exam_reminder",),      # subject: the exam's ISO week
    "study_target_met": ("study_reminder",),  # subject: the ISO week whose target was reached
    "task_submitted": ("task_returned",),     # subject: task_subject(task id)
    "form_submitted": ("form_due", "form_overdue"),  # subject: form_subject(form id)
    "ledger_reviewed": ("ledger_submitted",),  # subject: ledger_subject(item id)
    "order_answered": ("order_issued",),  # subject: order_subject(order id); the answering unit's supervisors
}


def task_subject(task_id: int) -> str:
    return f"task:{task_id}"


def form_subject(form_id: int) -> str:
    return f"form:{form_id}"


def ledger_subject(item_id: int) -> str:
    return f"ledger:{item_id}"


def order_subject(order_id: int) -> str:
    return f"order:{order_id}"


@dataclass(frozen=True)
class Plan:
    """What ``send`` would do now: ``total`` officers asked for, ``already`` of them reminded of
    this kind today (skipped)."""

    reminder: Reminder
    total: int
    already: int

    @property
    def to_send(self) -> int:
        return self.total - self.already


def _chunks(ids: list[int]):
    ids = sorted(set(ids))
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def plan(session: Session, reminder: Reminder, officer_ids: list[int], now: datetime) -> Plan:
    """How many of ``officer_ids`` ``send`` would skip today: those already holding this kind's
    key for the local day of ``now``."""
    day = local_day(now)
    already = 0
    for chunk in _chunks(officer_ids):
        already += session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id.in_(chunk), Notification.kind == reminder.kind,
            Notification.remind_day == day)) or 0
    return Plan(reminder, len(set(officer_ids)), already)


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def send(session: Session, reminder: Reminder, officer_ids: list[int], subject: str | None, now: datetime, *,
         body: str | None = None) -> tuple[int, int]:
    """Give each of ``officer_ids`` this reminder unless they already had its kind today (local
    day of ``now``). Returns (sent, skipped). Safe beside any concurrent sender: the key decides,
    nobody fails. Flushes nothing else; the caller commits."""
    day, insert = local_day(now), _insert(session)
    sent = 0
    for chunk in _chunks(officer_ids):
        rows = select(User.id, literal(reminder.kind, String), literal(reminder.title[:120], String),
                      literal(body if body is not None else reminder.body, Text), literal(reminder.link, String),
                      literal(now, DateTime), literal(day, Date), literal(subject, String)).where(User.id.in_(chunk))
        stmt = insert(Notification).from_select(
            ["user_id", "kind", "title", "body", "link", "created_at", "remind_day", "subject"], rows)
        # RETURNING counts the rows really inserted (rowcount is not reliable for INSERT … SELECT
        # on every driver).
        sent += len(session.execute(stmt.on_conflict_do_nothing(index_elements=["user_id", "kind", "remind_day"])
                                    .returning(Notification.user_id)).all())
    return sent, len(set(officer_ids)) - sent


_N = Notification.__table__
# Module constants with bound parameters: the express lane (app/express.py) prepares each
# statement once and runs it on its own connection.
_RESOLVE = {event: update(_N).where(_N.c.user_id == bindparam("r_user"), _N.c.subject == bindparam("r_subject"),
                                    _N.c.resolved_at.is_(None), or_(*(_N.c.kind == kind for kind in kinds)))
            .values(resolved_at=bindparam("r_now"))
            for event, kinds in RESOLVES.items()}


def resolve(conn, event: str, subject: str, user_ids: list[int], now: datetime) -> None:
    """Mark resolved the open notices that ``event`` (a key of ``RESOLVES``) about ``subject``
    answers, for each of ``user_ids``. ``conn``: a Session or a Connection (anything with
    ``execute(stmt, params)``, the express lane's included)."""
    params = [{"r_user": uid, "r_subject": subject, "r_now": now} for uid in user_ids]
    if len(params) == 1:
        conn.execute(_RESOLVE[event], params[0])
    elif params:
        conn.execute(_RESOLVE[event], params)
