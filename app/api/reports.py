"""/api/v1/reports/* and /api/v1/leaderboard (issue #5). Rates are fractions in 0..1."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from .. import clock
from ..auth.access import access, api_error, signed_in
from ..auth.scope import UnitRefused, requested_unit, unit_for
from ..db import db
from ..reports import queries
from ..timeutils import parse_week_arg, week_key
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


def _refused(refused: UnitRefused):
    """A unit the scope helper refused: 422 when not an id, else 403 (unknown or outside the subtree)."""
    if refused.malformed:
        return api_error(422, "invalid_unit", "unit 应为整数。")
    return api_error(403, "forbidden", "该单位不在您的管辖范围内。")


@bp.get("/reports/units")
@staff
def report_units():
    week = _week()
    if week is None:
        return _bad_week()
    try:
        unit = requested_unit(db.session, current_user, request.args.get("unit"))
    except UnitRefused as refused:
        return _refused(refused)
    rows = queries.unit_table(db.session, week, unit, clock.now())
    return jsonify({"week": week, "unit": {"id": unit.id, "name": unit.name}, "rows": [r.as_json() for r in rows]})


@bp.get("/reports/units/<id:unit_id>/officers")
@staff
def report_officers(unit_id: int):
    week = _week()
    if week is None:
        return _bad_week()
    only = request.args.get("only") or None
    sort = request.args.get("sort") or "unit"
    if (only is not None and only not in queries.FILTERS) or sort not in queries.SORT_KEYS:
        return api_error(400, "invalid_parameter", "only 或 sort 的取值无效。")
    try:
        unit = unit_for(db.session, current_user, unit_id)
    except UnitRefused as refused:
        return _refused(refused)
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
    board = queries.leaderboard_data(db.session, week, now)

    def unit(r):
        return {"unit_id": r.unit_id, "unit_name": r.unit_name, "composite_score": r.composite_score,
                "city_rank": r.city_rank, "study_completion_rate": r.study_completion_rate,
                "exam_participation_rate": r.exam_participation_rate, "avg_score": r.avg_score}

    body = {"week": week, "levels": [{"level": lv["level"], "red": [unit(r) for r in lv["red"]],
                                      "black": [unit(r) for r in lv["black"]]} for lv in board["levels"]],
            "me": queries.own_standing(db.session, current_user, week, now) if current_user.role == "officer" else None}
    return jsonify(body)
