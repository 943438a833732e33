"""Officer exam pages: this week's exam, taking it, results, the wrong-answer book, practice."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access
from ..db import db
from ..models import Exam
from . import keys, queries, services
from . import practice as practice_service

bp = Blueprint("exams", __name__)
officer = access("officer")


@bp.route("/")
@officer
def index():
    now = clock.now()
    exam, attempt, can_start = services.this_week(db.session, current_user, now)
    past = [(a, e) for a, e in queries.history(db.session, current_user.id) if not exam or e.id != exam.id]
    return render_template("exams/index.html", exam=exam, attempt=attempt, can_start=can_start, past=past,
                           status=queries.exam_status(exam, now) if exam else None, now=now,
                           practice_card=practice_service.summary(db.session, current_user.id, now))


@bp.route("/<int:exam_id>/start", methods=["POST"])
@officer
def start(exam_id: int):
    exam = db.session.get(Exam, exam_id) or abort(404)
    try:
        attempt, _created = services.start_or_resume(db.session, exam, current_user, clock.now())
    except services.ExamError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("exams.index"))
    db.session.commit()
    return redirect(url_for("exams.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
@officer
def attempt(attempt_id: int):
    now = clock.now()
    try:
        att = services.owned_attempt(db.session, attempt_id, current_user)
    except services.ExamError:
        abort(404)
    policy = current_app.config["EXAM_REVEAL_POLICY"]
    view = keys.view_for_attempt(db.session, att, now, policy)
    data = queries.attempt_json(db.session, att, now, view)
    if att.status == "in_progress":
        return render_template("exams/take.html", exam=att.exam, attempt=att, data=data, results={}, reveal=False,
                               unanswered=sum(1 for q in data["questions"] if not q["answer"]))
    reveal = view.attempt_visible(att)
    return render_template("exams/result.html", exam=att.exam, attempt=att, data=data, reveal=reveal,
                           results={r["question_id"]: r for r in (data.get("results") or [])},
                           reveal_at=None if reveal else keys.keys_shown_at(db.session, att.exam, att, policy),
                           unanswered=sum(1 for q in data["questions"] if not q["answer"]))


@bp.route("/mistakes")
@officer
def mistakes():
    items = practice_service.mistakes(db.session, current_user.id, clock.now(), current_app.config["EXAM_REVEAL_POLICY"])
    return render_template("exams/mistakes.html", items=items)


@bp.route("/practice")
@officer
def practice():
    """每日一练: today's five questions, one at a time; answered ones with their key and 解析."""
    today = practice_service.today(db.session, current_user.id, clock.now(), current_app.config["EXAM_REVEAL_POLICY"])
    return render_template("exams/practice.html", today=today)


@bp.route("/practice/<int:question_id>", methods=["POST"])
@officer
def practice_answer(question_id: int):
    """One answer of today's set (the same service as POST /api/v1/practice/<id>/answer)."""
    given = [v.strip()[:200] for v in request.form.getlist("answer")][:8]
    try:
        practice_service.answer(db.session, current_user.id, question_id, given, clock.now(),
                                current_app.config["EXAM_REVEAL_POLICY"])
    except services.ExamError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("exams.practice"))  # the message shows at the top, beside 继续第 n 题
    db.session.commit()
    return redirect(url_for("exams.practice", _anchor=f"p-{question_id}"))
