"""Deadline reminders of forms (issue 17): who is reminded of which form, and when.

- **Who**: everyone the form asks (queries.asked: active, a target role, a unit in the target
  subtree) who has not submitted it (queries.pending_ids); a draft is not a submission.
- **When**: from the local (Asia/Shanghai) day before the deadline's day until the deadline, a
  ``form_due`` notice; once the deadline has passed (queries.is_overdue, the desk's rule), a
  ``form_overdue`` notice every day while the form is open (queries.open_forms). Earlier: none.
- **How often**: through app/notices/reminders.py ``send`` only — at most one notice of a kind
  per person per local day, by the database key, however often the job runs. Forms are taken
  soonest deadline first, so a person asked for two forms hears first of the more urgent.
- **Until**: submitting resolves the form's notices (services.save calls reminders.resolve).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ..models import Form
from ..notices import reminders
from ..timeutils import local_day, to_local
from . import queries


def reminder_for(form: Form, now: datetime) -> reminders.Reminder | None:
    """The reminder ``form`` calls for at ``now`` (UTC), or None before its window (and for a
    closed survey)."""
    if queries.is_closed(form, now):
        return None
    if queries.is_overdue(form, now):
        return reminders.FORM_REMINDERS["overdue"]
    if local_day(now) >= local_day(form.due_at) - timedelta(days=1):
        return reminders.FORM_REMINDERS["due"]
    return None


def _body(form: Form, reminder: reminders.Reminder) -> str:
    due = to_local(form.due_at).strftime("%m-%d %H:%M")
    return f"《{form.title}》截止时间 {due}。{reminder.body}"


def remind(session: Session, now: datetime) -> dict[str, int]:
    """Send today's form reminders; returns {"sent": n, "skipped": n} (skipped: already had that
    kind today). Safe to run any number of times and beside another sender; the caller commits."""
    sent = skipped = 0
    for form in queries.open_forms(session, local_day(now)):
        reminder = reminder_for(form, now)
        if reminder is None:
            continue
        people = queries.pending_ids(session, form)
        if not people:
            continue
        n, s = reminders.send(session, replace(reminder, link=f"/forms/{form.id}"), people,
                              reminders.form_subject(form.id), now, body=_body(form, reminder))
        sent, skipped = sent + n, skipped + s
    return {"sent": sent, "skipped": skipped}
