"""The question bank's admin pages (/admin/questions): search, view with versions, edit,
retire, upload (YAML or Excel) and download (YAML, Excel, the Excel template)."""
from __future__ import annotations

from functools import partial
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import audit, clock
from ..auth.access import access
from ..db import db
from ..models import MODULES, QUESTION_TYPES
from ..models.modules import REGISTRY
from ..timeutils import local_day
from . import bank_format, bank_io, bank_queries, bank_read
from .bank_forms import QuestionForm, RetireForm, UploadForm

bp = Blueprint("bank", __name__)
admin_only = access("admin", mfa=True)
PER_PAGE = 30
SEARCH_ARGS = ("q", "module", "type", "difficulty", "retired", "sort")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.context_processor
def _module_labels() -> dict:
    """``module_labels`` for bank/_labels.html, from the module registry."""
    return {"module_labels": {m.code: m.label for m in REGISTRY}}


def _filters() -> dict:
    """The search parameters, each from an allowlist; anything else is a 400 (QUALITY A26)."""
    args = request.args
    sort = args.get("sort") or "id"
    module, qtype = args.get("module") or None, args.get("type") or None
    difficulty, retired = args.get("difficulty") or None, args.get("retired") or None
    if (sort not in bank_queries.SORTS or module not in (None, *MODULES) or qtype not in (None, *QUESTION_TYPES)
            or difficulty not in (None, "1", "2", "3") or retired not in (None, "0", "1")):
        abort(400)
    return {"q": args.get("q", "").strip()[:100], "module": module, "qtype": qtype, "sort": sort,
            "difficulty": int(difficulty) if difficulty else None,
            "retired": None if retired is None else retired == "1"}


def _question_or_404(code: str):
    return bank_queries.find(db.session, code) or abort(404)


@bp.route("/")
@admin_only
def index():
    filters = _filters()
    page = max(1, min(request.args.get("page", 1, type=int), 10000))
    rows, total = bank_queries.search(db.session, **filters, page=page, per_page=PER_PAGE)
    args = {k: request.args[k] for k in SEARCH_ARGS if request.args.get(k)}  # for the pager links
    return render_template("bank/index.html", rows=rows, total=total, page=page, args=args, f=filters,
                           pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), sorts=bank_queries.SORTS)


@bp.route("/q/<code>")
@admin_only
def detail(code: str):
    question, version = _question_or_404(code)
    return render_template("bank/detail.html", question=question, version=version, form=RetireForm(),
                           versions=bank_queries.versions(db.session, question.id))


@bp.route("/q/<code>/edit", methods=["GET", "POST"])
@admin_only
def edit(code: str):
    question, version = _question_or_404(code)
    form = QuestionForm()
    page = partial(render_template, "bank/edit.html", form=form, question=question, problems=[])
    if request.method == "GET":
        form.load(question, version)
        return page()
    if not form.validate_on_submit():
        return page(), 400
    if form.base_version.data != question.current_version_id:
        flash(_("这道题刚被其他人修改过，请查看最新版本后再编辑。"), "error")
        return page(), 409
    entry, problems = bank_format.check_entry(bank_format.raw_from_cells(form.cells(question)), _("编辑页面"), 0)
    if problems:
        return page(problems=problems), 400
    change = bank_io.update_question(db.session, question, entry)
    if change is not None:
        audit.record(db.session, "question.update", target=question, before=change.before, after=change.after)
        db.session.commit()
    flash(_("没有修改。") if change is None else _("已保存为第 %(n)d 版。", n=change.after["version"])
          if change.new_version else _("已保存。"), "success")
    return redirect(url_for("bank.detail", code=code))


@bp.route("/q/<code>/retire", methods=["POST"])
@admin_only
def retire(code: str):
    question, _version = _question_or_404(code)
    form = RetireForm()
    if not form.validate_on_submit() or form.retired.data not in ("0", "1"):
        abort(400)
    retired = form.retired.data == "1"
    if bank_io.set_retired(db.session, question, retired):
        audit.record(db.session, "question.retire", target=question, before={"is_retired": not retired},
                     after={"is_retired": retired})
        db.session.commit()
    flash(_("已停用，今后的试卷不会再抽到这道题。") if retired else _("已恢复启用。"), "success")
    return redirect(url_for("bank.detail", code=code))


@bp.route("/import", methods=["GET", "POST"])
@admin_only
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("bank/import.html", form=form), 400 if request.method == "POST" else 200
    data = form.file.data.read(bank_format.MAX_UPLOAD_BYTES + 1)
    if len(data) > bank_format.MAX_UPLOAD_BYTES:
        flash(_("文件太大：最大 %(n)d MB。", n=bank_format.MAX_UPLOAD_BYTES // 1024 // 1024), "error")
        return render_template("bank/import.html", form=form), 413
    name = (form.file.data.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][-64:]
    read = bank_read.read_files([(name, data)], current_app.config["IMPORT_MAX_ROWS"])
    parsed = bank_io.check_against_db(db.session, read)
    refused = bool(parsed.problems) and not form.skip_invalid.data
    result = None if refused else bank_io.import_entries(db.session, parsed.entries, dry_run=form.dry_run.data,
                                                         skipped=parsed.skipped)
    if result and not form.dry_run.data:
        audit.record(db.session, "bank.import", target_type="file", target_id=name, after=result.counts())
        db.session.commit()
    return render_template("bank/import.html", form=form, parsed=parsed, result=result, refused=refused,
                           dry_run=form.dry_run.data), 422 if refused else 200


@bp.route("/template.xlsx")
@admin_only
def template():
    return send_file(BytesIO(bank_io.template_workbook()), mimetype=XLSX, as_attachment=True,
                     download_name="题库导入模板.xlsx")


def _download(data: bytes, mimetype: str, suffix: str):
    stamp = local_day(clock.now()).strftime("%Y%m%d")
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"题库-{stamp}.{suffix}")


@bp.route("/export.yaml")
@admin_only
def export_yaml():
    return _download(bank_io.dump_yaml(bank_io.all_entries(db.session)).encode(), "application/yaml", "yaml")


@bp.route("/export.xlsx")
@admin_only
def export_xlsx():
    return _download(bank_io.export_workbook(bank_io.all_entries(db.session)), XLSX, "xlsx")
