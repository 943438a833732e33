"""Campaign tasks: the officer's list and completion form, proof photos, review, task creation.

Uploads (QUALITY A34): only the completion form takes photos; its request cap is raised to
three photos before CSRFProtect reads the body; a refused photo stores nothing and says why.
Proof photos are served to their owner and to supervisors whose subtree holds the owner (A16).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import audit, clock
from ..auth.access import access
from ..auth.scope import unit_in_scope
from ..db import db
from ..models import CampaignStage, Task, User
from ..timeutils import local_day, to_local, to_utc
from ..forms_ import queries as form_queries
from ..forms_.webforms import STATUS_LABELS as FORM_STATUS_LABELS
from ..ids import parse_id_arg
from . import photos, queries, services
from .forms import (KIND_LABELS, STAGE_LABELS, STATUS_LABELS, CompleteForm, ReviewForm, StageForm, TaskEditForm,
                    TaskForm)

bp = Blueprint("tasks", __name__)
reviewers = access("supervisor", "admin", mfa=True)
DEFAULT_PHOTO_MAX = 8 * 1024 * 1024
FORM_SLACK = 256 * 1024
REVIEW_STATUSES = ("submitted", "returned", "accepted", "all")
MAX_PAGE = 10000


def photo_max() -> int:
    return current_app.config.get("TASK_PHOTO_MAX_BYTES", DEFAULT_PHOTO_MAX)


@bp.context_processor
def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "stage_labels": STAGE_LABELS}


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    if endpoint == "tasks.task" and request.method == "POST" and current_user.is_authenticated \
            and current_user.role == "officer":
        request.max_content_length = photos.MAX_PHOTOS * photo_max() + FORM_SLACK


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    return render_template("errors/upload_refused.html", message=_size_message(), back_url=url_for("tasks.index"),
                           back_label=_("返回任务")), 413


def _size_message() -> str:
    mb = photo_max() / (1024 * 1024)
    return _("照片超过 %(mb)s MB 的上限，没有保存任何内容。请压缩或换一张后重新上传。", mb=f"{mb:g}")


def _photo_messages() -> dict:
    return {"empty": _("上传的照片是空文件，没有保存。"),
            "type": _("只能上传 JPEG、PNG 或 WebP 格式的照片。这个文件的内容不是照片（例如改了扩展名的网页），没有保存。"),
            "size": _size_message()}


def _task_message(err: services.TaskError) -> str:
    code, p = err.code, err.params
    return {
        "too_short": lambda: _("心得至少需要 %(n)d 字，现在只有 %(have)d 字。已保存为草稿。", n=p.get("n", 0),
                               have=p.get("have", 0)),
        "too_many_photos": lambda: _("最多上传 %(n)d 张照片，没有保存。", n=p.get("n", 3)),
        "proof_empty": lambda: _("请填写说明或上传至少一张照片。"),
        "not_read": lambda: _("请先学完关联的学习内容，学完后再点“完成”。"),
        "locked": lambda: _("已提交，等待审核，不能再修改。"),
        "not_waiting": lambda: _("这条提交已经审核过了。"),
        "comment_required": lambda: _("退回时请填写意见，告诉干警需要怎样修改。"),
        "bad_action": lambda: _("无效的操作。"),
        "stage_dates": lambda: _("结束日期不能早于开始日期。"),
        "has_submissions": lambda: _("已有干警提交或保存了这项任务，不能删除。可以“撤回”：干警不再看到它，已交材料保留备查。"),
        "already_withdrawn": lambda: _("这项任务已经撤回。"),
        "not_withdrawn": lambda: _("这项任务没有撤回。"),
        "not_event": lambda: _("只有“参加活动”任务可以确认参加。"),
        "none_selected": lambda: _("请先勾选要确认参加的干警。"),
        "too_many_selected": lambda: _("一次最多确认 %(n)d 人。", n=p.get("n", 0)),
        "not_in_scope": lambda: _("所选人员不在您的管辖范围内，或这项任务不面向他们；没有做任何修改。"),
    }.get(code, lambda: code)()


# --- officers -------------------------------------------------------------------------------

@bp.route("/")
@access("officer")
def index():
    now = clock.now()
    today = local_day(now)
    return render_template("tasks/index.html", rows=queries.task_rows(db.session, current_user, now, today),
                           stage=queries.current_stage(db.session, today), now=now,
                           # Submitted ones stay (已完成); a closed survey never answered is not a task.
                           forms=[(form, sub) for form, sub in form_queries.forms_for(db.session, current_user)
                                  if (sub is not None and sub.status == "submitted") or form_queries.to_do(form, sub, now)],
                           form_status_labels=FORM_STATUS_LABELS, form_overdue=form_queries.is_overdue,
                           form_closed=form_queries.is_closed)


def _render_task(task: Task, sub, form: CompleteForm, status: int = 200):
    return render_template("tasks/task.html", task=task, sub=sub, form=form, now=clock.now(),
                           item=queries.item_of(db.session, task), max_photos=photos.MAX_PHOTOS,
                           max_mb=f"{photo_max() / (1024 * 1024):g}"), status


@bp.route("/<int:task_id>", methods=["GET", "POST"])
@access("officer")
def task(task_id: int):
    found = queries.visible_task(db.session, current_user, task_id) or abort(404)
    sub = queries.own_submission(db.session, current_user, task_id)
    form = CompleteForm()
    if request.method == "GET":
        form.text.data = sub.text if sub else ""
        return _render_task(found, sub, form)
    if not form.validate_on_submit():
        return _render_task(found, sub, form, 422)
    submit = form.action.data == "submit"
    uploads = [f for f in request.files.getlist("photos") if f and f.filename][:photos.MAX_PHOTOS + 1]
    remove = request.form.getlist("remove_photo")
    stored: list[str] = []
    try:
        sub = services.get_or_create_submission(db.session, found, current_user)
        services.check_photo_count(sub, remove, len(uploads))
        for upload in uploads:
            stored.append(photos.store(upload.stream, photo_max(), _photo_messages()))
        outcome = services.save(db.session, found, sub, text=form.text.data or "", add_photos=stored,
                                remove_photos=remove, submit=submit, now=clock.now())
    except (photos.PhotoError, services.TaskError) as err:
        db.session.rollback()
        photos.remove(stored)
        flash(str(err) if isinstance(err, photos.PhotoError) else _task_message(err), "error")
        form.text.data = form.text.data or ""
        return _render_task(found, queries.own_submission(db.session, current_user, task_id), form, 422)
    db.session.commit()
    photos.remove(outcome.dropped)
    if outcome.kept_as_draft is not None:
        flash(_task_message(outcome.kept_as_draft), "error")
        return _render_task(found, queries.own_submission(db.session, current_user, task_id), form, 422)
    if not submit:
        flash(_("草稿已保存，下次打开仍在。"), "success")
    elif outcome.status == "accepted":
        flash(_("已完成。"), "success")
    else:
        flash(_("已提交，等待单位审核。"), "success")
    return redirect(url_for("tasks.task", task_id=task_id) if not submit else url_for("tasks.index"))


@bp.route("/submissions/<int:submission_id>/photos/<int:index>")
@access("officer", "supervisor", "admin", mfa=True)
def photo(submission_id: int, index: int):
    sub = queries.submission_for_viewer(db.session, current_user, submission_id) or abort(404)
    names = sub.photos or []
    if index < 0 or index >= len(names):
        abort(404)
    return photos.send_photo(names[index])


# --- review ---------------------------------------------------------------------------------

@bp.route("/review")
@reviewers
def review_list():
    status = request.args.get("status", "submitted")
    status = status if status in REVIEW_STATUSES else "submitted"
    rows = queries.review_rows(db.session, current_user, None if status == "all" else status)
    return render_template("tasks/review_list.html", rows=rows, status=status)


@bp.route("/review/<int:submission_id>", methods=["GET", "POST"])
@reviewers
def review(submission_id: int):
    sub = queries.submission_for_viewer(db.session, current_user, submission_id)
    if sub is None or sub.user_id == current_user.id or sub.status == "draft":
        abort(404)
    form = ReviewForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            services.review(db.session, sub, current_user, form.action.data, form.comment.data or "", clock.now())
            db.session.commit()
        except services.TaskError as err:
            db.session.rollback()
            flash(_task_message(err), "error")
            return redirect(url_for("tasks.review", submission_id=submission_id))
        flash(_("已通过。") if form.action.data == "accept" else _("已退回，干警会收到通知。"), "success")
        return redirect(url_for("tasks.review_list"))
    task_row = db.session.get(Task, sub.task_id)
    return render_template("tasks/review.html", sub=sub, task=task_row, owner=db.session.get(User, sub.user_id),
                           form=form, item=queries.item_of(db.session, task_row))


# --- creating tasks and stages ----------------------------------------------------------------

def _task_form() -> TaskForm:
    form = TaskForm()
    form.stage_id.choices = [(s.id, f"{s.name}（{s.starts_on:%m-%d}–{s.ends_on:%m-%d}）")
                             for s in queries.stages(db.session)]
    units = queries.unit_choices_in_scope(db.session, current_user)
    form.target_unit_id.choices = ([(0, _("全市（所有单位）"))] if current_user.role == "admin" else []) + units
    form.item_id.choices = [(0, _("（不关联）"))] + queries.item_choices(db.session)
    return form


@bp.route("/manage", methods=["GET", "POST"])
@reviewers
def manage():
    form = _task_form()
    if request.method == "GET":
        current = queries.current_stage(db.session, local_day(clock.now()))
        form.stage_id.data = current.id if current else None
    if form.validate_on_submit():
        unit_id = form.target_unit_id.data or None
        if current_user.role != "admin" and (unit_id is None or not unit_in_scope(db.session, current_user, unit_id)):
            abort(403)
        if form.kind.data == "read" and not form.item_id.data:
            flash(_("“学习/观看”任务需要关联一项学习内容。"), "error")
        else:
            services.create_task(
                db.session, current_user, stage_id=form.stage_id.data, kind=form.kind.data,
                required=current_user.role == "admin", title=form.title.data.strip(),
                description=(form.description.data or "").strip(), target_unit_id=unit_id,
                item_id=form.item_id.data or None,
                min_chars=form.min_chars.data or 0 if form.kind.data == "reflection" else 0,
                due_at=to_utc(form.due_at.data))
            db.session.commit()
            flash(_("任务已发布。"), "success")
            return redirect(url_for("tasks.manage"))
    status = 422 if request.method == "POST" else 200
    rows = queries.managed_tasks(db.session, current_user)
    return render_template("tasks/manage.html", form=form, rows=rows,
                           manageable={t.id for t, _s, _u in rows if queries.can_manage(db.session, current_user, t)}
                           ), status


# --- editing, deleting and withdrawing a task ------------------------------------------------

def _managed_task(task_id: int) -> Task:
    """The task if the caller may change it: 404 when it is outside their view, 403 when they
    see it (a city-wide required task) but it is not theirs to change."""
    task_row = db.session.get(Task, task_id) or abort(404)
    if queries.can_manage(db.session, current_user, task_row):
        return task_row
    visible = task_row.target_unit_id is None or unit_in_scope(db.session, current_user, task_row.target_unit_id)
    if visible:
        _refuse("task", task_id, "not theirs")
    abort(404)


def _refuse(target_type: str, target_id, why: str):
    """403 for an object outside the caller's remit; a refused write is audited (A31)."""
    if request.method == "POST":
        audit.record(db.session, "access.denied", target_type=target_type, target_id=target_id,
                     detail=f"POST {request.endpoint} {why}")
        db.session.commit()
    abort(403)


