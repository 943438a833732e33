"""/api/v1/study/* (issue #3): the officer's items, heartbeats and progress.

Heartbeats are credited by the server's clock alone (``app.study.services``); the response is
sent only after COMMIT, so every acknowledged beat is stored.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access, api_error
from ..db import db
from ..models import MODULES
from ..study import queries, services
from ..timeutils import local_day, parse_date_arg
from . import bp


def item_json(row: queries.ItemRow) -> dict:
    item = row.item
    return {"id": item.id, "title": item.title, "module": item.module, "kind": item.kind,
            "credited_minutes": item.credited_minutes, "required": item.required,
            "studied_seconds": row.seconds, "done": row.done}


@bp.get("/study/items")
@access("officer")
def study_items():
    module = request.args.get("module")
    if module is not None and module not in MODULES:
        return api_error(422, "invalid", _("module 应为 %(m)s 之一。", m=", ".join(MODULES)))
    rows = queries.item_rows(db.session, current_user, clock.now(), module)
    return jsonify({"items": [item_json(r) for r in rows]})


@bp.post("/study/items/<id:item_id>/heartbeat")
@access("officer")
def study_heartbeat(item_id: int):
    payload = request.get_json(silent=True)
    if payload is None and request.get_data():
        return api_error(400, "bad_request", _("请求内容不是有效的 JSON。"))
    try:
        signals = services.Signals.parse(payload)
    except ValueError as err:
        return api_error(422, "invalid", str(err))
    try:
        credit = services.record_heartbeat(db.session, current_user, item_id, clock.now(), signals, reader=db.reader)
    except services.NotAvailable:
        return api_error(404, "not_found", _("该学习内容不存在，或未向您发布。"))
    except services.TooSoon:
        # The page ignores this quietly: another tab or a retry was faster (S5).
        body, status = api_error(429, "too_many_requests", _("心跳过于频繁，本次不计时。"))
        body.headers["Retry-After"] = "5"
        return body, status
    db.session.commit()
    return jsonify(asdict(credit))


@bp.get("/study/progress")
@access("officer")
def study_progress():
    now = clock.now()
    raw = request.args.get("day")
    try:  # A36: exactly YYYY-MM-DD in ASCII digits, of 2000–2099 (week and streak arithmetic stay in range)
        day = local_day(now) if raw is None else parse_date_arg(raw)
    except ValueError:
        return api_error(422, "invalid", _("day 应为 2000–2099 年间 YYYY-MM-DD 格式的日期。"))
    return jsonify(queries.progress_summary(db.session, current_user, day, now))
