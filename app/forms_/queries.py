"""Reads about forms: who is asked to fill which form, when a form is overdue, and the status
(never the answers) of a form across the viewer's subtree — what supervisors, leaders and the
office see.

The rules of time, one home each: a person who has not submitted is **overdue** once the
form's deadline has passed (``is_overdue``: the desk's counts, the person's list, the home card
and the reminders all ask it); a form is **open** (still asks for submissions, so reminders go
out) while it is published and the campaign stage it belongs to, if any, has not ended
(``open_forms``); a **survey** (匿名测评) is **closed** from its deadline on (``is_closed``): it
takes no more answer sheets, nobody is overdue or reminded for it, and only then are its
results published (app/forms_/survey.py) — so nobody can learn a colleague's answers by
watching the results before and after they submit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from ..auth.scope import aimed_at, overlaps_scope, people_in_scope
from ..models import CampaignStage, Form, FormSubmission, FormVersion, Unit, User
from . import definition as defn

#: Roles a form may ask to fill it (the leader is read-only; the office designs them).
FILLER_ROLES = ("officer", "supervisor", "inspector")


def latest_version(session: Session, form_id: int) -> FormVersion | None:
    return session.scalar(select(FormVersion).where(FormVersion.form_id == form_id)
                          .order_by(FormVersion.number.desc()).limit(1))


def _targets(form: Form, user: User) -> bool:
    return user.role in (form.target_roles or [])


def is_closed(form: Form, now: datetime) -> bool:
    """A survey at or after its deadline (``now`` UTC): closed to answers, its results published.
    Other forms never close: a late submission is still wanted (overdue)."""
    return form.survey and form.due_at <= now


def to_do(form: Form, sub: FormSubmission | None, now: datetime) -> bool:
    """The person still has ``form`` to fill at ``now``: not submitted, and not a closed survey
    (the home card's count, the task list's 待完成)."""
    return (sub is None or sub.status != "submitted") and not is_closed(form, now)


def is_overdue(form: Form, now: datetime) -> bool:
    """The form's deadline has passed at ``now`` (UTC): whoever it asks and has not submitted
    is overdue — except for a closed survey, which nobody can submit any more. The one rule of
    "overdue" for forms."""
    return form.due_at < now and not is_closed(form, now)


def asked(form: Form):
    """SQL over ``User`` joined to its ``Unit``: the people ``form`` asks to fill it (active, a
    target role, a unit in the target subtree) — the SQL twin of ``forms_for``'s test."""
    return and_(User.is_active.is_(True), User.role.in_(form.target_roles or []),
                aimed_at(literal(form.target_unit_id, Integer), Unit.path))


def open_forms(session: Session, today: date) -> list[Form]:
    """Published forms still asking for submissions on ``today`` (local day): no stage, or a
    stage not ended yet. Soonest deadline first."""
    published = select(FormVersion.form_id).distinct()
    stmt = (select(Form).outerjoin(CampaignStage, CampaignStage.id == Form.stage_id)
            .where(Form.id.in_(published), or_(Form.stage_id.is_(None), CampaignStage.ends_on >= today))
            .order_by(Form.due_at, Form.id))
    return list(session.scalars(stmt))


def pending_ids(session: Session, form: Form) -> list[int]:
    """Ids of everyone ``form`` asks who has not submitted it (no submission, or a draft)."""
    stmt = (select(User.id).join(Unit, Unit.id == User.unit_id)
            .outerjoin(FormSubmission, and_(FormSubmission.form_id == form.id, FormSubmission.user_id == User.id))
            .where(asked(form), or_(FormSubmission.id.is_(None), FormSubmission.status != "submitted")))
    return list(session.scalars(stmt))


def forms_for(session: Session, user: User) -> list[tuple[Form, FormSubmission | None]]:
    """Published forms aimed at the user's unit (or above) and role, with their own submission,
    soonest deadline first."""
    unit_path = select(Unit.path).where(Unit.id == user.unit_id).scalar_subquery()
    published = select(FormVersion.form_id).distinct()
    stmt = (select(Form, FormSubmission)
            .outerjoin(FormSubmission, and_(FormSubmission.form_id == Form.id, FormSubmission.user_id == user.id))
            .where(Form.id.in_(published), aimed_at(Form.target_unit_id, unit_path))
            .order_by(Form.due_at, Form.id))
    return [(form, sub) for form, sub in session.execute(stmt) if _targets(form, user)]


