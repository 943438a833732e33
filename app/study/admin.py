"""The campaign office's content pages (/admin/content): study items and the crediting policy.

Uploads: only these pages accept bodies above MAX_CONTENT_LENGTH, only from a signed-in admin
(``_upload_limit`` raises the per-request cap before CSRFProtect reads the form). A refused
upload (too big, not WebM/MP4/PDF by its first bytes, an HTML page in disguise) gets a clear
Chinese message and stores nothing: no file stays in the media folder and no row is written.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import clock
from ..admin.queries import unit_choices
from ..auth.access import access
from ..db import db
from ..models import StudyItem
from ..timeutils import local_day, to_local, to_utc, week_key
from . import media, queries, services
from .forms import ContentForm, PolicyForm
from .labels import labels

bp = Blueprint("content", __name__)
admin_only = access("admin", mfa=True)
UPLOAD_ENDPOINTS = {"content.new", "content.edit"}
#: Room for the form's text fields beside the file.
FORM_SLACK = 512 * 1024


@bp.context_processor
def _labels() -> dict:
    return labels()


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST" and current_user.is_authenticated \
            and current_user.role == "admin":
        request.max_content_length = current_app.config["STUDY_MEDIA_MAX_BYTES"] + FORM_SLACK


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    return render_template("errors/upload_refused.html", message=_size_message(), back_url=url_for("content.index"),
                           back_label=_("返回学习内容")), 413


def _size_message() -> str:
    mb = current_app.config["STUDY_MEDIA_MAX_BYTES"] / (1024 * 1024)
    return _("文件超过 %(mb)s MB 的上限，没有保存任何内容。请压缩后重新上传。", mb=f"{mb:g}")


def _media_messages(kind: str) -> dict:
    wrong = (_("只能上传 WebM 或 MP4 格式的视频。这个文件的内容不是视频（例如改了扩展名的网页），没有保存。")
             if kind == "video" else _("只能上传 PDF 文件。这个文件的内容不是 PDF，没有保存。"))
    return {"empty": _("上传的文件是空的，没有保存。"), "type": wrong, "size": _size_message()}


CONTENT_ERRORS = {
    "video_needs_media": lambda: _("视频需要上传 WebM/MP4 文件或填写内网视频地址。"),
    "document_needs_file": lambda: _("文件类内容需要上传 PDF。"),
    "article_needs_body": lambda: _("文章需要填写正文（清理后为空：只允许段落、小标题、列表、加粗、引用、链接和本站图片）。"),
    "unpublish_before_publish": lambda: _("下线时间应晚于发布时间。"),
}


@bp.route("/")
@admin_only
def index():
    module, state = request.args.get("module"), request.args.get("state")
    return render_template("study/admin/list.html", items=queries.content_items(db.session, module, state),
                           module=module, state=state, now=clock.now())


def _form(item: StudyItem | None) -> ContentForm:
    form = ContentForm(obj=item if request.method == "GET" else None)
    form.target_unit_id.choices = [(0, _("全市（所有单位）"))] + unit_choices(db.session)
    if item is not None and request.method == "GET":
        form.body.data = item.body_html
        form.target_unit_id.data = item.target_unit_id or 0
        form.publish_at.data = to_local(item.publish_at).replace(tzinfo=None) if item.publish_at else None
        form.unpublish_at.data = to_local(item.unpublish_at).replace(tzinfo=None) if item.unpublish_at else None
    return form


def _values(form: ContentForm) -> dict:
    return {
        "title": form.title.data.strip(), "summary": (form.summary.data or "").strip(), "module": form.module.data,
        "kind": form.kind.data, "stage": form.stage.data, "credited_minutes": form.credited_minutes.data,
        "required": form.required.data, "target_unit_id": form.target_unit_id.data or None,
        "publish_at": to_utc(form.publish_at.data) if form.publish_at.data else None,
        "unpublish_at": to_utc(form.unpublish_at.data) if form.unpublish_at.data else None,
        "sort_order": form.sort_order.data or 0, "body_html": form.body.data or "",
        "media_url": (form.media_url.data or "").strip() or None,
    }


def _save(form: ContentForm, item: StudyItem | None):
    """Store the upload (if any), then create or update the item; on any refusal remove the
    new file and say why. Returns the item, or None after flashing the reason."""
    upload = form.media.data
    stored = None
    try:
        if upload and upload.filename:
            if form.kind.data == "article":
                raise media.MediaError(_("文章不需要上传文件；上传视频或 PDF 时请把类型改为“视频”或“文件”。"))
            stored = media.store_upload(upload.stream, form.kind.data, current_app.config["STUDY_MEDIA_MAX_BYTES"],
                                        _media_messages(form.kind.data))
        values = _values(form)
        if stored:
            values.update(media_file=stored.name, media_type=stored.mime)
        old_file = item.media_file if item is not None else None
        if item is None:
            item = services.create_item(db.session, current_user, **values)
        else:
            services.update_item(db.session, item, **values)
        db.session.commit()
    except (media.MediaError, services.ContentError) as err:
        db.session.rollback()
        media.remove(stored.name if stored else None)
        flash(CONTENT_ERRORS[str(err)]() if str(err) in CONTENT_ERRORS else str(err), "error")
        return None
    if stored and old_file and old_file != stored.name:
        media.remove(old_file)
    return item


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def new():
    form = _form(None)
    if form.validate_on_submit() and (item := _save(form, None)) is not None:
        flash(_("已保存为草稿。预览无误后请点“发布”。"), "success")
        return redirect(url_for("content.edit", item_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template("study/admin/form.html", form=form, item=None), status


@bp.route("/<int:item_id>", methods=["GET", "POST"])
@admin_only
def edit(item_id: int):
    item = db.session.get(StudyItem, item_id) or abort(404)
    form = _form(item)
    if form.validate_on_submit() and _save(form, item) is not None:
        flash(_("已保存。"), "success")
        return redirect(url_for("content.edit", item_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template("study/admin/form.html", form=form, item=item,
                           unit=queries.unit_name(db.session, item.target_unit_id)), status


@bp.route("/<int:item_id>/preview")
@admin_only
def preview(item_id: int):
    item = db.session.get(StudyItem, item_id) or abort(404)
    return render_template("study/admin/preview.html", item=item,
                           unit=queries.unit_name(db.session, item.target_unit_id))


@bp.route("/<int:item_id>/publish", methods=["POST"])
@admin_only
def publish(item_id: int):
    item = db.session.get(StudyItem, item_id) or abort(404)
    published = request.form.get("action") == "publish"
    services.set_published(db.session, item, published)
    db.session.commit()
    flash(_("已发布，干警即可学习。") if published else _("已下线，干警不再看到这项内容。"), "success")
    back = url_for("content.index") if request.form.get("back") == "list" else url_for("content.edit", item_id=item.id)
    return redirect(back)


@bp.route("/<int:item_id>/media")
@admin_only
def item_media(item_id: int):
    item = db.session.get(StudyItem, item_id) or abort(404)
    if not item.media_file:
        abort(404)
    return media.send_media(item.media_file, item.media_type)


@bp.route("/policy", methods=["GET", "POST"])
@admin_only
def policy():
    now = clock.now()
    current = queries.current_policy(db.session, now)
    form = PolicyForm()
    if request.method == "GET":
        form.process(data={**{k: getattr(current, k) for k in queries.policy_defaults()},
                           "daily_cap_minutes": current.daily_cap_seconds // 60,
                           "daily_target_minutes": current.daily_target_seconds // 60,
                           "weekly_target_minutes": current.weekly_target_seconds // 60})
    elif form.validate_on_submit():
        services.add_policy(db.session, now, current_user, **form.policy_values())
        db.session.commit()
        flash(_("新的计时规则已生效；此前的学时按当时的规则保留。"), "success")
        return redirect(url_for("content.policy"))
    new_seconds, available_seconds = queries.week_content_seconds(
        db.session, week_key(local_day(now)), current.item_cap_multiple)
    return render_template("study/admin/policy.html", form=form, current=current,
                           history=queries.policy_history(db.session), week_new=new_seconds,
                           week_available=available_seconds), 422 if request.method == "POST" else 200
