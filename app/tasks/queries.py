"""Reads for tasks: what an officer must do, what a reviewer may see (always via the scope helper)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..auth.scope import (aimed_at, overlaps_scope, path_within, people_in_scope, scope_root, unit_in_scope,
                          units_in_scope)
from ..models import CampaignStage, StudyItem, Task, TaskSubmission, Unit, User

DONE = ("submitted", "accepted")
ATTENDANCE_PAGE = 100


@dataclass
class TaskRow:
    task: Task
    submission: TaskSubmission | None
    overdue: bool

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else "todo"

    @property
    def done(self) -> bool:
        return self.status in DONE


def withdrawn_clause():
    """SQL: the task (``Task``) has been withdrawn (hidden from officers, submissions kept)."""
    return Task.withdrawn_at.is_not(None)


def _for_officer_stmt():
    """Tasks aimed at the whole city or at a unit whose subtree holds the officer (never a
    withdrawn one); the officer's unit path is the bind parameter ``unit_path``."""
    return select(Task).where(aimed_at(Task.target_unit_id, bindparam("unit_path", type_=String)),
                              ~withdrawn_clause())


# Built once (bind parameters for the values): the officer's home page runs these on every
# view, and building the ORM statements cost more CPU than running them (issue #7).
_CURRENT_STAGE = (select(CampaignStage).where(CampaignStage.starts_on <= bindparam("today"),
                                              CampaignStage.ends_on >= bindparam("today"))
                  .order_by(CampaignStage.starts_on.desc()).limit(1))
_STAGES = select(CampaignStage).order_by(CampaignStage.starts_on)
_BEGUN_TASKS = (_for_officer_stmt().join(CampaignStage, CampaignStage.id == Task.stage_id)
                .where(CampaignStage.starts_on <= bindparam("today")))
_OFFICER_TASKS = _BEGUN_TASKS.order_by(Task.due_at, Task.id)
_STAGE_TASKS = _BEGUN_TASKS.where(Task.stage_id == bindparam("stage_id")).order_by(Task.due_at, Task.id)
_VISIBLE_TASK = _for_officer_stmt().where(Task.id == bindparam("task_id"))
_OWN_SUBMISSIONS = select(TaskSubmission).where(TaskSubmission.user_id == bindparam("user_id"),
                                                TaskSubmission.task_id.in_(bindparam("task_ids", expanding=True)))


def current_stage(session: Session, today: date) -> CampaignStage | None:
    return session.scalar(_CURRENT_STAGE, {"today": today})


def stages(session: Session) -> list[CampaignStage]:
    return list(session.scalars(_STAGES))


def task_rows(session: Session, user: User, now: datetime, today: date, stage_id: int | None = None) -> list[TaskRow]:
    """The officer's tasks of stages that have begun: open ones by due date (overdue first),
    then the finished ones."""
    params = {"unit_path": user.unit.path, "today": today}
    if stage_id is None:
        stmt = _OFFICER_TASKS
    else:
        stmt, params["stage_id"] = _STAGE_TASKS, stage_id
    tasks = list(session.scalars(stmt, params))
    subs = {s.task_id: s for s in session.scalars(_OWN_SUBMISSIONS, {
        "user_id": user.id, "task_ids": [t.id for t in tasks]})} if tasks else {}
    rows = []
    for task in tasks:
        sub = subs.get(task.id)
        done = sub is not None and sub.status in DONE
        rows.append(TaskRow(task, sub, overdue=not done and task.due_at < now))
    rows.sort(key=lambda r: (r.done, r.task.due_at, r.task.id))
    return rows


def visible_task(session: Session, user: User, task_id: int) -> Task | None:
    """The task if it is aimed at the officer; None (404) otherwise."""
    return session.scalar(_VISIBLE_TASK, {"unit_path": user.unit.path, "task_id": task_id})


