"""Writes about forms: drafts, submitting once, reopening, attachments, and the office's builder.
Functions flush; the request or command commits."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..models import Form, FormFile, FormSubmission, FormVersion, Notification, User
from ..tasks.photos import PhotoError, clean_jpeg
from . import crypto, definition as defn
from .queries import FILLER_ROLES, latest_version

MAX_FILES_PER_FIELD = 3


class FormError(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


# --- attachments ------------------------------------------------------------------------------

def check_attachment(data: bytes, max_bytes: int) -> tuple[str, bytes]:
    """(kind, bytes to store) of an uploaded photo or PDF, judged by content, never by its name:
    a PDF must start with ``%PDF-``; a photo must decode (Pillow) and is re-encoded as a fresh
    JPEG without metadata (GPS position, camera serial), as task photos are. FormError otherwise."""
    if not data:
        raise FormError("file_empty")
    if len(data) > max_bytes:
        raise FormError("file_size", mb=f"{max_bytes / (1024 * 1024):g}")
    if data.startswith(b"%PDF-"):
        return "pdf", data
    try:
        return "jpeg", clean_jpeg(data, {"type": "type", "empty": "empty", "size": "size"})
    except PhotoError:
        raise FormError("file_type") from None


# --- filling ----------------------------------------------------------------------------------

@dataclass
class Upload:
    field_key: str
    name: str
    data: bytes


@dataclass
class Outcome:
    submission: FormSubmission
    problems: defn.Problems = field(default_factory=defn.Problems)


def start(session: Session, form: Form, user: User) -> FormSubmission:
    """The person's submission, created as an empty draft on the latest version if new."""
    sub = session.scalar(select(FormSubmission).where(FormSubmission.form_id == form.id,
                                                      FormSubmission.user_id == user.id))
    if sub is None:
        version = latest_version(session, form.id)
        if version is None:
            raise FormError("unpublished")
        try:
            with session.begin_nested():  # two autosaves racing for the first draft (rule 5)
                sub = FormSubmission(form_id=form.id, version_id=version.id, user_id=user.id, status="draft",
                                     answers_token="")
                session.add(sub)
        except IntegrityError:
            sub = session.scalar(select(FormSubmission).where(FormSubmission.form_id == form.id,
                                                              FormSubmission.user_id == user.id))
    return sub


def save(session: Session, sub: FormSubmission, answers: dict, *, uploads: list[Upload] = (),
         remove_file_ids: list[int] = (), submit: bool = False, now: datetime, max_bytes: int) -> Outcome:
    """Save a draft (answers sealed with FORMS_KEYS), add or drop attachments, and submit when
    asked and complete. A submitted submission is read-only: FormError ``locked``. Incomplete
    answers asked to be submitted stay a draft; the outcome lists what is missing."""
    if sub.status == "submitted":
        raise FormError("locked")
    version = sub.version
    file_keys = {f["key"] for f in defn.questions(version.definition) if f["type"] == "file"}
    sub.answers_token = crypto.seal_json(answers)
    sub.updated_at = now
    drop = {int(i) for i in remove_file_ids}
    for row in list(sub.files):
        if row.id in drop:
            sub.files.remove(row)
    for upload in uploads:
        if upload.field_key not in file_keys:
            continue
        if sum(1 for f in sub.files if f.field_key == upload.field_key) >= MAX_FILES_PER_FIELD:
            raise FormError("too_many_files", n=MAX_FILES_PER_FIELD)
        kind, data = check_attachment(upload.data, max_bytes)
        sub.files.append(FormFile(field_key=upload.field_key, kind=kind, size=len(data),
                                  name_token=crypto.seal_json(upload.name[:120]), data_token=crypto.seal_bytes(data)))
    session.flush()
    outcome = Outcome(sub)
    if submit:
        files_by_key: dict = {}
        for f in sub.files:
            files_by_key.setdefault(f.field_key, []).append(f.id)
        outcome.problems = defn.check_complete(version.definition, answers, files_by_key)
        if not outcome.problems:
            sub.status = "submitted"
            sub.submitted_at = now
            audit.record(session, "form.submit", actor=session.get(User, sub.user_id), target_type="form_submission",
                         target_id=sub.id)
            session.flush()
    return outcome


