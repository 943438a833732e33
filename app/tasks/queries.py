"""Reads for tasks: what an officer must do, what a reviewer may see (always via the scope helper)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..auth.scope import unit_in_scope, visible_unit_ids
from ..models import CampaignStage, StudyItem, Task, TaskSubmission, Unit, User

DONE = ("submitted", "accepted")


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


def _for_officer(user: User, unit_path: str):
    """Tasks aimed at the whole city or at a unit whose subtree holds the officer."""
    target = aliased(Unit)
    return (select(Task).outerjoin(target, Task.target_unit_id == target.id)
            .where(or_(Task.target_unit_id.is_(None), literal(unit_path).startswith(target.path))))


def current_stage(session: Session, today: date) -> CampaignStage | None:
    stage = session.scalar(select(CampaignStage).where(CampaignStage.starts_on <= today, CampaignStage.ends_on >= today)
                           .order_by(CampaignStage.starts_on.desc()).limit(1))
    return stage


def stages(session: Session) -> list[CampaignStage]:
    return list(session.scalars(select(CampaignStage).order_by(CampaignStage.starts_on)))


def task_rows(session: Session, user: User, now: datetime, today: date, stage_id: int | None = None) -> list[TaskRow]:
    """The officer's tasks of stages that have begun: open ones by due date (overdue first),
    then the finished ones."""
    stmt = (_for_officer(user, user.unit.path).join(CampaignStage, CampaignStage.id == Task.stage_id)
            .where(CampaignStage.starts_on <= today))
    if stage_id is not None:
        stmt = stmt.where(Task.stage_id == stage_id)
    tasks = list(session.scalars(stmt.order_by(Task.due_at, Task.id)))
    subs = {s.task_id: s for s in session.scalars(select(TaskSubmission).where(
        TaskSubmission.user_id == user.id, TaskSubmission.task_id.in_([t.id for t in tasks] or [0])))}
    rows = []
    for task in tasks:
        sub = subs.get(task.id)
        done = sub is not None and sub.status in DONE
        rows.append(TaskRow(task, sub, overdue=not done and task.due_at < now))
    rows.sort(key=lambda r: (r.done, r.task.due_at, r.task.id))
    return rows


def visible_task(session: Session, user: User, task_id: int) -> Task | None:
    """The task if it is aimed at the officer; None (404) otherwise."""
    return session.scalar(_for_officer(user, user.unit.path).where(Task.id == task_id))


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
            .where(User.unit_id.in_(visible_unit_ids(session, viewer)), TaskSubmission.status != "draft"))
    if status:
        stmt = stmt.where(TaskSubmission.status == status)
    return session.execute(stmt.order_by(TaskSubmission.submitted_at, TaskSubmission.id).limit(limit)).all()


def managed_tasks(session: Session, viewer: User):
    """Tasks a reviewer may see in the manage page: city-wide ones and those aimed inside
    their subtree (a supervisor sees the city's required tasks, but not other branches' own)."""
    target = aliased(Unit)
    stmt = (select(Task, CampaignStage, target).join(CampaignStage, CampaignStage.id == Task.stage_id)
            .outerjoin(target, Task.target_unit_id == target.id)
            .where(or_(Task.target_unit_id.is_(None), Task.target_unit_id.in_(visible_unit_ids(session, viewer)))))
    return session.execute(stmt.order_by(CampaignStage.starts_on, Task.due_at, Task.id)).all()


def unit_choices_in_scope(session: Session, viewer: User) -> list[tuple[int, str]]:
    rows = session.execute(select(Unit.id, Unit.name, Unit.depth).where(Unit.id.in_(visible_unit_ids(session, viewer)),
                                                                        Unit.is_active.is_(True))
                           .order_by(Unit.path)).all()
    return [(uid, "\u3000" * depth + name) for uid, name, depth in rows]


def item_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(select(StudyItem.id, StudyItem.title).where(StudyItem.is_published.is_(True))
                           .order_by(StudyItem.module, StudyItem.sort_order, StudyItem.id)).all()
    return [(i, t) for i, t in rows]
