"""The ledger pages: figures by unit, the item lists, one item with its evidence, recording an
item, and 销号. Every item id is checked by policy.py (404 when the caller may not see it); every
unit id from the client goes through app/auth/scope.py (A16).

Uploads (QUALITY A34): only the evidence form and the 督办令 response take files; their request
cap is raised before CSRFProtect reads the body; a refused file stores nothing and says why.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import audit, clock
from ..auth.access import access
from ..auth.scope import UnitRefused, requested_unit, scope_root
from ..db import db
from ..ids import parse_id_arg
from ..models import Unit, User
from ..reports.export import workbook
from ..timeutils import local_day
from ..web import local_time
from . import evidence, policy, queries, services
from .forms import EvidenceForm, ItemForm, ReviewForm
from .labels import CATEGORY_LABELS, SOURCE_LABELS, STATUS_LABELS, TARGET_LABELS

bp = Blueprint("ledger", __name__)
#: The office's admins pass their second factor here too (A20), as on every page they act from.
#: Reads: the person responsible and every reader of the ledger (policy.READERS, the 纪检督察
#: included); writes below admit only the roles that may make them, so an inspector gets 403.
everyone = access("officer", *sorted(policy.READERS), mfa=True)
readers = access(*sorted(policy.READERS), mfa=True)
recorders = access("supervisor", "admin", mfa=True)
DEFAULT_FILE_MAX = 8 * 1024 * 1024
FORM_SLACK = 256 * 1024
UPLOAD_ENDPOINTS = {"ledger.evidence_post"}
MAX_PAGE = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_max() -> int:
    return current_app.config.get("LEDGER_FILE_MAX_BYTES", DEFAULT_FILE_MAX)


def size_message() -> str:
    return _("文件超过 %(mb)s MB 的上限，没有保存任何内容。请压缩或拆分后重新上传。", mb=f"{file_max() / (1024 * 1024):g}")


def file_messages() -> dict:
    return {"empty": _("上传的文件是空的，没有保存。"),
            "type": _("只能上传照片（JPEG、PNG、WebP）或 PDF 文件。这个文件的内容不是照片或 PDF，没有保存。"),
            "size": size_message()}


def ledger_message(err: services.LedgerError) -> str:
    p = err.params
    return {
        "not_in_scope": lambda: _("这个单位不在您的管辖范围内，没有保存。"),
        "bad_choice": lambda: _("请从列表中选择问题来源和类别。"),
        "bad_responsible": lambda: _("责任人必须是该单位在岗的干警或单位管理员。"),
        "deadline_past": lambda: _("期限不能早于今天。"),
        "description_short": lambda: _("请把问题描述写清楚（至少 4 个字）。"),
        "not_yours": lambda: _("只有责任人或本单位管理员可以办理。"),
        "locked": lambda: _("已申请销号或已销号，不能再修改。"),
        "too_many_files": lambda: _("每个事项最多 %(n)d 个附件，没有保存。", n=p.get("n", evidence.MAX_FILES)),
        "evidence_short": lambda: _("申请销号前请写明整改情况（至少 4 个字），没有保存。"),
        "evidence_empty": lambda: _("没有可保存的内容：请填写整改情况说明或上传照片/文件。"),
        "not_above": lambda: _("销号须由上级单位管理员验收，本单位不能给自己销号。"),
        "not_waiting": lambda: _("这个事项不在等待验收。"),
        "bad_action": lambda: _("无效的操作。"),
        "reason_required": lambda: _("退回时请写明理由，告诉单位还要怎样整改。"),
        "not_office": lambda: _("督办令由教育整顿办发出。"),
        "no_units": lambda: _("请至少选择一个督办单位。"),
        "bad_units": lambda: _("所选单位不存在或已停用，没有保存。"),
        "title_short": lambda: _("请填写督办事项。"),
        "already_answered": lambda: _("本单位已经回复过这份督办令。"),
        "response_short": lambda: _("请填写回复内容（至少 4 个字）。"),
    }.get(err.code, lambda: err.code)()


@bp.app_context_processor
def _globals() -> dict:
    """``ledger_card(unit)`` and ``ledger_todo()`` for the reports dashboard (computed only when
    they render)."""
    return {"ledger_card": _card, "ledger_todo": _todo}


def _card(unit):
    if current_user.role not in policy.STAFF:
        return None
    rows = queries.unit_figures(db.session, unit, local_day(clock.now()))
    return {"top": rows[0] if rows else None, "children": [r for r in rows if r.parent_id == unit.id],
            "awaiting": _todo()["awaiting"]}


def _todo() -> dict:
    """What waits for the caller: items they may accept (待我验收) and the 督办令 their unit has
    not answered (count, the earliest deadline, the order to open first). Once per request."""
    if "ledger_todo" not in g:
        orders = queries.orders_to_answer(db.session, current_user)
        g.ledger_todo = {"awaiting": len(queries.awaiting_me(db.session, current_user))
                         if current_user.role in policy.STAFF else 0,
                         "orders": orders, "today": local_day(clock.now())}
    return g.ledger_todo


@bp.context_processor
def _labels() -> dict:
    return {"source_labels": SOURCE_LABELS, "category_labels": CATEGORY_LABELS, "status_labels": STATUS_LABELS,
            "target_labels": TARGET_LABELS}


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST" and current_user.is_authenticated:
        request.max_content_length = evidence.MAX_FILES * file_max() + FORM_SLACK


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    return render_template("errors/upload_refused.html", message=size_message(), back_url=url_for("ledger.index"),
                           back_label=_("返回整改台账")), 413


def refuse(target_type: str, target_id, why: str):
    """403 for an object the caller sees but may not change; the refused write is audited (A31)."""
    audit.record(db.session, "access.denied", target_type=target_type, target_id=target_id,
                 detail=f"{request.method} {request.endpoint} {why}")
    db.session.commit()
    abort(403)


def _asked_unit(root):
    try:
        return requested_unit(db.session, current_user, request.args.get("unit"), root)
    except UnitRefused as refused:
        abort(refused.status)


@bp.route("/")
@everyone
def index():
    """Staff: the 整改完成率 and overdue counts by unit and the items of the chosen unit's
    subtree; officers: the items they are responsible for."""
    today = local_day(clock.now())
    if current_user.role == "officer":
        return render_template("ledger/mine.html", rows=queries.own_items(db.session, current_user), today=today)
    status = request.args.get("status", "active")
    status = status if status in queries.FILTERS else "active"
    page = max(1, min(request.args.get("page", 1, type=int), MAX_PAGE))
    root = scope_root(db.session, current_user)
    unit = _asked_unit(root)
    items, total = queries.item_rows(db.session, unit, status, today, page)
    return render_template("ledger/index.html", unit=unit, status=status, page=page, today=today,
                           figures=queries.unit_figures(db.session, unit, today), items=items, total=total,
                           pages=max(1, -(-total // queries.PAGE)),
                           awaiting=queries.awaiting_me(db.session, current_user),
                           mine=queries.own_items(db.session, current_user))


EXPORT_COLUMNS = [
    ("单位", "unit", 16, None), ("问题来源", "source", 10, None), ("问题类别", "category", 22, None),
    ("问题描述", "description", 40, None), ("整改措施", "measures", 40, None), ("责任人", "responsible", 10, None),
    ("整改期限", "deadline", 11, None), ("状态", "status", 12, None), ("是否逾期", "overdue", 8, None),
    ("整改情况", "evidence", 40, None), ("申请销号时间", "submitted_at", 16, None), ("销号时间", "closed_at", 16, None),
]


@bp.route("/ledger.xlsx")
@readers
def export():
    """The subtree's items as a formatted workbook (cells neutralised against formulas, A25)."""
    now = clock.now()
    unit = _asked_unit(scope_root(db.session, current_user))
    rows = [{**r, "source": str(SOURCE_LABELS[r["source"]]), "category": str(CATEGORY_LABELS[r["category"]]),
             "status": str(STATUS_LABELS[r["status"]]), "overdue": "是" if r["overdue"] else "否",
             "submitted_at": local_time(r["submitted_at"]) if r["submitted_at"] else None,
             "closed_at": local_time(r["closed_at"]) if r["closed_at"] else None}
            for r in queries.export_rows(db.session, unit, local_day(now))]
    data = workbook(f"{unit.name} 整改台账", f"导出时间：{local_time(now)}", EXPORT_COLUMNS, rows)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"ledger-{unit.id}.xlsx")


