"""The supervisor's desk, the leader's city view, exports, the weights page and the public
leaderboard. Every unit id from the client is checked against the caller's subtree (A16)."""
from __future__ import annotations

from io import BytesIO

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import force_locale, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access, signed_in
from ..auth.scope import UnitRefused, requested_unit, scope_root, unit_for
from ..db import db
from ..models import Unit
from ..notices import reminders
from ..timeutils import parse_week_arg, week_key, week_progress
from ..web import week_label
from . import export, figures, queries, services
from .figures import WEIGHTS
from .officer import parse_sort_arg
from .queries import FILTERS

bp = Blueprint("reports", __name__)
staff = access("supervisor", "leader", "admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
bp.add_app_template_filter(figures.progress_note, "progress_note")


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


def no_data(week: str, weeks: list[str], endpoint: str, **args):
    """The designed empty state of a week without data (before the first study or exam, or
    still to come), instead of units ranked 1–4 at 0.0 and an empty chart."""
    return render_template("reports/no_data.html", week=week, weeks=weeks, endpoint=endpoint, args=args)


@bp.route("/")
@staff
def dashboard():
    now = clock.now()
    root = scope_root(db.session, current_user)
    week, unit, only = requested_week(), asked_unit(root), requested_filter()
    weeks = queries.data_weeks(db.session, now)
    if week not in weeks:
        return no_data(week, weeks, "reports.dashboard", unit=unit.id)
    sort = requested_sort()
    weights = queries.get_weights(db.session)
    city, computed_at = queries.city_rows(db.session, week, now, weights, copies=False)
    cache_seconds = queries.cache_seconds()
    figures = queries.DashboardFigures(db.session, week, unit, only, now, weights, city, current_user, root,
                                       as_of=computed_at)
    # The rendered body is reused while the city's figures it shows are current (issue #7, L8):
    # the key names everything the body depends on, the caller's scope and role included, so a
    # hit is exactly what this caller's own render would give at ``computed_at``. The week's
    # progress (截至 …, 还剩 … 天, on pace) is read at ``computed_at`` too, which the key holds.
    key = ":".join(str(part) for part in (
        unit.id, week, only or "-", sort, current_user.role, root.id, get_locale(),
        get_timezone(), computed_at.isoformat(), week_key(now), weeks[0], sorted(weights.items())))
    life = max(1, int(cache_seconds - (now - computed_at).total_seconds()))
    return render_template("reports/dashboard.html", week=week, unit=unit, only=only, sort=sort, v=figures, cache_key=key,
                           cache_life=life, weeks=weeks, computed_at=computed_at,
                           cache_seconds=cache_seconds)


def _sheet_heading(heading: str, week: str, progress, now) -> tuple[str, str]:
    """An export's title (with 第N周 and its dates) and subtitle (Beijing time, the week's
    progress), in Chinese like the sheet's column headers whatever the page's language."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return f"{heading}（{week_label(week)}）", export.subtitle(progress, now)


def _unit_export(week: str, unit: Unit, now):
    """Title, subtitle and rows of the unit table's export (``export.unit_rows``)."""
    if week not in queries.data_weeks(db.session, now):  # never units ranked 1–4 at 0.0
        title, subtitle = _sheet_heading(f"{unit.name} 教育整顿学习考核情况", week, week_progress(week, now), now)
        return title, f"{subtitle} · 这一周没有学习或测试数据，无法排名", []
    rows, computed_at = queries.city_rows(db.session, week, now)
    progress = week_progress(week, computed_at)
    title, subtitle = _sheet_heading(f"{unit.name} 教育整顿学习考核情况", week, progress, now)
    return title, subtitle, export.unit_rows(queries.subtree_rows(rows, unit), progress)


@bp.route("/units.xlsx")
@staff
def units_xlsx():
    now = clock.now()
    week, unit = requested_week(), asked_unit()
    title, subtitle, rows = _unit_export(week, unit, now)
    data = export.workbook(title, subtitle, export.UNIT_COLUMNS, rows)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"units-{week}.xlsx")


