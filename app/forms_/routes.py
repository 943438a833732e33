"""Forms (查纠整改 规定动作): the person's list and fill page, a submission at
``/forms/submissions/<id>`` with its files, and the reviewer's reopen. Readability is decided
by app/forms_/access.py alone; anyone it refuses gets 404 from every route here.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access, signed_in
from ..db import db
from ..models import Unit
from ..timeutils import utc_iso
from . import access as rule, definition as defn, queries, services, survey
from .webforms import FIELD_LABELS, ROLE_LABELS, STATUS_LABELS, ReopenForm

bp = Blueprint("forms", __name__)
fillers = access(*queries.FILLER_ROLES)


@bp.context_processor
def _labels() -> dict:
    return {"field_labels": FIELD_LABELS, "form_status_labels": STATUS_LABELS, "filler_role_labels": ROLE_LABELS,
            "yesno_labels": {"yes": _("是"), "no": _("否")}, "form_overdue": queries.is_overdue,
            "form_closed": queries.is_closed,
            "survey_min": survey.MIN_ANSWERS}


def form_message(code: str, params: dict | None = None) -> str:
    p = params or {}
    return {
        "locked": _("已提交，不能再修改。如需更正，请联系纪检督察退回。"),
        "closed": _("这份测评已于截止时间结束，不再接收答卷。"),
        "unpublished": _("这张表还没有发布。"),
        "file_empty": _("上传的文件是空的，没有保存。"),
        "file_size": _("附件超过 %(mb)s MB 的上限，没有保存。", mb=p.get("mb", "")),
        "file_type": _("只能上传照片（JPEG、PNG、WebP）或 PDF 文件；这个文件的内容不是，没有保存。"),
        "too_many_files": _("每项最多上传 %(n)d 个附件。", n=p.get("n", 3)),
        "reason_required": _("请填写退回修改的原因。"),
        "not_submitted": _("这份表单已被退回本人修改，等本人重新提交后才能查看。"),
        "roles": _("请至少选择一类填报人员。"),
        "confidentiality_locked": _("已有人按保密表单填写，不能改为一般表单。"),
        "survey_locked": _("已有人按匿名测评填写，不能改为可以查看个人答卷的级别。"),
        "bad_position": _("无效的位置。"),
        "unchanged": _("与已发布的版本相同，无需再次发布。"),
        "field_empty": _("至少需要一道题才能发布。"),
        "field_options": _("单选、多选至少需要两个不同的选项。"),
        "field_columns": _("表格至少需要一列（最多 8 列）。"),
        "field_label": _("请填写题目。"),
        "field_shape": _("题目太多了（最多 80 项）。"),
        "field_type": _("请选择题目类型。"),
        "field_key": _("题目编号无效，请刷新页面后再试。"),
        "type_locked": _("题目类型不能修改：已填写的答案按原类型保存。如需换一种类型，请删除此项后重新添加。"),
        "stale": _("这一项已被移动或删除（可能有人同时在修改），请看最新的题目列表后再操作。"),
    }.get(code, code)


PROBLEM_MESSAGES = {"required": lambda: _("此项必填。"), "date": lambda: _("请填写有效日期，例如 2021-05-20。"),
                    "number": lambda: _("请填写数字。"), "details": lambda: _("选择“是”时请说明具体情况。"),
                    "row": lambda: _("表格中每一行的各项都要填写。")}


def _max_bytes() -> int:
    return current_app.config.get("FORMS_FILE_MAX_BYTES", 5 * 1024 * 1024)


@bp.route("/")
@fillers
def index():
    return render_template("forms/index.html", rows=queries.forms_for(db.session, current_user), now=clock.now())


def _render_fill(form, sub, answers, problems=None, extra_rows=None, status=200):
    version = sub.version if sub else queries.latest_version(db.session, form.id)
    names = rule.file_names(sub, current_user) if sub else {}
    return render_template("forms/fill.html", form=form, sub=sub, version=version, answers=answers,
                           sections=defn.sections(version.definition), problems=(problems.by_key if problems else {}),
                           problem_text={k: v() for k, v in PROBLEM_MESSAGES.items()}, extra_rows=extra_rows or {},
                           file_names=names, max_mb=f"{_max_bytes() / (1024 * 1024):g}", now=clock.now(),
                           reopen_reason=rule.reopen_reason(db.session, current_user, sub)), status


def _uploads(version) -> list[services.Upload]:
    out = []
    for f in defn.questions(version.definition):
        if f["type"] == "file":
            for upload in request.files.getlist(f"file_{f['key']}"):
                if upload and upload.filename:
                    out.append(services.Upload(f["key"], upload.filename, upload.stream.read(_max_bytes() + 1)))
    return out


@bp.route("/<int:form_id>", methods=["GET", "POST"])
@fillers
def fill(form_id: int):
    found = queries.form_for(db.session, current_user, form_id) or abort(404)
    form, sub = found
    if sub is not None and sub.status == "submitted":
        return redirect(url_for("forms.submission", submission_id=sub.id))
    if request.method == "GET":
        if queries.is_closed(form, clock.now()):
            flash(form_message("closed"), "error")
            return redirect(url_for("forms.index"))
        return _render_fill(form, sub, rule.own_answers(current_user, sub))
    action = request.form.get("action", "draft")
    try:
        sub = services.start(db.session, form, current_user)
        answers = defn.parse_post(sub.version.definition, request.form)
        outcome = services.save(db.session, sub, answers, uploads=_uploads(sub.version),
                                remove_file_ids=[i for i in request.form.getlist("remove_file") if i.isdigit()],
                                submit=action == "submit", now=clock.now(), max_bytes=_max_bytes())
    except services.FormError as err:
        db.session.rollback()
        flash(form_message(err.code, err.params), "error")
        sub = queries.own_submission(db.session, current_user, form_id)
        return _render_fill(form, sub, defn.parse_post((sub.version if sub else queries.latest_version(
            db.session, form.id)).definition, request.form), status=422)
    db.session.commit()
    if outcome.problems:
        flash(_("还有 %(n)d 项需要填写或更正，已保存为草稿。", n=len(outcome.problems.by_key)), "error")
        return _render_fill(form, sub, answers, outcome.problems, status=422)
    if sub.status == "submitted":
        flash(_("已提交，谢谢参与。匿名测评提交后不能修改。") if form.survey
              else _("已提交。提交后不能修改；如需更正，请联系纪检督察退回。"), "success")
        return redirect(url_for("forms.submission", submission_id=sub.id))
    if action.startswith("addrow:"):
        return _render_fill(form, sub, answers, extra_rows={action[len("addrow:"):]: 1})
    flash(_("草稿已保存，下次打开仍在。"), "success")
    return redirect(url_for("forms.fill", form_id=form_id))


@bp.route("/<int:form_id>/autosave", methods=["POST"])
@fillers
def autosave(form_id: int):
    """The fill page's script saves the draft as the person types (form fields, no files)."""
    found = queries.form_for(db.session, current_user, form_id)
    if found is None:
        return jsonify({"error": {"code": "not_found", "message": _("没有这张表。")}}), 404
    try:
        sub = services.start(db.session, found[0], current_user)
        services.save(db.session, sub, defn.parse_post(sub.version.definition, request.form), now=clock.now(),
                      max_bytes=_max_bytes())
    except services.FormError as err:
        db.session.rollback()
        return jsonify({"error": {"code": err.code, "message": form_message(err.code, err.params)}}), 409
    db.session.commit()
    # The server's time of the save (UTC ISO; the page shows it in Asia/Shanghai, not the phone's clock).
    return jsonify({"saved": True, "submission_id": sub.id, "saved_at": utc_iso(sub.updated_at)})