def reopen(session: Session, sub: FormSubmission, reviewer: User, reason: str, now: datetime) -> None:
    """The reviewer sends a submission back to a draft the person can correct (its version
    stays). The caller has checked ``access.may_reopen``."""
    reason = (reason or "").strip()[:500]
    if not reason:
        raise FormError("reason_required")
    sub.status = "draft"
    sub.reopened_at = now
    sub.reopened_by_id = reviewer.id
    sub.reopen_reason = reason
    # Only the person hears of it: the reason may be as confidential as the answers.
    session.add(Notification(user_id=sub.user_id, kind="form_reopened", title=f"表单退回修改：{sub.form.title}"[:120],
                             body=reason, link=f"/forms/{sub.form_id}", created_at=now))
    audit.record(session, "form.reopen", actor=reviewer, target_type="form_submission", target_id=sub.id)
    session.flush()


# --- the office's builder ---------------------------------------------------------------------

#: How much each level protects an answer: a form with answers may only move up this scale.
PROTECTION = {"open": 0, "confidential": 1, "survey": 2}


def save_settings(session: Session, form: Form | None, actor: User, *, title: str, description: str,
                  confidentiality: str, target_unit_id: int | None, target_roles: list[str], due_at: datetime,
                  stage_id: int | None) -> Form:
    roles = [r for r in FILLER_ROLES if r in set(target_roles)]
    if not roles:
        raise FormError("roles")
    if form is None:
        form = Form(created_by_id=actor.id, draft_definition={"fields": []})
        session.add(form)
    else:
        wanted = confidentiality if confidentiality in PROTECTION else "confidential"
        if PROTECTION[wanted] < PROTECTION[form.confidentiality] and session.scalar(
                select(func.count(FormSubmission.id)).where(FormSubmission.form_id == form.id)):
            # Answers given in confidence stay confidential, and anonymous ones anonymous: a
            # lower level would hand them to more readers after the fact.
            raise FormError("survey_locked" if form.survey else "confidentiality_locked")
    form.title, form.description = title.strip()[:120], description.strip()[:2000]
    form.confidentiality = confidentiality if confidentiality in PROTECTION else "confidential"
    form.target_unit_id, form.target_roles, form.due_at, form.stage_id = target_unit_id, roles, due_at, stage_id
    session.flush()
    audit.record(session, "form.settings", actor=actor, target_type="form", target_id=form.id)
    return form


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def add_field(form: Form, *, kind: str, label: str, help_text: str = "", required: bool = False,
              options: str = "", columns: str = "") -> None:
    fields = copy.deepcopy((form.draft_definition or {}).get("fields", []))
    used = {f["key"] for f in fields}
    n = len(fields) + 1
    while f"f{n}" in used:
        n += 1
    item = {"key": f"f{n}", "type": kind, "label": label, "help": help_text, "required": required}
    if kind in defn.CHOICE_TYPES:
        item["options"] = _lines(options)
    if kind == "group":
        item["columns"] = [{"label": c} for c in _lines(columns)]
    try:
        form.draft_definition = defn.validate_definition({"fields": fields + [item]}, publishing=False)
    except defn.DefinitionError as err:
        raise FormError(f"field_{err.code}") from None


def move_field(form: Form, index: int, step: int) -> None:
    fields = copy.deepcopy((form.draft_definition or {}).get("fields", []))
    other = index + step
    if not (0 <= index < len(fields) and 0 <= other < len(fields)):
        raise FormError("bad_position")
    fields[index], fields[other] = fields[other], fields[index]
    form.draft_definition = {"fields": fields}


def delete_field(form: Form, index: int) -> None:
    fields = copy.deepcopy((form.draft_definition or {}).get("fields", []))
    if not 0 <= index < len(fields):
        raise FormError("bad_position")
    del fields[index]
    form.draft_definition = {"fields": fields}


def publish(session: Session, form: Form, actor: User, now: datetime) -> FormVersion:
    """A new immutable version from the builder's draft. Submissions already started keep
    theirs; people who start after this get the new one."""
    try:
        checked = defn.validate_definition(form.draft_definition)
    except defn.DefinitionError as err:
        raise FormError(f"field_{err.code}") from None
    latest = latest_version(session, form.id)
    if latest is not None and latest.definition == checked:
        raise FormError("unchanged")
    number = (session.scalar(select(func.max(FormVersion.number)).where(FormVersion.form_id == form.id)) or 0) + 1
    version = FormVersion(form_id=form.id, number=number, definition=checked, published_at=now,
                          published_by_id=actor.id)
    session.add(version)
    session.flush()
    audit.record(session, "form.publish", actor=actor, target_type="form", target_id=form.id, detail=f"v{number}")
    return version