@bp.route("/units.csv")
@staff
def units_csv():
    now = clock.now()
    week, unit = requested_week(), asked_unit()
    title, subtitle, rows = _unit_export(week, unit, now)
    return Response(export.csv_text(export.UNIT_COLUMNS, rows, (title, subtitle)), mimetype="text/csv",
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
    title, subtitle = _sheet_heading(f"{unit.name} 干警学习考核明细", week, week_progress(week, now), now)
    if fmt == "csv":
        return Response(export.csv_text(export.OFFICER_COLUMNS, rows, (title, subtitle)), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename=officers-{unit_id}-{week}.csv"})
    data = export.workbook(title, subtitle, export.OFFICER_COLUMNS, rows)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"officers-{unit_id}-{week}.xlsx")


@bp.route("/print")
@staff
def printable():
    """The weekly report a leader signs (issue 16 point 8): the unit and every unit below it
    ranked, the officers behind by name per unit, when it was generated, a signature line."""
    now = clock.now()
    week, unit = requested_week(), asked_unit()
    weeks = queries.data_weeks(db.session, now)
    if week not in weeks:
        return no_data(week, weeks, "reports.printable", unit=unit.id)
    city, computed_at = queries.city_rows(db.session, week, now, copies=False)
    rows = queries.subtree_rows(city, unit)
    progress = week_progress(week, computed_at)
    behind = queries.officer_rows(db.session, week, now, unit, only="behind")
    # Grouped by the officer's own unit, in the ranked table's order (then any unit not in it).
    place = {r.unit_id: i for i, r in enumerate(rows)}
    groups: dict = {}
    # Keyed by unit, named with its parent where names repeat (two courts both have a 立案庭).
    names = figures.qualified_names(city)
    for officer in sorted(behind, key=lambda o: place.get(o["unit_id"], len(place))):
        groups.setdefault(names.get(officer["unit_id"], officer["unit_name"]), []).append(officer)
    target = queries.weekly_target_seconds(db.session, week)
    return render_template("reports/print.html", week=week, unit=unit, rows=rows, now=now, progress=progress,
                           pace_rule=figures.pace_rule(target, progress),
                           groups=groups, behind_count=len(behind))


@bp.route("/remind", methods=["GET", "POST"])
@access("supervisor", "admin")
def remind():
    """一键提醒: a GET shows the confirmation (how many will be reminded, how many already were
    today and are skipped) and changes nothing; only its POST sends. Both take the officers from
    the same query, and the once-a-day key decides who is skipped (app/notices/reminders.py)."""
    now = clock.now()
    week, unit, only = requested_week(), asked_unit(), requested_filter()
    if only is None:
        abort(400)
    back = url_for("reports.dashboard", week=week, unit=unit.id, only=only)
    current = week == week_key(now)  # reminders speak of 本周: a closed week cannot be chased
    officer_ids = [o["officer_id"] for o in queries.officer_rows(db.session, week, now, unit, only=only)] \
        if current else []
    if request.method == "GET":
        return render_template("reports/remind_confirm.html", week=week, unit=unit, only=only, back=back,
                               current=current, plan=reminders.plan(db.session, reminders.REMINDERS[only],
                                                                    officer_ids, now))
    if not current:
        flash(_("只能提醒本周的干警。"), "error")
        return redirect(back)
    sent, skipped = services.remind(db.session, only, week, officer_ids, current_user, now)
    db.session.commit()
    if skipped:
        flash(_("已向 %(n)d 名干警发送提醒，%(m)d 人今天已提醒过，未重复发送。", n=sent, m=skipped), "success")
    else:
        flash(_("已向 %(n)d 名干警发送提醒。", n=sent), "success")
    return redirect(back)


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
    weeks = queries.data_weeks(db.session, now)
    if week not in weeks:
        return no_data(week, weeks, "reports.leaderboard")
    board = queries.leaderboard_data(db.session, week, now)
    mine = queries.own_standing(db.session, current_user, week, now) if current_user.role == "officer" else None
    progress = week_progress(week, board["as_of"])
    return render_template("reports/leaderboard.html", week=week, board=board, mine=mine, weeks=weeks,
                           progress=progress)
