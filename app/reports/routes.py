"""The supervisor's desk, the leader's city view, exports, the weights page and the public
leaderboard. Every unit id from the client is checked against the caller's subtree (A16)."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access, signed_in
from ..auth.scope import UnitRefused, requested_unit, scope_root, unit_for
from ..db import db
from ..models import Unit
from ..timeutils import parse_week_arg, previous_weeks, week_key
from . import export, queries, services
from .figures import WEIGHTS
from .officer import parse_sort_arg
from .queries import FILTERS

bp = Blueprint("reports", __name__)
staff = access("supervisor", "leader", "admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def requested_week() -> str:
    """The ``week`` asked for (default: this week), rebuilt by parse_week_arg: only ``YYYY-Www``
    in ASCII reaches the queries, the pages and the export file names (A36); 400 otherwise."""
    try:
        return parse_week_arg(request.args.get("week") or week_key(clock.now()))
    except ValueError:
        abort(400)


def asked_unit(root: Unit | None = None) -> Unit:
    """The ``unit`` of the query string or form (default: the caller's scope root, ``root`` when
    the caller already has it), through the scope helper: 400 when malformed, 403 outside the
    caller's subtree (A16)."""
    try:
        return requested_unit(db.session, current_user, request.args.get("unit") or request.form.get("unit"), root)
    except UnitRefused as refused:
        abort(refused.status)


def requested_sort() -> str:
    """The officer table's order (``officer.SORTS``; ``unit`` by default); 400 otherwise."""
    try:
        return parse_sort_arg(request.args.get("sort"))
    except ValueError:
        abort(400)


def requested_filter() -> str | None:
    only = request.args.get("only") or request.form.get("only") or None
    if only is not None and only not in FILTERS:
        abort(400)
    return only


@bp.route("/")
@staff
def dashboard():
    now = clock.now()
    root = scope_root(db.session, current_user)
    week, unit, only = requested_week(), asked_unit(root), requested_filter()
    sort = requested_sort()
    weights = queries.get_weights(db.session)
    city, computed_at = queries.city_rows(db.session, week, now, weights, copies=False)
    cache_seconds = queries.cache_seconds()
    figures = queries.DashboardFigures(db.session, week, unit, only, now, weights, city, current_user, root)
    # The rendered body is reused while the city's figures it shows are current (issue #7, L8):
    # the key names everything the body depends on, the caller's scope and role included, so a
    # hit is exactly what this caller's own render would give at ``computed_at``.
    key = ":".join(str(part) for part in (
        unit.id, week, only or "-", sort, current_user.role, root.id, get_locale(),
        get_timezone(), computed_at.isoformat(), week_key(now), sorted(weights.items())))
    life = max(1, int(cache_seconds - (now - computed_at).total_seconds()))
    return render_template("reports/dashboard.html", week=week, unit=unit, only=only, sort=sort, v=figures, cache_key=key,
                           cache_life=life, weeks=previous_weeks(week_key(now), 12), computed_at=computed_at,
                           cache_seconds=cache_seconds)


@bp.route("/units.xlsx")
@staff
def units_xlsx():
    now = clock.now()
    week, unit = requested_week(), asked_unit()
    rows = queries.unit_table(db.session, week, unit, now)
    data = export.workbook(f"{unit.name} 教育整顿学习考核情况（{week}）", f"统计时间：{clock.now():%Y-%m-%d %H:%M} UTC",
                           export.UNIT_COLUMNS, [r.as_json() for r in rows])
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"units-{week}.xlsx")


@bp.route("/units.csv")
@staff
def units_csv():
    now = clock.now()
    week, unit = requested_week(), asked_unit()
    rows = queries.unit_table(db.session, week, unit, now)
    return Response(export.csv_text(export.UNIT_COLUMNS, [r.as_json() for r in rows]), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=units-{week}.csv"})


@bp.route("/units/<int:unit_id>/officers.<fmt>")
@staff
def officers_export(unit_id: int, fmt: str):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    try:
        unit = unit_for(db.session, current_user, unit_id)
    except UnitRefused as refused:
        abort(refused.status)
    now = clock.now()
    week, only = requested_week(), requested_filter()
    rows = export.officer_table(queries.officer_rows(db.session, week, now, unit, only=only))
    if fmt == "csv":
        return Response(export.csv_text(export.OFFICER_COLUMNS, rows), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=officers-{unit_id}-{week}.csv"})
    data = export.workbook(f"{unit.name} 干警学习考核明细（{week}）", f"统计时间：{now:%Y-%m-%d %H:%M} UTC",
                           export.OFFICER_COLUMNS, rows)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"officers-{unit_id}-{week}.xlsx")


@bp.route("/print")
@staff
def printable():
    now = clock.now()
    week, unit = requested_week(), asked_unit()
    rows = queries.unit_table(db.session, week, unit, now)
    return render_template("reports/print.html", week=week, unit=unit, rows=rows, now=now)


@bp.route("/remind", methods=["POST"])
@access("supervisor", "admin")
def remind():
    now = clock.now()
    week, unit, only = requested_week(), asked_unit(), requested_filter()
    if only is None:
        abort(400)
    officers = queries.officer_rows(db.session, week, now, unit, only=only)
    texts = {"target_not_met": (_("本周学习时长还未达标"), _("请抽空完成本周的学习任务。"), "/study/"),
             "exam_not_taken": (_("本周测试还未参加"), _("请在周日 22:00 前完成本周测试。"), "/exams/"),
             "failed": (_("本周测试未及格"), _("请复习错题本中的题目，巩固学习内容。"), "/exams/mistakes")}
    title, body, link = texts[only]
    n = services.remind(db.session, [o["officer_id"] for o in officers], title, body, link, current_user, now)
    db.session.commit()
    flash(_("已向 %(n)d 名干警发送提醒。", n=n), "success")
    return redirect(url_for("reports.dashboard", week=week, unit=unit.id, only=only))


@bp.route("/weights", methods=["GET", "POST"])
@access("admin", mfa=True)
def weights():
    current = queries.get_weights(db.session)
    errors: list[str] = []
    if request.method == "POST":
        proposed = {w.key: request.form.get(w.key, type=int) for w in WEIGHTS}
        errors = services.weight_errors(proposed)
        if not errors:
            services.set_weights(db.session, proposed, current_user, clock.now())
            db.session.commit()
            flash(_("综合得分权重已保存。"), "success")
            return redirect(url_for("reports.weights"))
        current = {k: v if v is not None else "" for k, v in proposed.items()}
    return render_template("reports/weights.html", fields=WEIGHTS, weights=current, errors=errors), \
        422 if errors else 200


@bp.route("/leaderboard")
@signed_in
def leaderboard():
    """Unit rankings for everyone; an officer also sees their own standing, never others' rows."""
    now = clock.now()
    week = requested_week()
    board = queries.leaderboard_data(db.session, week, now)
    mine = queries.own_standing(db.session, current_user, week, now) if current_user.role == "officer" else None
    return render_template("reports/leaderboard.html", week=week, board=board, mine=mine,
                           weeks=previous_weeks(week_key(now), 8))

