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
from ..notices import reminders
from ..tasks.photos import PhotoError, clean_jpeg
from . import crypto, definition as defn
from .queries import FILLER_ROLES, is_closed, latest_version

MAX_FILES_PER_FIELD = 3
#: The body of the notice of a reopen: never the reason (migration 0016 keeps a copy of it).
REOPENED_BODY = "表单已退回修改，请打开表单查看原因。"


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


def _lock(session: Session, sub: FormSubmission) -> None:
    """Re-read the submission under a row lock before its status decides anything, as the
    ledger and tasks do: on PostgreSQL ``SELECT … FOR UPDATE`` makes a second submit, a draft
    save or a reopen arriving at the same moment wait for this transaction and then see the
    status it leaves (on SQLite ``BEGIN IMMEDIATE`` already serialises every write). The files
    are read again too, so a concurrent upload counts towards the limit."""
    session.refresh(sub, with_for_update=True)
    session.expire(sub, ["files"])


def save(session: Session, sub: FormSubmission, answers: dict, *, uploads: list[Upload] = (),
         remove_file_ids: list[int] = (), submit: bool = False, now: datetime, max_bytes: int) -> Outcome:
    """Save a draft (answers sealed with FORMS_KEYS), add or drop attachments, and submit when
    asked and complete. A submitted submission is read-only: FormError ``locked`` (checked under
    the row lock, so of two writes at once only one can submit, and nothing is written after
    it); a closed survey takes nothing: FormError ``closed``. Incomplete answers asked to be
    submitted stay a draft; the outcome lists what is missing."""
    _lock(session, sub)
    if sub.status == "submitted":
        raise FormError("locked")
    if is_closed(sub.form, now):
        raise FormError("closed")
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
            # The deadline reminders of this form are answered (app/forms_/remind.py).
            reminders.resolve(session, "form_submitted", reminders.form_subject(sub.form_id), [sub.user_id], now)
            session.flush()
    return outcome


def reopen(session: Session, sub: FormSubmission, reviewer: User, reason: str, now: datetime) -> None:
    """The reviewer sends a submission back to a draft the person can correct (its version
    stays). The caller has checked ``access.may_reopen``; the status is checked again under the
    row lock, so of two reviewers at once the second gets FormError ``not_submitted``."""
    reason = (reason or "").strip()[:500]
    if not reason:
        raise FormError("reason_required")
    _lock(session, sub)
    if sub.status != "submitted":
        raise FormError("not_submitted")
    sub.status = "draft"
    sub.reopened_at = now
    sub.reopened_by_id = reviewer.id
    # The reason may say as much as the answers: sealed like them, read through access.py only,
    # and left out of the notice, which sends the person to the form to read it.
    sub.reopen_reason_token = crypto.seal_json(reason)
    sub.reopen_reason = ""
    session.add(Notification(user_id=sub.user_id, kind="form_reopened", title=f"表单退回修改：{sub.form.title}"[:120],
                             body=REOPENED_BODY, link=f"/forms/{sub.form_id}", created_at=now))
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


def _draft_fields(form: Form) -> list[dict]:
    return copy.deepcopy((form.draft_definition or {}).get("fields", []))


def _item(key: str, kind: str, label: str, help_text: str, required: bool, options: str, columns: str,
          details_label: str) -> dict:
    """A field as the builder's page describes it (options and columns one per line), before
    ``definition.validate_definition`` checks and normalises it."""
    item = {"key": key, "type": kind, "label": label, "help": help_text, "required": required}
    if kind in defn.CHOICE_TYPES:
        item["options"] = _lines(options)
    if kind == "group":
        item["columns"] = [{"label": c} for c in _lines(columns)]
    if kind == "yesno":
        item["details_label"] = details_label
    return item


def _store(form: Form, fields: list[dict]) -> dict:
    """Check the whole draft with the definition's one validator (as publishing will) and keep it."""
    try:
        form.draft_definition = defn.validate_definition({"fields": fields}, publishing=False)
    except defn.DefinitionError as err:
        raise FormError(f"field_{err.code}") from None
    return form.draft_definition


def _at(fields: list[dict], index: int, key: str | None) -> dict:
    """The field at ``index``; when the page sent the ``key`` it showed there, it must still be
    that field (another office user may have moved or deleted one meanwhile)."""
    if not 0 <= index < len(fields):
        raise FormError("bad_position")
    if key is not None and fields[index].get("key") != key:
        raise FormError("stale")
    return fields[index]


def _audit_field(item: dict) -> dict:
    """What the audit trail keeps of a field (its words, not the answers)."""
    return {"field_key": item.get("key"), "field_type": item.get("type"), "field_label": item.get("label"),
            "field_help": item.get("help", ""), "required": bool(item.get("required")),
            "options": item.get("options"), "columns": [c["label"] for c in item.get("columns") or []] or None,
            "details_label": item.get("details_label")}