def form_for(session: Session, user: User, form_id: int) -> tuple[Form, FormSubmission | None] | None:
    return next(((f, s) for f, s in forms_for(session, user) if f.id == form_id), None)


def own_submission(session: Session, user: User, form_id: int) -> FormSubmission | None:
    return session.scalar(select(FormSubmission).where(FormSubmission.form_id == form_id,
                                                       FormSubmission.user_id == user.id))


@dataclass
class PersonStatus:
    user_id: int
    name: str
    unit_name: str
    #: ``submitted``, ``draft`` (started, not submitted), ``returned`` (reopened by the reviewer,
    #: not submitted again) or ``todo``; for a survey only ``submitted`` or ``todo`` (whether
    #: someone has started an anonymous survey is nobody's business).
    status: str
    overdue: bool
    submission_id: int | None
    submitted_at: datetime | None


def status_rows(session: Session, viewer: User, form: Form, now: datetime) -> list[PersonStatus]:
    """Everyone in the viewer's subtree the form asks to fill it, with where they stand."""
    stmt = (select(User.id, User.name, Unit.name, FormSubmission.id, FormSubmission.status,
                   FormSubmission.submitted_at, FormSubmission.reopened_at)
            .join(Unit, Unit.id == User.unit_id)
            .outerjoin(FormSubmission, and_(FormSubmission.form_id == form.id, FormSubmission.user_id == User.id))
            .where(asked(form), people_in_scope(session, viewer))
            .order_by(Unit.path, User.id))
    rows = []
    for uid, name, unit_name, sub_id, status, submitted_at, reopened_at in session.execute(stmt):
        status = status or "todo"
        if form.survey and status != "submitted":
            status = "todo"
        elif status == "draft" and reopened_at is not None:
            status = "returned"
        rows.append(PersonStatus(uid, name, unit_name, status, status != "submitted" and is_overdue(form, now),
                                 sub_id, submitted_at))
    return rows


def status_counts(session: Session, viewer: User, form: Form, now: datetime) -> dict:
    """The counts of ``status_rows`` in one SQL aggregation (the desk's list of forms, city-wide)."""
    submitted = func.coalesce(func.sum(case((FormSubmission.status == "submitted", 1), else_=0)), 0)
    stmt = (select(func.count(User.id), submitted)
            .join(Unit, Unit.id == User.unit_id)
            .outerjoin(FormSubmission, and_(FormSubmission.form_id == form.id, FormSubmission.user_id == User.id))
            .where(asked(form), people_in_scope(session, viewer)))
    total, done = session.execute(stmt).one()
    pending = total - int(done)
    return {"total": total, "submitted": int(done), "pending": pending, "overdue": pending if is_overdue(form, now) else 0}


def counts(rows: list[PersonStatus]) -> dict:
    return {"total": len(rows), "submitted": sum(r.status == "submitted" for r in rows),
            "pending": sum(r.status != "submitted" for r in rows), "overdue": sum(r.overdue for r in rows)}


def desk_forms(session: Session, viewer: User) -> list[Form]:
    """Published forms that reach people the viewer may see, newest deadline first."""
    published = select(FormVersion.form_id).distinct()
    stmt = select(Form).where(Form.id.in_(published)).order_by(Form.due_at.desc(), Form.id.desc())
    return [f for f in session.scalars(stmt)
            if f.target_unit_id is None or overlaps_scope(session, viewer, session.get(Unit, f.target_unit_id).path)]


def all_forms(session: Session) -> list[tuple[Form, int, int, bool]]:
    """The office's list: every form with its latest version number, submissions so far, and
    whether the builder's draft differs from that version (``definition.differs``: publishing
    would make a new one)."""
    version = select(func.max(FormVersion.number)).where(FormVersion.form_id == Form.id).scalar_subquery()
    subs = (select(func.count(FormSubmission.id))
            .where(FormSubmission.form_id == Form.id, FormSubmission.status == "submitted").scalar_subquery())
    newest = (select(FormVersion.form_id, func.max(FormVersion.number).label("number"))
              .group_by(FormVersion.form_id).subquery())
    published = dict(session.execute(select(FormVersion.form_id, FormVersion.definition).join(
        newest, and_(FormVersion.form_id == newest.c.form_id, FormVersion.number == newest.c.number))).all())
    return [(form, number, count, number is not None and defn.differs(form.draft_definition, published.get(form.id)))
            for form, number, count in session.execute(select(Form, version, subs).order_by(Form.id.desc()))]
