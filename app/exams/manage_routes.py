"""Exam administration: the blueprint (admins), item analysis (admins), and grants of extra
time or a make-up to officers on duty (supervisors for their own subtree, admins for all)."""
from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import audit, clock
from ..auth.access import access
from ..auth.scope import unit_in_scope, visible_unit_ids
from ..db import db
from ..models import QUESTION_TYPES, Attempt, Exam, ExamBlueprint, User
from ..models.modules import REGISTRY
from ..timeutils import parse_datetime_local_arg, to_utc
from ..ids import parse_id_arg
from . import analysis, blueprints, keys, services
from .grants import grant, grantable_exams

bp = Blueprint("exam_admin", __name__)
admin_only = access("admin", mfa=True)
MAX_RULES = 10


@bp.route("/")
@admin_only
def index():
    exams = db.session.execute(
        select(Exam, func.count(Attempt.id), func.avg(Attempt.score))
        .outerjoin(Attempt, (Attempt.exam_id == Exam.id) & (Attempt.status == "finished"))
        .group_by(Exam.id).order_by(Exam.week.desc()).limit(20)).all()
    bp_row = blueprints.active_blueprint(db.session)
    return render_template("exams/admin_index.html", exams=exams, blueprint=bp_row)


def _parse_rules(form) -> list[dict]:
    rules = []
    for i in range(MAX_RULES):
        qtype = form.get(f"rule-{i}-type", "")
        count = form.get(f"rule-{i}-count", "").strip()
        if not qtype or not count:
            continue
        module = form.get(f"rule-{i}-module") or None
        difficulty = form.get(f"rule-{i}-difficulty") or None
        rules.append({"type": qtype, "module": module,
                      "difficulty": _int(form, f"rule-{i}-difficulty") if difficulty else None,
                      "count": _int(form, f"rule-{i}-count")})
    return rules


def _int(form, name, default=-1) -> int:
    """A small whole number from a form field, ASCII digits only ("²".isdigit() is true, A36)."""
    value = form.get(name, "").strip()
    return int(value) if re.fullmatch(r"-?[0-9]{1,6}", value, flags=re.ASCII) else default


def _number(form, name) -> float:
    """Points of a question type: a non-negative ASCII decimal, -1 when malformed (refused)."""
    value = form.get(name, "0").strip() or "0"
    return float(value) if re.fullmatch(r"[0-9]{1,4}(\.[0-9]{1,2})?", value, flags=re.ASCII) else -1


def _id_or_zero(raw) -> int:
    try:
        return parse_id_arg(raw)
    except ValueError:
        return 0


@bp.route("/blueprint", methods=["GET", "POST"])
@admin_only
def blueprint():
    current = blueprints.active_blueprint(db.session)
    errors: list[str] = []
    if request.method == "POST":
        form = request.form
        rules = _parse_rules(form)
        points = {t: _number(form, f"points-{t}") for t in QUESTION_TYPES}
        duration = _int(form, "duration_minutes")
        opens = _int(form, "opens_day", 0) * 1440 + _int(form, "opens_hour", 8) * 60
        closes = _int(form, "closes_day", 6) * 1440 + _int(form, "closes_hour", 22) * 60
        pass_mark = _int(form, "pass_mark")
        reveal = form.get("reveal_policy") or None
        errors = blueprints.validate(rules, points, duration, opens, closes, pass_mark)
        if reveal not in (None, "after_close", "after_submit"):
            errors.append(_("公布答案的时机无效。"))
        if not errors:
            from .bank_queries import current_pool

            pool = [blueprints.PoolRow(r.id, r.question_id, r.qtype, r.module, r.difficulty) for r in current_pool(db.session)]
            errors = blueprints.shortfalls(pool, rules)
        if not errors:
            new = ExamBlueprint(rules=rules, points=points, duration_minutes=duration, opens_offset_minutes=opens,
                                closes_offset_minutes=closes, pass_mark=pass_mark, reveal_policy=reveal,
                                multiple_partial=bool(form.get("multiple_partial")),
                                avoid_recent_weeks=max(0, min(_int(form, "avoid_recent_weeks", 3), 12)),
                                pool_multiple=max(1, min(_int(form, "pool_multiple", 3), blueprints.MAX_POOL_MULTIPLE)),
                                created_by_id=current_user.id, created_at=clock.now())
            db.session.add(new)
            db.session.flush()
            audit.record(db.session, "exam.blueprint", target=new, before=blueprints.snapshot(current),
                         after=blueprints.snapshot(new))
            db.session.commit()
            flash(_("组卷规则已保存，从下一场每周测试起生效。"), "success")
            return redirect(url_for("exam_admin.index"))
    return render_template("exams/admin_blueprint.html", bp=current, errors=errors, modules=REGISTRY,
                           types=QUESTION_TYPES, max_rules=MAX_RULES,
                           default_policy=current_app.config["EXAM_REVEAL_POLICY"]), 422 if errors else 200


