"""The supervisor's desk, the leader's city view, exports, the weights page and the public
leaderboard. Every unit id from the client is checked against the caller's subtree (A16)."""
from __future__ import annotations

from functools import cached_property
from io import BytesIO

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access, signed_in
from ..auth.scope import scope_root, unit_in_scope
from ..db import db
from ..models import Unit
from ..timeutils import parse_week_arg, previous_weeks, week_key
from ..web import parse_id_arg
from . import export, queries, services

bp = Blueprint("reports", __name__)
staff = access("supervisor", "leader", "admin")
FILTERS = {"target_not_met", "exam_not_taken", "failed"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def requested_week() -> str:
    """The ``week`` asked for (default: this week), rebuilt by parse_week_arg: only ``YYYY-Www``
    in ASCII reaches the queries, the pages and the export file names (A36); 400 otherwise."""
    try:
        return parse_week_arg(request.args.get("week") or week_key(clock.now()))
    except ValueError:
        abort(400)


def requested_unit(root: Unit | None = None) -> Unit:
    """The unit asked for (default: the caller's scope root, ``root`` when the caller already
    has it), refused outside the subtree."""
    root = root or scope_root(db.session, current_user)
    if root is None:
        abort(403)
    raw = request.args.get("unit") or request.form.get("unit")
    if raw in (None, ""):
        return root
    try:
        unit_id = parse_id_arg(raw)
    except ValueError:
        abort(400)
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit_in_scope(db.session, current_user, unit.id):
        abort(403)
    return unit


def city_rows(week: str, now, weights: dict | None = None, *, copies: bool = True) -> tuple[list, object]:
    """Every unit's figures for ``week`` and when they were computed (a few seconds' cache,
    REPORTS_CACHE_SECONDS; see queries.cached_unit_rows, also for ``copies``)."""
    weights = weights if weights is not None else services.get_weights(db.session)
    return queries.cached_unit_rows(db.session, week, now, weights, current_app.config.get("REPORTS_CACHE_SECONDS", 0),
                                    copies=copies)


def unit_table(week: str, unit: Unit, now) -> list:
    """The unit and every unit below it, with the week's figures (ranks city-wide)."""
    return queries.subtree_rows(city_rows(week, now)[0], unit)


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
    week, unit, only = requested_week(), requested_unit(root), requested_filter()
    weights = services.get_weights(db.session)
    city, computed_at = city_rows(week, now, weights, copies=False)
    cache_seconds = current_app.config.get("REPORTS_CACHE_SECONDS", 0)
    figures = DashboardFigures(week, unit, only, now, weights, city)
    # The rendered body is reused while the city's figures it shows are current (issue #7, L8):
    # the key names everything the body depends on, the caller's scope and role included, so a
    # hit is exactly what this caller's own render would give at ``computed_at``.
    key = ":".join(str(part) for part in (
        unit.id, week, only or "-", current_user.role, root.id, get_locale(),
        get_timezone(), computed_at.isoformat(), week_key(now), sorted(weights.items())))
    life = max(1, int(cache_seconds - (now - computed_at).total_seconds()))
    return render_template("reports/dashboard.html", week=week, unit=unit, only=only, v=figures, cache_key=key,
                           cache_life=life, weeks=previous_weeks(week_key(now), 12), computed_at=computed_at,
                           cache_seconds=cache_seconds)


class DashboardFigures:
    """What the dashboard body shows, each computed when the template first asks for it, so a
    body served from the fragment cache runs none of these queries."""

    def __init__(self, week: str, unit: Unit, only: str | None, now, weights: dict, city: list):
        self.week, self.unit, self.only, self.now, self.weights, self.city = week, unit, only, now, weights, city

    @cached_property
    def rows(self) -> list:
        return queries.subtree_rows(self.city, self.unit)

    @cached_property
    def top(self):
        return self.rows[0] if self.rows else None

    @cached_property
    def children(self) -> list:
        return [r for r in self.rows if r.parent_id == self.unit.id]

    @cached_property
    def officers(self) -> list[dict]:
        if self.only or not self.children:
            return queries.officer_rows(db.session, self.week, self.now, self.unit, only=self.only)
        return []

    @cached_property
    def trend(self) -> list[dict]:
        return queries.trend(db.session, self.unit, previous_weeks(self.week, 8), self.now, self.weights,
                             known={self.week: self.top} if self.top else None)

    @cached_property
    def ancestors(self) -> list[Unit]:
        return _ancestors(self.unit)

    @cached_property
    def target_hours(self) -> float:
        return queries.weekly_target_seconds(db.session, self.week) / 3600


def _ancestors(unit: Unit) -> list[Unit]:
    """Breadcrumb from the caller's scope root down to ``unit``."""
    root = scope_root(db.session, current_user)
    ids = [int(p) for p in unit.path.strip("/").split("/")]
    chain = [db.session.get(Unit, i) for i in ids]
    return [u for u in chain if u is not None and u.path.startswith(root.path)]


@bp.route("/units.xlsx")
@staff
def units_xlsx():
    now = clock.now()
    week, unit = requested_week(), requested_unit()
    rows = unit_table(week, unit, now)
    data = export.workbook(f"{unit.name} 教育整顿学习考核情况（{week}）", f"统计时间：{clock.now():%Y-%m-%d %H:%M} UTC",
                           export.UNIT_COLUMNS, [r.as_json() for r in rows])
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"units-{week}.xlsx")


