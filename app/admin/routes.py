"""The campaign office's administration pages: accounts, the unit tree, Excel import."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from io import BytesIO
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..auth.access import ALL_ROLES, access
from ..db import db
from ..models import Unit, User
from ..ids import parse_id_arg
from ..timeutils import to_local
from . import imports, queries, services
from .forms import ROLE_CHOICES, ImportForm, UnitForm, UserForm

bp = Blueprint("admin", __name__)
admin_only = access("admin", mfa=True)
PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: Every role but the officer reads or acts beyond the person's own records: granting one, by
#: creating, editing or importing an account, needs a fresh login (A13).
PRIVILEGED_ROLES = ALL_ROLES - {"officer"}


def login_is_fresh() -> bool:
    """Sensitive changes need a login from the last few minutes (A13)."""
    row = g.get("auth_session")
    return bool(row) and clock.now() - row.created_at <= current_app.config["FRESH_LOGIN_WINDOW"]


@bp.route("/")
@admin_only
def index():
    return render_template("admin/index.html", counts=queries.counts(db.session),
                           events=queries.recent_audit(db.session, 15))


@bp.route("/users")
@admin_only
def users():
    q = request.args.get("q", "").strip()[:64]
    raw_unit = request.args.get("unit")
    try:  # A36: unit=² or a huge unit was a 500; the id rule is parse_id_arg's
        unit_id = parse_id_arg(raw_unit) if raw_unit else None
    except ValueError:
        abort(400)
    page = max(1, min(request.args.get("page", 1, type=int), 10000))
    rows, total = queries.search_users(db.session, q, unit_id, page, PER_PAGE)
    return render_template("admin/users.html", rows=rows, total=total, q=q, unit_id=unit_id, page=page,
                           pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), units=queries.unit_choices(db.session))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    form = UserForm()
    form.unit_id.choices = queries.unit_choices(db.session)
    if form.validate_on_submit():
        if form.role.data in PRIVILEGED_ROLES and not login_is_fresh():
            flash(_("为安全起见，创建具有管理或查阅权限的账号前请重新登录。"), "error")
            return render_template("admin/user_form.html", form=form, user=None), 403
        try:
            user, password = services.create_user(
                db.session, clock.now(), badge_no=form.badge_no.data.strip(), name=form.name.data.strip(),
                unit_id=form.unit_id.data, role=form.role.data, phone=form.phone.data)
        except services.AdminError as err:
            flash(str(err), "error")
        else:
            db.session.commit()
            return render_template("admin/password_issued.html", user=user, password=password)
    return render_template("admin/user_form.html", form=form, user=None), 400 if request.method == "POST" else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=None if request.method == "POST" else user)
    form.unit_id.choices = queries.unit_choices(db.session)
    form.badge_no.data = form.badge_no.data or user.badge_no or user.username
    if form.validate_on_submit():
        sensitive = form.role.data != user.role or form.unit_id.data != user.unit_id
        if sensitive and not login_is_fresh():
            flash(_("为安全起见，修改角色或所属单位前请重新登录。"), "error")
            return render_template("admin/user_form.html", form=form, user=user), 403
        if user.id == g.auth_session.user_id and (form.role.data != "admin" or not form.is_active.data):
            flash(_("不能停用自己的账号或取消自己的管理员角色。"), "error")
            return render_template("admin/user_form.html", form=form, user=user), 400
        try:
            services.update_user(db.session, clock.now(), user, name=form.name.data.strip(), unit_id=form.unit_id.data,
                                 role=form.role.data, is_active=form.is_active.data, phone=form.phone.data)
        except services.AdminError as err:
            flash(str(err), "error")
        else:
            db.session.commit()
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.users", q=user.username))
    return render_template("admin/user_form.html", form=form, user=user), 400 if request.method == "POST" else 200


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@admin_only
def user_reset(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    password = services.reset_password(db.session, clock.now(), user)
    db.session.commit()
    return render_template("admin/password_issued.html", user=user, password=password)


@bp.route("/users/import", methods=["GET", "POST"])
@admin_only
def user_import():
    """Upload → preview (nothing written) → confirm (``step=confirm``) → the new accounts'
    initial passwords, downloadable once (``step=passwords``). One endpoint, three steps."""
    step = request.form.get("step")
    if step == "confirm":
        return _import_confirm()
    if step == "passwords":
        return _import_passwords()
    form = ImportForm()
    if form.validate_on_submit():
        if not login_is_fresh():
            flash(_("为安全起见，批量导入前请重新登录。"), "error")
            return render_template("admin/import.html", form=form, report=None), 403
        report = imports.parse_workbook(form.file.data.read(), db.session, current_app.config["IMPORT_MAX_ROWS"])
        if report.fatal:
            return render_template("admin/import.html", form=form, report=report), 422
        plan = imports.build_plan(db.session, report, actor_id=g.auth_session.user_id)
        return _import_preview(plan, report, form.file.data.filename, form.skip_invalid.data)
    return render_template("admin/import.html", form=form, report=None), 400 if request.method == "POST" else 200


def _import_preview(plan, report, filename: str, skip_invalid: bool, status: int = 200):
    token = None
    if plan.importable(skip_invalid):
        token = imports.preview_token(plan, report, actor_id=g.auth_session.user_id, filename=filename,
                                      skip_invalid=skip_invalid)
    if status == 200 and token is None and plan.errors:
        status = 422
    return render_template("admin/import_preview.html", plan=plan, token=token, filename=filename,
                           skip_invalid=skip_invalid, roles=dict(ROLE_CHOICES)), status


def _import_confirm():
    if not login_is_fresh():
        flash(_("为安全起见，批量导入前请重新登录。"), "error")
        return render_template("admin/import.html", form=ImportForm(), report=None), 403
    try:
        draft = imports.load_preview(request.form.get("token", ""), g.auth_session.user_id)
    except imports.PreviewExpired:
        flash(_("预览已过期或无效，请重新上传文件。"), "error")
        return render_template("admin/import.html", form=ImportForm(), report=None), 400
    plan = imports.build_plan(db.session, draft.report, actor_id=g.auth_session.user_id)
    if plan.digest != draft.digest:
        flash(_("预览之后人员数据已有变化，本次没有导入。请核对下面的最新预览后再确认。"), "error")
        return _import_preview(plan, draft.report, draft.filename, draft.skip_invalid, status=409)
    outcome = services.import_accounts(db.session, clock.now(), plan, issue_passwords=False,
                                       update_existing=request.form.get("update_existing") == "1")
    audit.record(db.session, "user.import", target_type="file", target_id=draft.filename,
                 after={"created": len(outcome.created), "updated": len(outcome.updated), "skipped": len(plan.errors)})
    try:
        db.session.commit()
    except IntegrityError:  # another import created one of these badge numbers a moment ago
        db.session.rollback()
        flash(_("预览之后人员数据已有变化，本次没有导入。请重新上传文件。"), "error")
        return render_template("admin/import.html", form=ImportForm(), report=None), 409
    passwords = imports.passwords_token([u.id for u in outcome.created], actor_id=g.auth_session.user_id)
    return render_template("admin/import_done.html", plan=plan, outcome=outcome, passwords=passwords,
                           minutes=imports.PASSWORDS_MAX_AGE // 60)


def _import_passwords():
    try:
        user_ids = imports.load_passwords_token(request.form.get("token", ""), g.auth_session.user_id)
    except imports.PreviewExpired:
        user_ids = []
    issued = services.issue_pending_passwords(db.session, clock.now(), user_ids)
    if not issued:  # downloaded already (or expired): the passwords exist nowhere any more
        flash(_("初始密码已经下载过或已过期，不能再次获取。需要时请在“人员”页为个人重置密码。"), "error")
        return render_template("admin/import.html", form=ImportForm(), report=None), 410
    data = imports.credentials_workbook([(u.username, u.name, u.unit.name, pw) for u, pw in issued])
    db.session.commit()
    # Never cached: app/security.py gives every response but static files Cache-Control: no-store.
    # Stamped in Beijing time, like every export: two downloads of one day stay apart.
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"新账号初始密码-{to_local(clock.now()):%Y%m%d-%H%M}.xlsx")


@bp.route("/users/import/template.xlsx")
@admin_only
def user_import_template():
    return send_file(BytesIO(imports.template_workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="人员导入模板.xlsx")


@bp.route("/units")
@admin_only
def units():
    return render_template("admin/units.html", units=queries.unit_tree(db.session))


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@admin_only
def unit_edit(unit_id: int | None = None):
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id and unit is None:
        abort(404)
    form = UnitForm(obj=unit if request.method == "GET" else None)
    form.parent_id.choices = [(0, _("（无：市级单位）"))] + queries.unit_choices(db.session, max_depth=2)
    if unit is not None:
        form.code.data = unit.code
        if request.method == "GET":
            form.parent_id.data = unit.parent_id or 0
    if form.validate_on_submit():
        try:
            if unit is None:
                unit = services.create_unit(db.session, code=form.code.data.strip(), name=form.name.data.strip(),
                                            parent_id=form.parent_id.data or None, sort_order=form.sort_order.data or 0)
            else:
                services.update_unit(db.session, unit, name=form.name.data.strip(),
                                     sort_order=form.sort_order.data or 0, is_active=form.is_active.data)
                if (form.parent_id.data or None) != unit.parent_id and form.parent_id.data:
                    services.move_unit(db.session, unit, db.session.get(Unit, form.parent_id.data))
        except services.AdminError as err:
            db.session.rollback()
            flash(str(err), "error")
        else:
            db.session.commit()
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit), 400 if request.method == "POST" else 200