def own_submission(session: Session, user: User, task_id: int) -> TaskSubmission | None:
    return session.scalar(select(TaskSubmission).where(TaskSubmission.task_id == task_id,
                                                       TaskSubmission.user_id == user.id))


def item_of(session: Session, task: Task) -> StudyItem | None:
    return session.get(StudyItem, task.item_id) if task.item_id else None


def submission_for_viewer(session: Session, viewer: User, submission_id: int) -> TaskSubmission | None:
    """The owner sees their own; supervisors and admins only inside their subtree (A16)."""
    sub = session.get(TaskSubmission, submission_id)
    if sub is None:
        return None
    if sub.user_id == viewer.id:
        return sub
    if viewer.role not in ("supervisor", "admin"):
        return None
    owner = session.get(User, sub.user_id)
    return sub if owner is not None and unit_in_scope(session, viewer, owner.unit_id) else None


def review_rows(session: Session, viewer: User, status: str | None, limit: int = 200):
    """Submissions (not drafts) by officers inside the viewer's subtree, oldest waiting first."""
    stmt = (select(TaskSubmission, Task, User, Unit)
            .join(Task, Task.id == TaskSubmission.task_id).join(User, User.id == TaskSubmission.user_id)
            .join(Unit, Unit.id == User.unit_id)
            .where(people_in_scope(session, viewer), TaskSubmission.status != "draft"))
    if status:
        stmt = stmt.where(TaskSubmission.status == status)
    return session.execute(stmt.order_by(TaskSubmission.submitted_at, TaskSubmission.id).limit(limit)).all()


def managed_tasks(session: Session, viewer: User):
    """Tasks a reviewer may see in the manage page: city-wide ones and those aimed inside
    their subtree (a supervisor sees the city's required tasks, but not other branches' own)."""
    target = aliased(Unit)
    stmt = (select(Task, CampaignStage, target).join(CampaignStage, CampaignStage.id == Task.stage_id)
            .outerjoin(target, Task.target_unit_id == target.id)
            .where(or_(Task.target_unit_id.is_(None), Task.target_unit_id.in_(units_in_scope(session, viewer)))))
    return session.execute(stmt.order_by(CampaignStage.starts_on, Task.due_at, Task.id)).all()


def unit_choices_in_scope(session: Session, viewer: User) -> list[tuple[int, str]]:
    rows = session.execute(select(Unit.id, Unit.name, Unit.depth).where(Unit.id.in_(units_in_scope(session, viewer)),
                                                                        Unit.is_active.is_(True))
                           .order_by(Unit.path)).all()
    return [(uid, "\u3000" * depth + name) for uid, name, depth in rows]


def item_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(StudyItem.id, StudyItem.title).where(StudyItem.is_published.is_(True))
                           .order_by(StudyItem.module, StudyItem.sort_order, StudyItem.id)).all()
    return [(i, t) for i, t in rows]


# --- managing tasks (edit, delete, withdraw) ---------------------------------------------------

def can_manage(session: Session, viewer: User, task: Task) -> bool:
    """Who may edit, delete or withdraw a task: the campaign office (admins) any task; a
    supervisor the optional tasks aimed inside their own subtree that they set, or that a
    supervisor at or below their unit set (never a task set from above them)."""
    if viewer.role == "admin":
        return scope_root(session, viewer) is not None
    if viewer.role != "supervisor" or task.required or task.target_unit_id is None:
        return False
    if not unit_in_scope(session, viewer, task.target_unit_id):
        return False
    if task.created_by_id is None or task.created_by_id == viewer.id:
        return True
    creator = session.get(User, task.created_by_id)
    return creator is None or (creator.role != "admin" and unit_in_scope(session, viewer, creator.unit_id))


def submission_count(session: Session, task_id: int) -> int:
    return session.scalar(select(func.count(TaskSubmission.id)).where(TaskSubmission.task_id == task_id)) or 0


# --- attendance of event tasks (参加活动) --------------------------------------------------------

