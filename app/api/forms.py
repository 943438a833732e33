"""/api/v1/forms/* (issue 17): the officer's confidential forms as JSON, over the same rules as
the pages (app/forms_/routes.py): who is asked to fill a form is ``queries.forms_for``, drafts
and submitting are ``services.start``/``services.save``, what is missing is
``definition.check_complete`` (inside ``save``), and who may read a submission is
``access.open_submission``, which audits every read by someone else and answers 404 to everyone
it refuses, exactly as for an id that does not exist. Nothing here decides any of those rules.
"""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access, api_error, signed_in
from ..db import db
from ..forms_ import access as rule, definition as defn, queries, services
from ..forms_.routes import PROBLEM_MESSAGES, _max_bytes, form_message
from ..timeutils import utc_iso
from . import bp

fillers = access(*queries.FILLER_ROLES)


def _status(sub) -> str:
    return sub.status if sub is not None else "not_started"


def _form_json(form, sub, now) -> dict:
    status = _status(sub)
    return {"id": form.id, "title": form.title, "confidentiality": form.confidentiality,
            "due_at": utc_iso(form.due_at), "overdue": status != "submitted" and queries.is_overdue(form, now),
            "closed": queries.is_closed(form, now), "status": status, "submission_id": sub.id if sub is not None else None}


def _files_json(sub) -> list[dict]:
    """The attachments' names (decrypted by access.file_names) and their URL: the page route,
    which serves the bytes through access.open_file."""
    names = rule.file_names(sub, current_user)
    return [{"id": f.id, "field_key": f.field_key, "kind": f.kind, "size": f.size, "name": names.get(f.id, ""),
             "url": url_for("forms.file", submission_id=sub.id, file_id=f.id)} for f in sub.files]


def _submission_json(sub) -> dict:
    return {"id": sub.id, "status": sub.status, "version": sub.version.number, "updated_at": utc_iso(sub.updated_at),
            "submitted_at": utc_iso(sub.submitted_at), "reopened_at": utc_iso(sub.reopened_at),
            "reopen_reason": rule.reopen_reason(db.session, current_user, sub) if sub.reopened_at else None}


def _not_asked():
    return api_error(404, "not_found", _("没有这张表。"))


def _form_error(err: services.FormError):
    """A refused save (``locked``: submitted and read-only; ``closed``: a survey past its deadline;
    ``unpublished``): 409, nothing kept."""
    db.session.rollback()
    return api_error(409, err.code, form_message(err.code, err.params))


def _answers_from_body(definition: dict, *, required: bool):
    """(answers, None) from the JSON body's ``answers``, or (None, error response). Every other
    top-level field (``user_id``, ``status``…) is ignored (A17). Without ``required`` a missing
    body or ``answers`` gives (None, None)."""
    payload = request.get_json(silent=True)
    if payload is None and (request.get_data() or required):
        return None, api_error(400, "bad_request", _("请求内容不是有效的 JSON。"))
    if payload is not None and not isinstance(payload, dict):
        return None, api_error(400, "bad_request", _("请求体应为 JSON 对象 {\"answers\": {...}}。"))
    if "answers" not in (payload or {}):
        if required:
            return None, api_error(422, "invalid", _("请求体应为 JSON 对象 {\"answers\": {...}}。"))
        return None, None
    try:
        return defn.parse_json(definition, payload["answers"]), None
    except defn.AnswerShapeError as err:
        if not err.key:
            return None, api_error(422, "invalid", _("answers 应为对象。"))
        return None, api_error(422, "invalid", _("%(key)s 的答案格式不正确，应为 %(expected)s。",
                                                 key=err.key, expected=err.expected), field=err.key)


@bp.get("/forms")
@fillers
def forms_list():
    """The forms the caller is asked to fill, soonest deadline first (the page's list)."""
    now = clock.now()
    return jsonify({"forms": [_form_json(form, sub, now) for form, sub in queries.forms_for(db.session, current_user)]})