def add_field(session: Session, form: Form, actor: User, *, kind: str, label: str, help_text: str = "",
              required: bool = False, options: str = "", columns: str = "", details_label: str = "") -> dict:
    """Append a field to the draft under a new key (``f<n>``, never reused in this draft)."""
    fields = _draft_fields(form)
    used = {f["key"] for f in fields}
    n = len(fields) + 1
    while f"f{n}" in used:
        n += 1
    stored = _store(form, fields + [_item(f"f{n}", kind, label, help_text, required, options, columns,
                                          details_label)])["fields"][-1]
    audit.record(session, "form.field_add", actor=actor, target_type="form", target_id=form.id,
                 after=_audit_field(stored), detail=stored["label"])
    return stored


def edit_field(session: Session, form: Form, actor: User, index: int, key: str | None, *, kind: str, label: str,
               help_text: str = "", required: bool = False, options: str = "", columns: str = "",
               details_label: str = "") -> dict:
    """Change the draft's field at ``index`` in place: its words, required, options, columns, the
    yes/no details prompt. Checked by the same validator as adding; FormError changes nothing.

    The key stays, so the field is the same question in every version: the Excel export and the
    pages match answers to questions by key across versions (``export.workbook``). Changing the
    type is therefore refused (``type_locked``) rather than given a new key: an answer's shape
    follows its type (a list for 多选, rows for a table, ``{"value", "details"}`` for 是/否), so one
    key with two types would put answers of one shape under a question of another, and a silent
    new key would split one question into two export columns without the office seeing why.
    Deleting the field and adding one of the new type says exactly that."""
    fields = _draft_fields(form)
    old = _at(fields, index, key)
    if kind != old["type"]:
        raise FormError("type_locked")
    fields[index] = _item(old["key"], kind, label, help_text, required, options, columns, details_label)
    stored = _store(form, fields)["fields"][index]
    if stored != old:
        audit.record(session, "form.field_edit", actor=actor, target_type="form", target_id=form.id,
                     before=_audit_field(old), after=_audit_field(stored), detail=stored["label"])
    return stored


def move_field(session: Session, form: Form, actor: User, index: int, step: int, key: str | None = None) -> None:
    """Swap the field at ``index`` with its neighbour (``step`` -1 up, +1 down). Section headings
    are items of the same list, so moving a question past a heading moves it into the next or
    previous section, and moving a heading carries the section boundary."""
    fields = _draft_fields(form)
    item = _at(fields, index, key)
    other = index + (-1 if step < 0 else 1)
    if not 0 <= other < len(fields):
        raise FormError("bad_position")
    fields[index], fields[other] = fields[other], fields[index]
    form.draft_definition = {"fields": fields}
    audit.record(session, "form.field_move", actor=actor, target_type="form", target_id=form.id,
                 before={"position": index + 1}, after={"position": other + 1}, detail=item["label"])


def move_to_section(session: Session, form: Form, actor: User, index: int, key: str | None, section_key: str) -> None:
    """Move the question at ``index`` to the end of the section whose heading has ``section_key``
    ("" is the part before the first heading), in one step however far away it is."""
    fields = _draft_fields(form)
    item = _at(fields, index, key)
    if item["type"] == "section":
        raise FormError("bad_position")
    rest = fields[:index] + fields[index + 1:]
    if section_key:
        start = next((i for i, f in enumerate(rest) if f["type"] == "section" and f["key"] == section_key), None)
        if start is None:
            raise FormError("bad_position")
    else:
        start = -1
    end = next((i for i in range(start + 1, len(rest)) if rest[i]["type"] == "section"), len(rest))
    rest.insert(end, item)
    form.draft_definition = {"fields": rest}
    if end != index:
        audit.record(session, "form.field_move", actor=actor, target_type="form", target_id=form.id,
                     before={"position": index + 1}, after={"position": end + 1}, detail=item["label"])


def delete_field(session: Session, form: Form, actor: User, index: int, key: str | None = None) -> None:
    fields = _draft_fields(form)
    item = _at(fields, index, key)
    del fields[index]
    form.draft_definition = {"fields": fields}
    audit.record(session, "form.field_delete", actor=actor, target_type="form", target_id=form.id,
                 before=_audit_field(item), detail=item["label"])


def publish(session: Session, form: Form, actor: User, now: datetime) -> FormVersion:
    """A new immutable version from the builder's draft. Submissions already started keep
    theirs; people who start after this get the new one."""
    try:
        checked = defn.validate_definition(form.draft_definition)
    except defn.DefinitionError as err:
        raise FormError(f"field_{err.code}") from None
    latest = latest_version(session, form.id)
    if not defn.differs(checked, latest.definition if latest else None):
        raise FormError("unchanged")
    number = (session.scalar(select(func.max(FormVersion.number)).where(FormVersion.form_id == form.id)) or 0) + 1
    version = FormVersion(form_id=form.id, number=number, definition=checked, published_at=now,
                          published_by_id=actor.id)
    session.add(version)
    session.flush()
    audit.record(session, "form.publish", actor=actor, target_type="form", target_id=form.id, detail=f"v{number}")
    return version
