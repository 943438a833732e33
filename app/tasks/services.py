"""Writes for tasks: save and submit, review, create tasks and stages. Services flush; the
request commits once. Every reviewer or admin change writes one audit row (QUALITY A31)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..models import (Campaign, CampaignStage, Notification, StudyProgress, Task, TaskSubmission,
                      User)
from ..notices import reminders
from . import queries
from .photos import MAX_PHOTOS

STAGE_NAMES = {"study": "学习教育", "rectify": "查纠整改", "summary": "总结提升"}


class TaskError(ValueError):
    """A refused action; ``code`` (also ``str(err)``) is what the route turns into a message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


#: A submit refused for these reasons still keeps what the officer wrote, as a draft.
KEEP_AS_DRAFT = frozenset({"too_short"})


@dataclass(frozen=True)
class SaveOutcome:
    """What ``save`` did: the submission's status after it, the photo names dropped from it
    (the caller deletes the files after commit), and why a submit was kept as a draft."""

    status: str
    dropped: list[str]
    kept_as_draft: TaskError | None = None


def text_length(text: str) -> int:
    """Characters that count toward a reflection's minimum: whitespace does not."""
    return len("".join((text or "").split()))


def get_or_create_submission(session: Session, task: Task, user: User) -> TaskSubmission:
    sub = session.scalar(select(TaskSubmission).where(TaskSubmission.task_id == task.id,
                                                      TaskSubmission.user_id == user.id))
    if sub is not None:
        return sub
    sub = TaskSubmission(task_id=task.id, user_id=user.id, status="draft", text="", photos=[])
    try:
        with session.begin_nested():
            session.add(sub)
            session.flush()
    except IntegrityError:  # the same officer's second tab won the race: use its row
        sub = session.scalar(select(TaskSubmission).where(TaskSubmission.task_id == task.id,
                                                          TaskSubmission.user_id == user.id))
    return sub


def check_photo_count(sub: TaskSubmission, remove: list[str], new: int) -> None:
    kept = [p for p in (sub.photos or []) if p not in remove]
    if len(kept) + new > MAX_PHOTOS:
        raise TaskError("too_many_photos", n=MAX_PHOTOS)


def save(session: Session, task: Task, sub: TaskSubmission, *, text: str, add_photos: list[str],
         remove_photos: list[str], submit: bool, now: datetime) -> SaveOutcome:
    """Keep the officer's text and photos, as a draft or submitted for review, in the caller's
    one transaction. A submit that is not complete for a KEEP_AS_DRAFT reason is kept as a
    draft (the outcome says why); any other refusal raises TaskError and changes nothing."""
    if sub.status in ("submitted", "accepted"):
        raise TaskError("locked")
    dropped = [p for p in (sub.photos or []) if p in remove_photos]
    photos = [p for p in (sub.photos or []) if p not in remove_photos] + list(add_photos)
    if len(photos) > MAX_PHOTOS:
        raise TaskError("too_many_photos", n=MAX_PHOTOS)
    sub.text = (text or "").strip()[:20000]
    sub.photos = photos
    sub.updated_at = now
    refused = None
    if submit:
        try:
            _check_complete(session, task, sub)
        except TaskError as err:
            if err.code not in KEEP_AS_DRAFT:
                raise
            refused = err
    if submit and refused is None:
        sub.status = "submitted"
        sub.submitted_at = now
        reminders.resolve(session, "task_submitted", reminders.task_subject(task.id), [sub.user_id], now)
        if task.kind == "read":
            # Reading is proven by the credited study record itself: accepted at once.
            sub.status, sub.reviewed_at = "accepted", now
    elif sub.status != "returned":
        sub.status = "draft"
    session.flush()
    return SaveOutcome(sub.status, dropped, refused)


def _check_complete(session: Session, task: Task, sub: TaskSubmission) -> None:
    if task.kind == "reflection" and text_length(sub.text) < max(task.min_chars, 1):
        raise TaskError("too_short", n=task.min_chars, have=text_length(sub.text))
    if task.kind == "proof" and not sub.text and not sub.photos:
        raise TaskError("proof_empty")
    if task.kind == "read" and task.item_id:
        progress = session.get(StudyProgress, (sub.user_id, task.item_id))
        if progress is None or not progress.done:
            raise TaskError("not_read")


def review(session: Session, sub: TaskSubmission, reviewer: User, action: str, comment: str, now: datetime) -> None:
    """Accept or return a submitted task; a return tells the officer why (in-app notice)."""
    if sub.status != "submitted":
        raise TaskError("not_waiting")
    if action not in ("accept", "return"):
        raise TaskError("bad_action")
    comment = (comment or "").strip()[:500]
    if action == "return" and not comment:
        raise TaskError("comment_required")
    before = {"status": sub.status}
    sub.status = "accepted" if action == "accept" else "returned"
    sub.review_comment = comment
    sub.reviewed_by_id = reviewer.id
    sub.reviewed_at = now
    task = session.get(Task, sub.task_id)
    if action == "return":
        session.add(Notification(user_id=sub.user_id, kind="task_returned", title=f"任务被退回：{task.title}"[:120],
                                 body=comment, link=f"/tasks/{task.id}", created_at=now,
                                 subject=reminders.task_subject(task.id)))
    audit.record(session, "task.review", actor=reviewer, target=sub, before=before,
                 after={"status": sub.status, "comment": comment, "task_id": task.id, "user_id": sub.user_id})
    session.flush()


def create_task(session: Session, creator: User, **values) -> Task:
    task = Task(created_by_id=creator.id, **values)
    session.add(task)
    session.flush()
    audit.record(session, "task.create", actor=creator, target=task,
                 after={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()})
    return task


