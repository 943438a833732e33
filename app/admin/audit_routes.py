"""The audit-log browser for the campaign office: filter, page through, export (QUALITY A31).

Admin only, behind the same second-factor rule as every admin page (A20). Every row shown or
exported passes through ``audit_queries`` redaction first; an export is itself audited.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import audit, audit_labels, clock
from ..auth.access import access
from ..db import db
from ..timeutils import to_local
from . import audit_export, audit_queries
from .audit_queries import AuditFilter

bp = Blueprint("audit", __name__)
admin_only = access("admin", mfa=True)


@bp.record_once
def _template_words(state) -> None:
    """audit_label, audit_changes… for the audit log and the admin overview's recent events."""
    state.app.jinja_env.globals.update(audit_labels.jinja_globals())


PER_PAGE = 50
#: Larger exports are refused with a message (narrow the dates), never cut short silently;
#: ``AUDIT_EXPORT_MAX`` overrides it.
EXPORT_MAX = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error_messages(codes: list[str]) -> list[str]:
    text = {"date": _("日期格式应为 年-月-日，年份在 2000–2099 之间，例如 2021-03-01。"),
            "date_order": _("开始日期不能晚于结束日期。"), "outcome": _("无效的结果筛选。")}
    return [text[c] for c in dict.fromkeys(codes)]


@bp.route("/")
@admin_only
def index():
    f, errors = AuditFilter.parse(request.args)
    page = max(1, min(request.args.get("page", 1, type=int), 100000))
    rows, total = ([], 0) if errors else audit_queries.page(db.session, f, page, PER_PAGE)
    return render_template("admin/audit.html", f=f, errors=_error_messages(errors), rows=rows, total=total,
                           page=page, pages=max(1, -(-total // PER_PAGE)),
                           choices=audit_queries.distinct_values(db.session), category_labels=audit_labels.CATEGORIES,
                           names=audit_queries.target_names(db.session, rows)), 400 if errors else 200


@bp.route("/export.<fmt>")
@admin_only
def export(fmt: str):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    f, errors = AuditFilter.parse(request.args)
    if errors:
        return redirect(url_for("audit.index", **request.args))
    total, cap = audit_queries.count(db.session, f), current_app.config.get("AUDIT_EXPORT_MAX", EXPORT_MAX)
    if total > cap:
        flash(_("筛选结果共 %(n)d 条，超过一次导出的上限 %(max)d 条。请缩小日期范围或增加筛选条件后再导出。",
                n=total, max=cap), "error")
        return redirect(url_for("audit.index", **f.to_args()))
    now = clock.now()
    rows = audit_queries.export_rows(db.session, f, cap)
    names = audit_queries.all_unit_names(db.session)
    stamp = to_local(now).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        data = audit_export.csv_text(rows, names).encode("utf-8")
        mimetype, name = "text/csv; charset=utf-8", f"audit-{stamp}.csv"
    else:
        title = _("操作日志（导出于 %(t)s 北京时间，共 %(n)d 条）", t=f"{to_local(now):%Y-%m-%d %H:%M}", n=total)
        data, mimetype, name = audit_export.workbook(title, rows, names), XLSX, f"audit-{stamp}.xlsx"
    # Recorded once the file exists, so the export never lists its own row.
    audit.record_now("audit.export", target_type="audit_log", detail=f"{fmt} {total}",
                     after={"format": fmt, "rows": total, "filters": f.to_args()})
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