def _edit_form(task_row: Task) -> TaskEditForm:
    form = TaskEditForm(obj=None if request.method == "POST" else task_row)
    units = queries.unit_choices_in_scope(db.session, current_user)
    form.target_unit_id.choices = ([(0, _("全市（所有单位）"))] if current_user.role == "admin" else []) + units
    if request.method != "POST":
        form.target_unit_id.data = task_row.target_unit_id or 0
        form.due_at.data = to_local(task_row.due_at).replace(tzinfo=None)
    return form


@bp.route("/manage/<int:task_id>", methods=["GET", "POST"])
@reviewers
def edit(task_id: int):
    task_row = _managed_task(task_id)
    form = _edit_form(task_row)
    if form.validate_on_submit():
        unit_id = form.target_unit_id.data or None
        if current_user.role != "admin" and (unit_id is None or not unit_in_scope(db.session, current_user, unit_id)):
            _refuse("unit", unit_id, "target out of scope")
        changed = services.update_task(
            db.session, current_user, task_row, title=form.title.data.strip(),
            description=(form.description.data or "").strip(), target_unit_id=unit_id,
            min_chars=form.min_chars.data or 0, due_at=to_utc(form.due_at.data))
        db.session.commit()
        flash(_("任务已修改。") if changed else _("没有改动。"), "success")
        return redirect(url_for("tasks.manage"))
    status = 422 if request.method == "POST" else 200
    stage = db.session.get(CampaignStage, task_row.stage_id)
    return render_template("tasks/edit.html", task=task_row, form=form, stage=stage,
                           submissions=queries.submission_count(db.session, task_row.id)), status