@bp.route("/<int:exam_id>/analysis")
@admin_only
def item_analysis(exam_id: int):
    exam = db.session.get(Exam, exam_id) or abort(404)
    return render_template("exams/admin_analysis.html", exam=exam, rows=analysis.item_analysis(db.session, exam.id))


def _grant_end(value: str | None, exam: Exam):
    """The grant's end from a ``datetime-local`` field (Asia/Shanghai); None when empty (the
    default applies), or a value that fails the service's range check when malformed."""
    if not value:
        return None
    try:
        return to_utc(parse_datetime_local_arg(value.strip()))
    except ValueError:
        return exam.closes_at  # refused by grants.grant with its message


@bp.route("/grants", methods=["GET", "POST"])
@access("supervisor", "admin", mfa=True)
def grants():
    """Officers in the caller's subtree with extra time or a make-up, for an exam whose keys
    are not out yet (this week's, or last week's while its make-ups run)."""
    now = clock.now()
    choices = grantable_exams(db.session, now)
    asked = request.values.get("exam_id", type=_id_or_zero)
    exam = next((e for e in choices if e.id == asked), None if request.method == "POST" else
                (choices[0] if choices else None))
    if request.method == "POST":
        if exam is None:
            # Never move a grant to another exam than the one named (F3 of the review): that one's
            # keys are out, or it is no exam at all.
            flash(_("这场测试的答案已经公布或不存在，不能办理延时或补考。"), "error")
            return redirect(url_for("exam_admin.grants"))
        officer = db.session.get(User, request.form.get("user_id", type=_id_or_zero))
        if officer is None or officer.role != "officer" or not unit_in_scope(db.session, current_user, officer.unit_id):
            abort(404)  # never act on someone outside the caller's subtree (A16)
        try:
            grant(db.session, exam, officer, request.form.get("kind", ""),
                           _int(request.form, "minutes", 0), request.form.get("reason", "").strip(),
                           current_user, now, ends_at=_grant_end(request.form.get("ends_at"), exam))
        except services.ExamError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("exam_admin.grants", q=officer.username, exam_id=exam.id))
        db.session.commit()
        flash(_("已为 %(name)s 办理（%(exam)s）。", name=officer.name, exam=exam.title), "success")
        return redirect(url_for("exam_admin.grants", q=officer.username, exam_id=exam.id))
    q = request.args.get("q", "").strip()[:64]
    rows = []
    if exam is not None:
        stmt = (select(User, Attempt).outerjoin(Attempt, (Attempt.user_id == User.id) & (Attempt.exam_id == exam.id))
                .where(User.role == "officer", User.is_active.is_(True),
                       User.unit_id.in_(visible_unit_ids(db.session, current_user)))
                .order_by(Attempt.id.is_not(None), User.unit_id, User.id).limit(50))
        if q:
            stmt = stmt.where(or_(User.name.contains(q, autoescape=True), User.username.contains(q, autoescape=True)))
        rows = db.session.execute(stmt).all()
    return render_template("exams/admin_grants.html", exam=exam, choices=choices, rows=rows, q=q,
                           released_at=keys.released_at(db.session, exam) if exam else None,
                           default_end=exam.closes_at + timedelta(hours=keys.DEFAULT_GRANT_HOURS) if exam else None,
                           latest_end=exam.closes_at + timedelta(days=keys.MAX_GRANT_DAYS) if exam else None)
