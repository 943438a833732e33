"""Who may read a form submission: the one home of the confidentiality rule (issue 17, point 2).

* The person who filled it, always; anyone else only while it is **submitted**: never before the
  first submission, and not while a reviewer has reopened it — the draft being corrected is the
  person's work in progress again until they submit it (the desk lists it as 填写中).
* A **confidential** form (个人有关事项报告, 自查自纠报告): 纪检督察 (``inspector``) whose subtree holds
  the person's unit — nobody else. Supervisors, leaders and the campaign office see only
  whether it was submitted (counts and status, app/forms_/queries.py), never the answers.
* An **open** form: also supervisors, inspectors and admins whose subtree holds the person.
* A **survey** (匿名测评, 满意度测评): the person and nobody else, ever — there is no export.
  Staff of the subtree (``RESULT_ROLES``) see only aggregates of at least five answer sheets per
  group (app/forms_/survey.py, fed by ``survey_answers`` here without anyone's name).

Whoever may not read a submission gets 404 from every path to it — the page, its files, the
export — exactly as if it did not exist. Every read by someone other than the person writes an
audit row (``form.read``), which the person sees on their submission page. Answers and files
are decrypted here and nowhere else (besides key rotation, app/forms_/crypto.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..auth.scope import people_in_scope, subtree_unit_ids, unit_in_scope
from ..db import db
from ..models import AuditLog, Form, FormFile, FormSubmission, User
from . import crypto

#: The audit row of a read (written literally in _record_reads, where the audit-words scan reads it).
READ_ACTION = "form.read"
TARGET = "form_submission"
OPEN_READERS = frozenset({"supervisor", "inspector", "admin"})
#: Who sees a survey's aggregated results (their subtree's; the city for leaders and admins).
RESULT_ROLES = frozenset({"supervisor", "leader", "admin", "inspector"})


def _reader_role_ok(user: User, form: Form) -> bool:
    if form.survey:
        return False  # nobody reads an anonymous answer sheet but the person who filled it
    return user.role == "inspector" if form.confidential else user.role in OPEN_READERS


def may_read(session: Session, user: User | None, submission: FormSubmission) -> bool:
    """The rule above, for one submission."""
    if user is None or not user.is_active:
        return False
    if submission.user_id == user.id:
        return True
    if submission.status != "submitted":
        # A draft — never submitted, or reopened (``submitted_at`` stays set) — is the person's
        # own work in progress.
        return False
    if not _reader_role_ok(user, submission.form):
        return False
    owner = session.get(User, submission.user_id)
    return owner is not None and unit_in_scope(session, user, owner.unit_id)


def may_reopen(session: Session, user: User, submission: FormSubmission) -> bool:
    """The reviewer: someone other than the person who may read it (for a confidential form,
    the inspector of the person's subtree)."""
    return submission.user_id != user.id and submission.status == "submitted" and may_read(session, user, submission)


def may_export(user: User, form: Form) -> bool:
    """Whether the export of ``form`` exists for this user at all (its rows are filtered too)."""
    return _reader_role_ok(user, form)


def may_see_results(user: User | None, form: Form) -> bool:
    """The aggregated results page of a survey exists for this user (their scope's groups)."""
    return user is not None and user.is_active and form.survey and user.role in RESULT_ROLES


@dataclass(frozen=True)
class SurveyAnswer:
    """One submitted answer sheet of a survey, as the aggregation sees it: the form, the owner's
    unit (to group by) and the answers, never who filled it."""

    form_id: int
    unit_id: int
    answers: dict


def survey_answers(session: Session, user: User, forms: list[Form], root) -> list[SurveyAnswer]:
    """Every submitted answer sheet of the surveys ``forms`` filled by people of ``root``'s
    subtree who are also in the user's scope, decrypted — one query, however many forms. The
    caller must not depend on their order (nothing here names the person; aggregates and sorted
    texts do not depend on it). 404 unless ``may_see_results`` for every form. Not audited:
    nobody reads a sheet; app/forms_/survey.py turns them into aggregates with the small groups
    suppressed before anything is shown."""
    if not all(may_see_results(user, form) for form in forms):
        abort(404)
    if not forms:
        return []
    stmt = (select(FormSubmission.form_id, User.unit_id, FormSubmission.answers_token)
            .join(User, User.id == FormSubmission.user_id)
            .where(FormSubmission.form_id.in_([f.id for f in forms]), FormSubmission.status == "submitted",
                   people_in_scope(session, user), User.unit_id.in_(subtree_unit_ids(root))))
    return [SurveyAnswer(form_id, unit_id, crypto.open_json(token)) for form_id, unit_id, token in session.execute(stmt)]


@dataclass
class Opened:
    """A submission someone may read, with its answers decrypted."""

    submission: FormSubmission
    owner: User
    answers: dict


def _record_reads(reader: User, submissions: list[FormSubmission], how: str) -> None:
    """One audit row per submission read by someone other than its owner, committed at once in
    its own transaction (reads come by GET, whose session does not write)."""
    rows = [s for s in submissions if s.user_id != reader.id]
    if not rows:
        return
    side = db.new_write_session()
    try:
        for sub in rows:
            side.add(audit.build("form.read", actor=reader, target_type="form_submission", target_id=sub.id, detail=how))
        side.commit()
    finally:
        side.close()


def submission_or_404(session: Session, user: User, submission_id: int) -> FormSubmission:
    """The submission if the user may read it; 404 otherwise (no trace of whether it exists)."""
    sub = session.get(FormSubmission, submission_id)
    if sub is None or not may_read(session, user, sub):
        abort(404)
    return sub


def open_submission(session: Session, user: User, submission_id: int, how: str = "page") -> Opened:
    """Read a submission: 404 unless allowed; audited unless the reader is its owner."""
    sub = submission_or_404(session, user, submission_id)
    opened = Opened(sub, session.get(User, sub.user_id), crypto.open_json(sub.answers_token))
    _record_reads(user, [sub], how)
    return opened


def own_answers(user: User, submission: FormSubmission | None) -> dict:
    """The person's own draft or submission, for their fill page (no audit: it is theirs)."""
    if submission is None:
        return {}
    if submission.user_id != user.id:
        abort(404)
    return crypto.open_json(submission.answers_token)


def open_file(session: Session, user: User, submission_id: int, file_id: int) -> tuple[FormFile, str, bytes]:
    """An attachment through the same check as its submission: (row, original name, bytes)."""
    sub = submission_or_404(session, user, submission_id)
    row = session.get(FormFile, file_id)
    if row is None or row.submission_id != sub.id:
        abort(404)
    data = crypto.open_bytes(row.data_token)
    name = crypto.open_json(row.name_token) if row.name_token else ""
    _record_reads(user, [sub], "file")
    return row, str(name or ""), data


def reopen_reason(session: Session, user: User, submission: FormSubmission | None) -> str:
    """The reviewer's reason for the last reopen, decrypted, for someone who may read the
    submission ("" for anyone else, or if it was never reopened). Reasons written before
    revision 0016 are still in the plain column until ``flask forms rotate-key`` seals them."""
    if submission is None or submission.reopened_at is None or not may_read(session, user, submission):
        return ""
    if submission.reopen_reason_token:
        return str(crypto.open_json(submission.reopen_reason_token) or "")
    return submission.reopen_reason or ""


def file_names(submission: FormSubmission, user: User) -> dict[int, str]:
    """Original names of a submission's files, for a page already allowed to show it."""
    return {f.id: str(crypto.open_json(f.name_token) or "") if f.name_token else "" for f in submission.files}


def export_rows(session: Session, user: User, form: Form) -> list[Opened]:
    """Every submitted answer of ``form`` the user may read (inspector: their subtree), audited
    per submission; 404 when the user may not export this form at all."""
    if not may_export(user, form):
        abort(404)
    stmt = (select(FormSubmission, User).join(User, User.id == FormSubmission.user_id)
            .where(FormSubmission.form_id == form.id, FormSubmission.status == "submitted",
                   people_in_scope(session, user))
            .order_by(User.unit_id, User.id))
    rows = [Opened(sub, owner, crypto.open_json(sub.answers_token)) for sub, owner in session.execute(stmt)]
    _record_reads(user, [r.submission for r in rows], "export")
    return rows


#: The audit action of a read by someone other than the owner, per target type: the reads the
#: person is shown (查阅记录 of a submission, of a talk about them).
READ_ACTIONS = {TARGET: READ_ACTION, "talk": "talk.read"}


def reads_of(session: Session, target_type: str, target_id: int) -> list[tuple]:
    """(when, reader's name, reader's unit name, how) of every read of a submission
    (``form_submission``) or a talk's note (``talk``) by someone other than its owner, newest
    first: what the person sees on their page. One query."""
    from ..models import Unit

    stmt = (select(AuditLog.at, User.name, Unit.name, AuditLog.detail)
            .outerjoin(User, User.id == AuditLog.actor_id).outerjoin(Unit, Unit.id == User.unit_id)
            .where(AuditLog.action == READ_ACTIONS[target_type], AuditLog.target_type == target_type,
                   AuditLog.target_id == str(target_id))
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    return [(at, name or "", unit_name or "", how or "") for at, name, unit_name, how in session.execute(stmt)]


# --- 谈心谈话 notes (issue 17 point 4) --------------------------------------------------------
#
# * The person who recorded the talk reads its note.
# * 纪检督察 (``inspector``) whose subtree holds the officer's unit read it too; each such read is
#   audited (``talk.read``).
# * The officer talked with sees that a talk was recorded (day, kind), never the note.
# * Everyone else: 404 for the talk's page, as if it did not exist.

TALK_READ_ACTION = "talk.read"


def may_read_note(session: Session, user: User | None, talk) -> bool:
    """The rule above for a talk's note."""
    if user is None or not user.is_active:
        return False
    if talk.recorder_id == user.id:
        return True
    if user.role != "inspector":
        return False
    officer = session.get(User, talk.officer_id)
    return officer is not None and unit_in_scope(session, user, officer.unit_id)


def may_see_talk(session: Session, user: User | None, talk) -> bool:
    """The talk's page exists for the note's readers and for the officer talked with."""
    return user is not None and user.is_active and (talk.officer_id == user.id or may_read_note(session, user, talk))


@dataclass
class OpenedTalk:
    """A talk someone may see; ``note`` is None unless they may read it."""

    talk: object
    officer: User
    recorder: User | None
    note: str | None


def open_talk(session: Session, user: User, talk_id: int) -> OpenedTalk:
    """The talk's page: 404 unless allowed; the note decrypted only for its readers, and a read by
    anyone other than its author audited at once (its own transaction, as for submissions)."""
    from ..models import Talk

    talk = session.get(Talk, talk_id)
    if talk is None or not may_see_talk(session, user, talk):
        abort(404)
    note = None
    if may_read_note(session, user, talk):
        note = str(crypto.open_json(talk.note_token) or "") if talk.note_token else ""
        if talk.recorder_id != user.id:
            side = db.new_write_session()
            try:
                side.add(audit.build("talk.read", actor=user, target_type="talk", target_id=talk.id))  # reads_of lists it
                side.commit()
            finally:
                side.close()
    return OpenedTalk(talk, session.get(User, talk.officer_id), session.get(User, talk.recorder_id), note)