@bp.route("/new", methods=["GET", "POST"])
@recorders
def new():
    form = ItemForm()
    form.unit_id.choices = queries.unit_choices(db.session, current_user)
    raw_unit = request.values.get("unit_id") or request.args.get("unit")
    unit = current_user.unit if current_user.role == "supervisor" else None
    if raw_unit:
        try:
            unit = requested_unit(db.session, current_user, raw_unit)
        except UnitRefused as refused:
            abort(refused.status)
    if request.method == "GET" and unit is not None:
        form.unit_id.data = unit.id
    form.responsible_id.choices = queries.responsible_choices(db.session, unit.id) if unit is not None else []
    if form.validate_on_submit():
        try:
            item = services.create_item(db.session, current_user, unit_id=form.unit_id.data, source=form.source.data,
                                        category=form.category.data, description=form.description.data,
                                        measures=form.measures.data, responsible_id=form.responsible_id.data,
                                        deadline=form.deadline.data, now=clock.now())
        except services.LedgerError as err:
            db.session.rollback()
            flash(ledger_message(err), "error")
        else:
            db.session.commit()
            flash(_("整改事项已登记，责任人会收到通知。"), "success")
            return redirect(url_for("ledger.item", item_id=item.id))
    return render_template("ledger/new.html", form=form, unit=unit), 422 if request.method == "POST" else 200


