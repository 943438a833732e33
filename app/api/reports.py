"""/api/v1/reports/* and /api/v1/leaderboard (issue #5). Rates are fractions in 0..1."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from .. import clock
from ..auth.access import access, api_error, signed_in
from ..auth.scope import scope_root, unit_in_scope
from ..db import db
from ..models import Unit
from ..reports import queries
from ..reports.routes import FILTERS, leaderboard_data, unit_table
from ..timeutils import parse_week_arg, week_key
from ..web import parse_id_arg
from . import bp

staff = access("supervisor", "leader", "admin")


def _week():
    """The ``week`` asked for (default: this week) as parse_week_arg rebuilds it; None if refused."""
    try:
        return parse_week_arg(request.args.get("week") or week_key(clock.now()))
    except ValueError:
        return None


def _bad_week():
    return api_error(422, "invalid_week", "week 应为 YYYY-Www 格式，例如 2026-W11。")


@bp.get("/reports/units")
@staff
def report_units():
    week = _week()
    if week is None:
        return _bad_week()
    root = scope_root(db.session, current_user)
    raw = request.args.get("unit")
    try:
        unit = db.session.get(Unit, parse_id_arg(raw)) if raw else root
    except ValueError:
        return api_error(422, "invalid_unit", "unit 应为整数。")
    if root is None or unit is None or not unit_in_scope(db.session, current_user, unit.id):
        return api_error(403, "forbidden", "该单位不在您的管辖范围内。")
    rows = unit_table(week, unit, clock.now())
    return jsonify({"week": week, "unit": {"id": unit.id, "name": unit.name}, "rows": [r.as_json() for r in rows]})


@bp.get("/reports/units/<id:unit_id>/officers")
@staff
def report_officers(unit_id: int):
    week = _week()
    if week is None:
        return _bad_week()
    only = request.args.get("only") or None
    sort = request.args.get("sort") or "unit"
    if (only is not None and only not in FILTERS) or sort not in queries.SORT_KEYS:
        return api_error(400, "invalid_parameter", "only 或 sort 的取值无效。")
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit_in_scope(db.session, current_user, unit_id):
        return api_error(403, "forbidden", "该单位不在您的管辖范围内。")
    rows = queries.officer_rows(db.session, week, clock.now(), unit, only=only, sort=sort)
    keys = ("officer_id", "name", "badge_no", "unit_id", "study_seconds", "study_target_met", "exam_score", "passed",
            "tasks_done")
    return jsonify({"week": week, "unit": {"id": unit.id, "name": unit.name},
                    "officers": [{k: r[k] for k in keys} for r in rows]})


@bp.get("/leaderboard")
@signed_in
def leaderboard():
    week = _week()
    if week is None:
        return _bad_week()
    now = clock.now()
    board = leaderboard_data(week, now)

    def unit(r):
        return {"unit_id": r.unit_id, "unit_name": r.unit_name, "composite_score": r.composite_score,
                "city_rank": r.city_rank, "study_completion_rate": r.study_completion_rate,
                "exam_participation_rate": r.exam_participation_rate, "avg_score": r.avg_score}

    body = {"week": week, "levels": [{"level": lv["level"], "red": [unit(r) for r in lv["red"]],
                                      "black": [unit(r) for r in lv["black"]]} for lv in board["levels"]],
            "me": queries.own_standing(db.session, current_user, week, now) if current_user.role == "officer" else None}
    return jsonify(body)