EDITABLE = ("title", "description", "due_at", "target_unit_id", "min_chars")
#: Most officers confirmed in one request of the attendance list (a page holds 100).
MAX_BULK = 500


def _plain(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _snapshot(task: Task, fields=EDITABLE) -> dict:
    return {k: _plain(getattr(task, k)) for k in fields}


def update_task(session: Session, editor: User, task: Task, **values) -> dict:
    """Change a task's title, description, due date, target or minimum length; audits the
    fields that changed (before and after). Returns the changed fields."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "min_chars" in values and task.kind != "reflection":
        values["min_chars"] = 0
    changed = {k: v for k, v in values.items() if getattr(task, k) != v}
    if not changed:
        return {}
    before = {k: _plain(getattr(task, k)) for k in changed}
    for key, value in changed.items():
        setattr(task, key, value)
    session.flush()
    audit.record(session, "task.update", actor=editor, target=task, before=before,
                 after={k: _plain(v) for k, v in changed.items()})
    return changed


def delete_task(session: Session, editor: User, task: Task) -> None:
    """Delete a task nobody has started; one with any submission (even a draft) is withdrawn
    instead, so officers' work stays on record."""
    session.refresh(task, with_for_update=True)  # an officer's first draft cannot slip in between
    if queries.submission_count(session, task.id):
        raise TaskError("has_submissions")
    snapshot = {"title": task.title, "kind": task.kind, "required": task.required, "stage_id": task.stage_id,
                **_snapshot(task)}
    audit.record(session, "task.delete", actor=editor, target_type="task", target_id=task.id, before=snapshot)
    session.delete(task)
    session.flush()


def withdraw_task(session: Session, editor: User, task: Task, now: datetime) -> None:
    """Hide a task from officers; its submissions stay for the record (and for review)."""
    if task.withdrawn_at is not None:
        raise TaskError("already_withdrawn")
    task.withdrawn_at, task.withdrawn_by_id = now, editor.id
    session.flush()
    audit.record(session, "task.withdraw", actor=editor, target=task, before={"withdrawn": False},
                 after={"withdrawn": True, "title": task.title,
                        "submissions": queries.submission_count(session, task.id)})


def restore_task(session: Session, editor: User, task: Task) -> None:
    if task.withdrawn_at is None:
        raise TaskError("not_withdrawn")
    task.withdrawn_at = task.withdrawn_by_id = None
    session.flush()
    audit.record(session, "task.restore", actor=editor, target=task, before={"withdrawn": True},
                 after={"withdrawn": False, "title": task.title})


def confirm_attendance(session: Session, reviewer: User, task: Task, user_ids: list[int], now: datetime) -> int:
    """Confirm that the given officers attended an event task (bulk accept). Every officer must
    be one the reviewer may see and the task is aimed at, or nothing changes. Officers with no
    submission get one, accepted; one audit row per officer whose status changes."""
    if task.kind != "event":
        raise TaskError("not_event")
    ids = sorted({int(i) for i in user_ids})
    if not ids:
        raise TaskError("none_selected")
    if len(ids) > MAX_BULK:
        raise TaskError("too_many_selected", n=MAX_BULK)
    officers = queries.eligible_attendees(session, reviewer, task, ids)
    if len(officers) != len(ids):
        raise TaskError("not_in_scope")
    existing = {sub.user_id: sub for sub in session.scalars(select(TaskSubmission).where(
        TaskSubmission.task_id == task.id, TaskSubmission.user_id.in_(ids)))}
    confirmed = 0
    for officer in officers:
        sub = existing.get(officer.id)
        before = {"status": sub.status if sub is not None else "todo"}
        if sub is None:
            sub = get_or_create_submission(session, task, officer)
        if sub.status == "accepted":
            continue
        sub.status = "accepted"
        sub.review_comment = ""
        sub.reviewed_by_id = reviewer.id
        sub.reviewed_at = now
        sub.submitted_at = sub.submitted_at or now
        sub.updated_at = now
        audit.record(session, "task.attendance", actor=reviewer, target=sub, before=before,
                     after={"status": "accepted", "task_id": task.id, "user_id": officer.id})
        confirmed += 1
    session.flush()
    return confirmed


def ensure_campaign(session: Session, name: str = "政法队伍教育整顿") -> Campaign:
    campaign = session.scalar(select(Campaign).order_by(Campaign.id).limit(1))
    if campaign is None:
        campaign = Campaign(name=name)
        session.add(campaign)
        session.flush()
    return campaign


def save_stage(session: Session, admin: User, code: str, starts_on: date, ends_on: date, description: str,
               name: str | None = None) -> CampaignStage:
    if ends_on < starts_on:
        raise TaskError("stage_dates")
    campaign = ensure_campaign(session)
    stage = session.scalar(select(CampaignStage).where(CampaignStage.campaign_id == campaign.id,
                                                       CampaignStage.code == code))
    before = None
    if stage is None:
        stage = CampaignStage(campaign_id=campaign.id, code=code)
        session.add(stage)
    else:
        before = {"starts_on": stage.starts_on.isoformat(), "ends_on": stage.ends_on.isoformat(),
                  "description": stage.description}
    stage.name = name or STAGE_NAMES[code]
    stage.starts_on, stage.ends_on, stage.description = starts_on, ends_on, description or ""
    session.flush()
    audit.record(session, "campaign.stage", actor=admin, target=stage, before=before,
                 after={"code": code, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(),
                        "description": stage.description})
    return stage