@bp.route("/units.csv")
@staff
def units_csv():
    now = clock.now()
    week, unit = requested_week(), requested_unit()
    rows = unit_table(week, unit, now)
    return Response(export.csv_text(export.UNIT_COLUMNS, [r.as_json() for r in rows]), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=units-{week}.csv"})


@bp.route("/units/<int:unit_id>/officers.<fmt>")
@staff
def officers_export(unit_id: int, fmt: str):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit_in_scope(db.session, current_user, unit_id):
        abort(403)
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
    week, unit = requested_week(), requested_unit()
    rows = unit_table(week, unit, now)
    return render_template("reports/print.html", week=week, unit=unit, rows=rows, now=now)


@bp.route("/remind", methods=["POST"])
@access("supervisor", "admin")
def remind():
    now = clock.now()
    week, unit, only = requested_week(), requested_unit(), requested_filter()
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
    current = services.get_weights(db.session)
    errors: list[str] = []
    if request.method == "POST":
        proposed = {k: request.form.get(k, type=int) for k in queries.DEFAULT_WEIGHTS}
        errors = services.weight_errors(proposed)
        if not errors:
            services.set_weights(db.session, proposed, current_user, clock.now())
            db.session.commit()
            flash(_("综合得分权重已保存。"), "success")
            return redirect(url_for("reports.weights"))
        current = {k: v if v is not None else "" for k, v in proposed.items()}
    return render_template("reports/weights.html", weights=current, errors=errors), 422 if errors else 200


@bp.route("/leaderboard")
@signed_in
def leaderboard():
    """Unit rankings for everyone; an officer also sees their own standing, never others' rows."""
    now = clock.now()
    week = requested_week()
    board = leaderboard_data(week, now)
    mine = queries.own_standing(db.session, current_user, week, now) if current_user.role == "officer" else None
    return render_template("reports/leaderboard.html", week=week, board=board, mine=mine,
                           weeks=previous_weeks(week_key(now), 8))


def leaderboard_data(week: str, now) -> dict:
    rows = city_rows(week, now)[0]
    levels = []
    for level in ("system", "branch", "station"):
        ranked = sorted((r for r in rows if r.level == level and r.officers), key=lambda r: r.city_rank)
        size = min(5, len(ranked) // 2) if len(ranked) >= 4 else len(ranked)
        levels.append({"level": level, "red": ranked[:size], "black": list(reversed(ranked[-size:])) if len(ranked) >= 4 else [],
                       "all": ranked})
    return {"week": week, "levels": levels}