def _asked(form_id: int):
    """(form, own submission or None, the version filled: the submission's, else the latest) of
    a form the caller is asked to fill; None otherwise (the page's rule, queries.form_for)."""
    found = queries.form_for(db.session, current_user, form_id)
    if found is None:
        return None
    form, sub = found
    return form, sub, sub.version if sub is not None else queries.latest_version(db.session, form.id)


@bp.get("/forms/<id:form_id>")
@fillers
def forms_get(form_id: int):
    """The version the caller fills (their submission's, else the latest) and their own answers."""
    found = _asked(form_id)
    if found is None:
        return _not_asked()
    form, sub, version = found
    return jsonify({"form": {**_form_json(form, sub, clock.now()), "description": form.description or ""},
                    "version": version.number, "definition": version.definition,
                    "answers": rule.own_answers(current_user, sub),
                    "submission": {**_submission_json(sub), "files": _files_json(sub)} if sub is not None else None})


@bp.put("/forms/<id:form_id>/draft")
@fillers
def forms_draft(form_id: int):
    """Save the draft, as the page's autosave does: the answers replace the stored ones."""
    found = _asked(form_id)
    if found is None:
        return _not_asked()
    form, sub, version = found
    answers, refused = _answers_from_body(version.definition, required=True)
    if refused:
        return refused
    now = clock.now()
    try:
        sub = services.start(db.session, form, current_user)
        services.save(db.session, sub, answers, now=now, max_bytes=_max_bytes())
    except services.FormError as err:
        return _form_error(err)
    db.session.commit()
    return jsonify({"saved": True, "submission": _submission_json(sub), "answers": answers})


@bp.post("/forms/<id:form_id>/submit")
@fillers
def forms_submit(form_id: int):
    """Submit once, with the body's ``answers`` or, without them, the saved draft. Incomplete
    answers get 422 with what is missing and change nothing (not even the draft); a second
    submit gets 409 ``locked``."""
    found = _asked(form_id)
    if found is None:
        return _not_asked()
    form, sub, version = found
    answers, refused = _answers_from_body(version.definition, required=False)
    if refused:
        return refused
    if answers is None:
        answers = rule.own_answers(current_user, sub)
    try:
        sub = services.start(db.session, form, current_user)
        outcome = services.save(db.session, sub, answers, submit=True, now=clock.now(), max_bytes=_max_bytes())
    except services.FormError as err:
        return _form_error(err)
    if outcome.problems:
        db.session.rollback()
        problems = {key: {"code": code, "message": PROBLEM_MESSAGES[code]()}
                    for key, code in outcome.problems.by_key.items()}
        return api_error(422, "incomplete", _("还有 %(n)d 项需要填写或更正，没有提交。", n=len(problems)),
                         problems=problems)
    db.session.commit()
    return jsonify({"submission": _submission_json(sub)})


@bp.get("/forms/submissions/<id:submission_id>")
@signed_in
def forms_submission(submission_id: int):
    """A submission as the page shows it, through access.open_submission (404 unless allowed;
    a read by anyone but its owner is audited). Its owner also gets who has read it."""
    opened = rule.open_submission(db.session, current_user, submission_id, how="api")
    sub, owner = opened.submission, opened.owner
    mine = sub.user_id == current_user.id
    reads = [{"at": utc_iso(at), "reader": name, "unit": unit_name, "how": how}
             for at, name, unit_name, how in rule.reads_of(db.session, rule.TARGET, sub.id)] if mine else None
    return jsonify({"submission": {
        **_submission_json(sub),
        "form": {"id": sub.form.id, "title": sub.form.title, "confidentiality": sub.form.confidentiality},
        "owner": {"id": owner.id, "name": owner.name, "unit": {"id": owner.unit.id, "name": owner.unit.name}},
        "definition": sub.version.definition, "answers": opened.answers, "files": _files_json(sub),
        "reads": reads}})
