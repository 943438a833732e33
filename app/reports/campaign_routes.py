"""The campaign report's page and workbook (issue 17 point 5): /reports/campaign and
/reports/campaign.xlsx, for supervisors (their subtree), leaders and admins (the city). The unit
comes through the scope helper like every report's: 400 when malformed, 403 outside the subtree."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask_babel import force_locale
from flask_login import current_user

from .. import clock
from ..auth.access import access
from ..auth.scope import UnitRefused, requested_unit
from ..db import db
from ..models import Unit
from ..timeutils import to_local
from . import campaign_xlsx
from .campaign import PAGE_DEPTH, CampaignReport, stage_rows, trend_chart

bp = Blueprint("campaign_report", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _unit() -> Unit:
    try:
        return requested_unit(db.session, current_user, request.args.get("unit"))
    except UnitRefused as refused:
        abort(refused.status)


@bp.route("/campaign")
@access("supervisor", "leader", "admin")
def page():
    """The printable report (A4 portrait, reports.css): overview, then every section's tables."""
    now = clock.now()
    report = CampaignReport(db.session, _unit(), now, viewer=current_user)
    return render_template("reports/campaign.html", r=report, now=now, stages=stage_rows(report),
                           page_depth=PAGE_DEPTH, chart=trend_chart(report) if report.weeks else None)


@bp.route("/campaign.xlsx")
@access("supervisor", "leader", "admin")
def workbook():
    now = clock.now()
    report = CampaignReport(db.session, _unit(), now, viewer=current_user)
    if not report.weeks:
        abort(404)
    # The sheets speak Chinese whatever the page's language, like the weekly exports.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        campaign = report.campaign.name if report.campaign else ""
        title = f"{report.unit.name} · {campaign} 成效报告"
        subtitle = f"生成时间：{to_local(now):%Y-%m-%d %H:%M}（北京时间） · 统计周期：{report.start:%Y-%m-%d} 至 " \
                   f"{min(report.end, report.today):%Y-%m-%d}"
        data = campaign_xlsx.workbook(report, title, subtitle)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"campaign-{report.unit.id}-{report.today:%Y%m%d}.xlsx")