def _task_action(task_id: int, action, done_message: str):
    task_row = _managed_task(task_id)
    try:
        action(task_row)
        db.session.commit()
    except services.TaskError as err:
        db.session.rollback()
        flash(_task_message(err), "error")
        return redirect(url_for("tasks.edit", task_id=task_id))
    flash(done_message, "success")
    return redirect(url_for("tasks.manage"))


@bp.route("/manage/<int:task_id>/delete", methods=["POST"])
@reviewers
def delete(task_id: int):
    return _task_action(task_id, lambda t: services.delete_task(db.session, current_user, t), _("任务已删除。"))


@bp.route("/manage/<int:task_id>/withdraw", methods=["POST"])
@reviewers
def withdraw(task_id: int):
    return _task_action(task_id, lambda t: services.withdraw_task(db.session, current_user, t, clock.now()),
                        _("任务已撤回：干警不再看到它，已交材料保留备查。"))


@bp.route("/manage/<int:task_id>/restore", methods=["POST"])
@reviewers
def restore(task_id: int):
    return _task_action(task_id, lambda t: services.restore_task(db.session, current_user, t),
                        _("任务已恢复，干警重新可以看到它。"))


# --- attendance of event tasks -------------------------------------------------------------------

@bp.route("/events")
@reviewers
def events():
    return render_template("tasks/events.html", rows=queries.event_tasks(db.session, current_user))


