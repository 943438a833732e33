"""Officer exam pages: this week's exam, taking it, results, the wrong-answer book, practice."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access
from ..db import db
from ..models import Exam
from . import practice as practice_service
from . import queries, services

bp = Blueprint("exams", __name__)
officer = access("officer")


@bp.route("/")
@officer
def index():
    now = clock.now()
    exam, attempt, can_start = services.this_week(db.session, current_user, now)
    past = [(a, e) for a, e in queries.history(db.session, current_user.id) if not exam or e.id != exam.id]
    return render_template("exams/index.html", exam=exam, attempt=attempt, can_start=can_start, past=past,
                           status=queries.exam_status(exam, now) if exam else None, now=now)


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
    exam = att.exam
    reveal = services.reveal_answers(exam, att, now, current_app.config["EXAM_REVEAL_POLICY"])
    data = queries.attempt_json(db.session, att, now, reveal)
    template = "exams/take.html" if att.status == "in_progress" else "exams/result.html"
    results = {r["question_id"]: r for r in (data.get("results") or [])}
    return render_template(template, exam=exam, attempt=att, data=data, results=results, reveal=reveal,
                           unanswered=sum(1 for q in data["questions"] if not q["answer"]))


@bp.route("/mistakes")
@officer
def mistakes():
    items = practice_service.mistakes(db.session, current_user.id, clock.now(), current_app.config["EXAM_REVEAL_POLICY"])
    return render_template("exams/mistakes.html", items=items)


@bp.route("/practice", methods=["GET", "POST"])
@officer
def practice():
    """每日一练: GET draws five questions, POST checks them; neither writes anything."""
    now = clock.now()
    if request.method == "POST":
        answers = {}
        for key in request.form:
            if key.startswith("q") and key[1:].isdigit():
                values = [v.strip() for v in request.form.getlist(key) if v.strip()][:8]
                answers[int(key[1:])] = [v[:200] for v in values]
        results = practice_service.check_practice(db.session, answers, now)
        return render_template("exams/practice.html", questions=None, results=results)
    questions = practice_service.draw_practice(db.session, current_user.id, now,
                                               current_app.config["EXAM_REVEAL_POLICY"], secrets.randbits(32))
    return render_template("exams/practice.html", questions=questions, results=None)