@bp.route("/submissions/<int:submission_id>")
@signed_in
def submission(submission_id: int):
    opened = rule.open_submission(db.session, current_user, submission_id)
    sub = opened.submission
    mine = sub.user_id == current_user.id
    return render_template("forms/submission.html", opened=opened, sub=sub, form=sub.form, mine=mine,
                           sections=defn.sections(sub.version.definition), answers=opened.answers,
                           file_names=rule.file_names(sub, current_user),
                           unit=db.session.get(Unit, opened.owner.unit_id),
                           reads=rule.reads_of(db.session, rule.TARGET, sub.id) if mine else [],
                           reopen_reason=rule.reopen_reason(db.session, current_user, sub),
                           can_reopen=rule.may_reopen(db.session, current_user, sub), reopen_form=ReopenForm())


@bp.route("/submissions/<int:submission_id>/files/<int:file_id>")
@signed_in
def file(submission_id: int, file_id: int):
    row, name, data = rule.open_file(db.session, current_user, submission_id, file_id)
    mimetype = "application/pdf" if row.kind == "pdf" else "image/jpeg"
    response = current_app.response_class(data, mimetype=mimetype)
    ext = "pdf" if row.kind == "pdf" else "jpg"
    response.headers["Content-Disposition"] = f'inline; filename="attachment-{row.id}.{ext}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/submissions/<int:submission_id>/reopen", methods=["POST"])
@access("supervisor", "inspector", "admin", mfa=True)
def reopen(submission_id: int):
    sub = rule.submission_or_404(db.session, current_user, submission_id)
    if not rule.may_reopen(db.session, current_user, sub):
        abort(404)
    form_id = sub.form_id
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(form_message("reason_required"), "error")
        return redirect(url_for("forms.submission", submission_id=submission_id))
    try:
        services.reopen(db.session, sub, current_user, form.reason.data, clock.now())
    except services.FormError as err:  # another reviewer reopened it a moment before
        db.session.rollback()
        flash(form_message(err.code, err.params), "error")
        return redirect(url_for("forms.desk_form", form_id=form_id))
    db.session.commit()
    flash(_("已退回本人修改。"), "success")
    # Reopened, it is the person's draft again and no longer readable by the reviewer
    # (access.may_read): back to the desk, where it shows as 填写中.
    return redirect(url_for("forms.desk_form", form_id=form_id))