@bp.route("/events/<int:task_id>", methods=["GET", "POST"])
@reviewers
def attendance(task_id: int):
    task_row = db.session.get(Task, task_id)
    if task_row is None or task_row.kind != "event" \
            or not queries.task_reaches_scope(db.session, current_user, task_row):
        abort(404)
    status = request.values.get("status", "open")
    status = status if status in queries.ATTENDANCE_FILTERS else "open"
    try:  # A36: ids by parse_id_arg ("²".isdigit() is true; a huge id overflowed the query): 400, nothing done
        unit_id = parse_id_arg(request.values["unit"]) if request.values.get("unit") else None
        ids = [parse_id_arg(v) for v in request.form.getlist("user_id")]
    except ValueError:
        abort(400)
    if unit_id is not None and not unit_in_scope(db.session, current_user, unit_id):
        unit_id = None
    if request.method == "POST":
        try:
            count = services.confirm_attendance(db.session, current_user, task_row, ids, clock.now())
            db.session.commit()
        except services.TaskError as err:
            db.session.rollback()
            if str(err) == "not_in_scope":  # a forged or stale id: refused as a whole, and audited
                audit.record(db.session, "access.denied", target_type="task", target_id=task_id,
                             detail=f"POST {request.endpoint} officers out of scope")
                db.session.commit()
            flash(_task_message(err), "error")
        else:
            flash(_("已确认 %(n)d 人参加。", n=count), "success")
        return redirect(url_for("tasks.attendance", task_id=task_id, status=status, unit=unit_id))
    page = max(1, min(request.args.get("page", 1, type=int), MAX_PAGE))  # a huge page overflowed OFFSET
    total = queries.attendance_filtered_total(db.session, current_user, task_row, status, unit_id)
    return render_template(
        "tasks/attendance.html", task=task_row, status=status, unit_id=unit_id, page=page,
        pages=max(1, -(-total // queries.ATTENDANCE_PAGE)), total=total,
        rows=queries.attendance_rows(db.session, current_user, task_row, status, unit_id, page),
        counts=queries.attendance_counts(db.session, current_user, task_row),
        units=queries.unit_choices_in_scope(db.session, current_user))


@bp.route("/stages", methods=["GET", "POST"])
@access("admin", mfa=True)
def stages():
    form = StageForm()
    if form.validate_on_submit():
        try:
            services.save_stage(db.session, current_user, form.code.data, form.starts_on.data, form.ends_on.data,
                                (form.description.data or "").strip())
            db.session.commit()
        except services.TaskError as err:
            db.session.rollback()
            flash(_task_message(err), "error")
        else:
            flash(_("阶段已保存。"), "success")
            return redirect(url_for("tasks.stages"))
    status = 422 if request.method == "POST" else 200
    return render_template("tasks/stages.html", form=form, stages=queries.stages(db.session),
                           today=local_day(clock.now())), status