def _back() -> dict:
    """The list an item page was opened from (``?unit=&status=``, checked as the list checks
    them), so its back link, its forms and the redirects after them return there; a value the
    caller may not use is dropped (the back link then leads to their own list), never an error."""
    back = {}
    if request.args.get("status") in queries.FILTERS:
        back["status"] = request.args["status"]
    if request.args.get("unit") and current_user.role in policy.READERS:
        try:
            back["unit"] = requested_unit(db.session, current_user, request.args["unit"]).id
        except UnitRefused:
            pass
    return back


def _render_item(item, form, review_form, code: int = 200):
    today = local_day(clock.now())
    return render_template("ledger/item.html", item=item, form=form, review_form=review_form, today=today, back=_back(),
                           overdue=queries.is_overdue(item, today), unit=db.session.get(Unit, item.unit_id),
                           responsible=db.session.get(User, item.responsible_id),
                           requester=db.session.get(User, item.submitted_by_id) if item.submitted_by_id else None,
                           can_work=policy.may_work_on(current_user, item) and item.status in ("open", "returned"),
                           can_close=item.status == "submitted" and policy.may_close(db.session, current_user, item),
                           max_files=evidence.MAX_FILES, max_mb=f"{file_max() / (1024 * 1024):g}"), code


@bp.route("/items/<int:item_id>")
@everyone
def item(item_id: int):
    found = queries.item_for_viewer(db.session, current_user, item_id) or abort(404)
    form = EvidenceForm()
    form.text.data = found.evidence_text
    return _render_item(found, form, ReviewForm())


@bp.route("/items/<int:item_id>/evidence", methods=["POST"])
@access("officer", "supervisor")
def evidence_post(item_id: int):
    """Keep the unit's evidence (保存) or ask for 销号 (申请销号): the person responsible or the
    unit's own supervisor (policy.may_work_on); 403 for others who may see the item."""
    found = queries.item_for_viewer(db.session, current_user, item_id) or abort(404)
    if not policy.may_work_on(current_user, found):
        refuse("ledgeritem", item_id, "not responsible")
    form, review_form = EvidenceForm(), ReviewForm()
    if not form.validate_on_submit():
        return _render_item(found, form, review_form, 422)
    uploads = [f for f in request.files.getlist("files") if f and f.filename][:evidence.MAX_FILES + 1]
    try:
        remove_ids = [parse_id_arg(v) for v in request.form.getlist("remove_file")]
    except ValueError:
        abort(400)
    stored = []
    try:
        for upload in uploads:
            stored.append(evidence.store(upload.stream, file_max(), file_messages()))
        dropped = services.save_evidence(db.session, current_user, found, text=form.text.data or "", files=stored,
                                         submit=form.action.data == "submit", now=clock.now(), remove_ids=remove_ids)
    except (services.LedgerError, evidence.EvidenceError) as err:
        db.session.rollback()
        evidence.remove(s.name for s in stored)
        flash(ledger_message(err) if isinstance(err, services.LedgerError) else str(err), "error")
        return _render_item(queries.item_for_viewer(db.session, current_user, item_id), form, review_form, 422)
    db.session.commit()
    evidence.remove(dropped)
    flash(_("已申请销号，等待上级单位验收。") if form.action.data == "submit" else _("已保存。"), "success")
    return redirect(url_for("ledger.item", item_id=item_id, **_back()))


@bp.route("/items/<int:item_id>/review", methods=["POST"])
@recorders
def review(item_id: int):
    """销号 or 退回 by the supervisor above (policy.may_close); 403 for the unit itself."""
    found = queries.item_for_viewer(db.session, current_user, item_id) or abort(404)
    if not policy.may_close(db.session, current_user, found):
        refuse("ledgeritem", item_id, "not the supervisor above")
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.review(db.session, current_user, found, form.action.data, form.reason.data or "", clock.now())
    except services.LedgerError as err:
        db.session.rollback()
        flash(ledger_message(err), "error")
        return redirect(url_for("ledger.item", item_id=item_id, **_back()))
    db.session.commit()
    flash(_("已销号。") if form.action.data == "accept" else _("已退回，责任人会收到通知。"), "success")
    return redirect(url_for("ledger.index", **{"status": "submitted", **_back()}))


@bp.route("/items/<int:item_id>/files/<int:file_id>")
@everyone
def file(item_id: int, file_id: int):
    found = queries.item_for_viewer(db.session, current_user, item_id) or abort(404)
    match = next((e for e in found.evidence if e.id == file_id), None) or abort(404)
    return evidence.send(match.file_name, match.kind)
