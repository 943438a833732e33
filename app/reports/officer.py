"""The officer page for supervisors, leaders and the campaign office (issue 16, point 2), and
the sort keys of the dashboard's officer table.

``/reports/officers/<id>`` shows one officer's last 12 weeks: credited study time against each
week's target, the weekly exam, tasks, current flags and the messages sent to them. Who may see
whom is decided by ``app.auth.scope.people_in_scope`` only: an id that is not an officer inside
the caller's subtree answers 404, exactly like an id that does not exist, so ids outside the
subtree cannot be probed. Officers never reach the page (the access policy refuses the role).

Every figure is aggregated in SQL, one query per kind of fact whatever the number of weeks or
rows (tests/test_officer_page.py counts them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import Blueprint, abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from .. import clock
from ..auth.access import access
from ..auth.scope import ancestors_in_scope, people_in_scope
from ..db import db
from ..models import Attempt, Exam, Notification, StudyDay, StudyFlag, Unit, User
from ..study.labels import FLAG_LABELS, FLAG_STATUS_LABELS
from ..tasks.forms import STATUS_LABELS as TASK_STATUS_LABELS
from ..tasks.queries import task_rows
from ..timeutils import local_day, parse_week_key, previous_weeks, week_key
from .queries import weekly_targets

bp = Blueprint("officers", __name__)

#: Weeks shown on the officer page, the current one last.
WEEKS = 12
#: Messages listed on the page (newest first); the counts above the list cover all of them.
MESSAGES = 30

# --- the officer table's order (dashboard) ------------------------------------------------------

#: Columns the officer table sorts by (``?sort=<key>``, ``-<key>`` for the reverse order).
#: ``unit`` is the tree order the rows arrive in (``queries.officer_rows``' default).
SORT_KEYS = ("unit", "name", "study_seconds", "exam_score", "tasks_done")
SORTS = frozenset(SORT_KEYS) | frozenset(f"-{key}" for key in SORT_KEYS)


def parse_sort_arg(raw: str | None) -> str:
    """The officer table's order from a query string: one of SORTS, ``unit`` when empty;
    ValueError otherwise (the route answers 400)."""
    if raw in (None, ""):
        return "unit"
    if raw not in SORTS:
        raise ValueError("unknown sort key")
    return raw


def _sort_value(row: dict, key: str, index: int):
    if key == "unit":
        return index
    if key == "name":
        return row["name"]
    value = row.get(key)
    # Not taken / no task due sort below every number: first from the bottom, last from the top.
    return -1 if value is None else value


def sort_officers(rows: list[dict], sort: str) -> list[dict]:
    """``queries.officer_rows`` rows in the order ``sort`` names (a SORTS value, already
    checked). Ties keep the tree order, in both directions."""
    key, reverse = sort.lstrip("-"), sort.startswith("-")
    indexed = list(enumerate(rows))
    if reverse:  # Python's reverse sort keeps equal rows in their original (tree) order
        indexed.sort(key=lambda pair: _sort_value(pair[1], key, pair[0]), reverse=True)
    else:
        indexed.sort(key=lambda pair: _sort_value(pair[1], key, pair[0]))
    return [row for _, row in indexed]


@bp.app_template_filter("officer_sort")
def officer_sort_filter(rows: list[dict], sort: str) -> list[dict]:
    return sort_officers(rows, sort if sort in SORTS else "unit")


# --- one officer's weeks --------------------------------------------------------------------------

@dataclass
class WeekFacts:
    """One week of one officer. ``exam``: ``none`` (no exam that week), ``taken``, ``pending``
    (past its deadline, not finished yet), ``in_progress`` or ``not_taken``."""

    week: str
    study_seconds: int = 0
    target_seconds: int = 0
    exam: str = "none"
    score: float | None = None
    passed: bool | None = None
    too_fast: bool = False
    current: bool = False

    @property
    def target_met(self) -> bool:
        return self.study_seconds >= self.target_seconds

    @property
    def empty(self) -> bool:
        """Nothing to judge: no exam that week and not a second of study (e.g. before the
        platform started), shown as such rather than as a missed target."""
        return self.exam == "none" and not self.study_seconds

    @property
    def hours(self) -> float:
        return round(self.study_seconds / 3600, 1)

    @property
    def target_hours(self) -> float:
        return round(self.target_seconds / 3600, 1)


@dataclass
class OfficerPage:
    officer: User
    unit: Unit
    ancestors: list
    weeks: list[WeekFacts]
    tasks: list
    flags: list
    messages: list
    message_total: int = 0
    message_unread: int = 0
    task_counts: dict = field(default_factory=dict)


def officer_in_scope(session: Session, viewer: User, user_id: int) -> User | None:
    """The officer ``user_id`` if the viewer may see them (their unit in the viewer's subtree),
    else None: not found, not an officer and outside the subtree look the same (404)."""
    return session.scalar(select(User).where(User.id == user_id, User.role == "officer",
                                             people_in_scope(session, viewer)))


def study_by_week(session: Session, user_id: int, weeks: list[str]) -> dict[str, int]:
    """Credited seconds per week (local Monday..Sunday) of one officer: one aggregation."""
    spans = [(week, parse_week_key(week)) for week in weeks]
    bucket = case(*[(StudyDay.day.between(monday, monday + timedelta(days=6)), literal(week))
                    for week, monday in spans])
    days = (select(bucket.label("week"), StudyDay.seconds)
            .where(StudyDay.user_id == user_id, StudyDay.day >= spans[0][1],
                   StudyDay.day <= spans[-1][1] + timedelta(days=6)).subquery())
    rows = session.execute(select(days.c.week, func.sum(days.c.seconds).label("secs")).group_by(days.c.week))
    return {row.week: int(row.secs or 0) for row in rows}


def exams_by_week(session: Session, user_id: int, weeks: list[str], now) -> dict[str, dict]:
    """Per week with a city exam: the officer's finished score (the best attempt, make-ups
    included, as the unit figures count it), passed, and whether an attempt is under way, past
    its deadline, or was answered too fast (QUALITY A33). One aggregation."""
    finished = Attempt.status == "finished"
    rows = session.execute(
        select(Exam.week,
               func.max(case((finished, Attempt.score))).label("score"),
               func.max(case((and_(finished, Attempt.passed.is_(True)), 1), else_=0)).label("passed"),
               func.max(case((finished, 1), else_=0)).label("finished"),
               func.max(case((and_(Attempt.status == "in_progress", Attempt.deadline < now), 1), else_=0)).label("pending"),
               func.max(case((and_(Attempt.status == "in_progress", Attempt.deadline >= now), 1), else_=0)).label("open"),
               func.max(case((Attempt.flagged == "too_fast", 1), else_=0)).label("too_fast"))
        .select_from(Exam).outerjoin(Attempt, and_(Attempt.exam_id == Exam.id, Attempt.user_id == user_id))
        .where(Exam.week.in_(weeks), Exam.scope == "city").group_by(Exam.week))
    return {row.week: row._asdict() for row in rows}


def officer_weeks(session: Session, user_id: int, now, count: int = WEEKS) -> list[WeekFacts]:
    """The officer's last ``count`` weeks, the current one last: three queries (targets, study,
    exams) whatever ``count`` is."""
    current = week_key(now)
    weeks = previous_weeks(current, count)
    targets = weekly_targets(session, weeks)
    study = study_by_week(session, user_id, weeks)
    exams = exams_by_week(session, user_id, weeks, now)
    out = []
    for week in weeks:
        facts = WeekFacts(week, study.get(week, 0), targets[week], current=week == current)
        exam = exams.get(week)
        if exam is not None:
            facts.too_fast = bool(exam["too_fast"])
            if exam["finished"]:
                facts.exam, facts.score, facts.passed = "taken", float(exam["score"]), bool(exam["passed"])
            elif exam["pending"]:
                facts.exam = "pending"
            elif exam["open"]:
                facts.exam = "in_progress"
            else:
                facts.exam = "not_taken"
        out.append(facts)
    return out


def officer_flags(session: Session, user_id: int, weeks: list[str]) -> list[StudyFlag]:
    """Study flags of the shown weeks, and any still open from before (one query)."""
    return list(session.scalars(select(StudyFlag).where(
        StudyFlag.user_id == user_id, or_(StudyFlag.week.in_(weeks), StudyFlag.status == "open"))
        .order_by(StudyFlag.week.desc(), StudyFlag.id.desc())))


def officer_messages(session: Session, user_id: int, limit: int = MESSAGES) -> tuple[list[Notification], int, int]:
    """(newest ``limit`` notifications, total, unread): two queries."""
    total, unread = session.execute(
        select(func.count(Notification.id),
               func.coalesce(func.sum(case((Notification.read_at.is_(None), 1), else_=0)), 0))
        .where(Notification.user_id == user_id)).one()
    rows = list(session.scalars(select(Notification).where(Notification.user_id == user_id)
                                .order_by(Notification.id.desc()).limit(limit)))
    return rows, int(total), int(unread)


def officer_page(session: Session, viewer: User, officer: User, now) -> OfficerPage:
    """Everything the page shows about ``officer`` (already checked against the viewer's scope)."""
    weeks = officer_weeks(session, officer.id, now)
    unit = officer.unit
    tasks = task_rows(session, officer, now, local_day(now))
    counts = {"total": len(tasks)}
    for row in tasks:
        status = "todo" if row.status == "draft" else row.status
        counts[status] = counts.get(status, 0) + 1
    counts["overdue"] = sum(1 for row in tasks if row.overdue)
    messages, total, unread = officer_messages(session, officer.id)
    return OfficerPage(officer, unit, ancestors_in_scope(session, viewer, unit), weeks, tasks,
                       officer_flags(session, officer.id, [w.week for w in weeks]), messages, total, unread, counts)


EXAM_LABELS = {"none": _l("无测试"), "taken": _l("已参加"), "pending": _l("待评分"), "in_progress": _l("答题中"),
               "not_taken": _l("未参加")}


@bp.route("/<int:user_id>")
@access("supervisor", "leader", "admin")
def show(user_id: int):
    """One officer inside the caller's subtree; 404 for anyone else (A16)."""
    officer = officer_in_scope(db.session, current_user, user_id)
    if officer is None:
        abort(404)
    now = clock.now()
    page = officer_page(db.session, current_user, officer, now)
    return render_template("reports/officer.html", p=page, exam_labels=EXAM_LABELS, flag_labels=FLAG_LABELS,
                           flag_status_labels=FLAG_STATUS_LABELS, task_status_labels=TASK_STATUS_LABELS,
                           week=week_key(now))