def task_reaches_scope(session: Session, viewer: User, task: Task) -> bool:
    """The task is aimed at some officer the viewer may see: city-wide, aimed inside the viewer's
    subtree, or aimed at a unit above the viewer's own."""
    if task.target_unit_id is None:
        return scope_root(session, viewer) is not None
    target = session.get(Unit, task.target_unit_id)
    return target is not None and overlaps_scope(session, viewer, target.path)


def _attendees(session: Session, viewer: User, task: Task, *columns):
    """SELECT of (User, Unit, TaskSubmission|None), or of ``columns``: the active officers inside
    the viewer's subtree that the task is aimed at, with their submission of it."""
    stmt = (select(*(columns or (User, Unit, TaskSubmission))).select_from(User).join(Unit, Unit.id == User.unit_id)
            .outerjoin(TaskSubmission, (TaskSubmission.user_id == User.id) & (TaskSubmission.task_id == task.id))
            .where(User.role == "officer", User.is_active.is_(True),
                   people_in_scope(session, viewer)))
    if task.target_unit_id is not None:
        target = session.get(Unit, task.target_unit_id)
        stmt = stmt.where(path_within(Unit.path, target.path))
    return stmt


ATTENDANCE_FILTERS = ("open", "submitted", "accepted", "all")


def _status_filter(stmt, status: str):
    if status == "accepted":
        return stmt.where(TaskSubmission.status == "accepted")
    if status == "submitted":
        return stmt.where(TaskSubmission.status == "submitted")
    if status == "open":  # nothing, a draft, or returned: not confirmed and not waiting
        return stmt.where(or_(TaskSubmission.id.is_(None), TaskSubmission.status.in_(("draft", "returned"))))
    return stmt


def attendance_counts(session: Session, viewer: User, task: Task) -> dict:
    sub = _attendees(session, viewer, task, TaskSubmission.status.label("status")).subquery()
    status = sub.c.status
    row = session.execute(select(
        func.count(),
        func.coalesce(func.sum(case((status == "accepted", 1), else_=0)), 0),
        func.coalesce(func.sum(case((status == "submitted", 1), else_=0)), 0),
    ).select_from(sub)).one()
    total, accepted, submitted = (int(v) for v in row)
    return {"total": total, "accepted": accepted, "submitted": submitted, "open": total - accepted - submitted}


def attendance_rows(session: Session, viewer: User, task: Task, status: str = "all", unit_id: int | None = None,
                    page: int = 1):
    """One page of the attendance list, by unit then name; ``unit_id`` narrows it to a subtree."""
    stmt = _status_filter(_attendees(session, viewer, task), status)
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is not None:
            stmt = stmt.where(path_within(Unit.path, unit.path))
    stmt = stmt.order_by(Unit.path, User.name, User.id)
    return session.execute(stmt.limit(ATTENDANCE_PAGE).offset((max(page, 1) - 1) * ATTENDANCE_PAGE)).all()


def attendance_filtered_total(session: Session, viewer: User, task: Task, status: str, unit_id: int | None) -> int:
    stmt = _status_filter(_attendees(session, viewer, task, User.id), status)
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is not None:
            stmt = stmt.where(path_within(Unit.path, unit.path))
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def eligible_attendees(session: Session, viewer: User, task: Task, user_ids: list[int]) -> list[User]:
    if not user_ids:
        return []
    return [u for u, _unit, _sub in session.execute(_attendees(session, viewer, task).where(User.id.in_(user_ids)))]


def event_tasks(session: Session, viewer: User):
    """Event tasks (参加活动) that reach the viewer's subtree, newest due first, with counts."""
    tasks = session.scalars(select(Task).where(Task.kind == "event").order_by(Task.due_at.desc(), Task.id.desc()))
    return [(t, attendance_counts(session, viewer, t)) for t in tasks if task_reaches_scope(session, viewer, t)]
