"""/api/v1/exams/* and /api/v1/attempts/* (issue #4): thin wrappers over app/exams/services."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

from .. import clock
from ..auth.access import access, api_error
from ..db import db
from ..exams import keys, practice, queries, services
from ..models import Exam
from . import MAX_ID, bp

officer = access("officer")


def _error(err: services.ExamError):
    db.session.rollback()
    return api_error(err.status, err.code, err.message)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _is_last_answer(item) -> bool:
    """One item of submit's ``answers``: {question_id: id, answer: [str], seq?: int}."""
    return (isinstance(item, dict) and _is_id(item.get("question_id"))
            and isinstance(item.get("answer"), list) and all(isinstance(a, str) for a in item["answer"])
            and (item.get("seq") is None or (isinstance(item["seq"], int) and not isinstance(item["seq"], bool))))


def _body(attempt, now) -> dict:
    """The attempt as its owner may see it; keys.py is asked only once it is finished."""
    view = keys.view_for_attempt(db.session, attempt, now, current_app.config["EXAM_REVEAL_POLICY"])
    return queries.attempt_json(db.session, attempt, now, view)


@bp.get("/exams/current")
@officer
def exams_current():
    now = clock.now()
    exam, attempt, can_start = services.this_week(db.session, current_user, now)
    if exam is None or (attempt is None and not can_start and queries.exam_status(exam, now) != "closed"):
        # Not yet open, or not for this officer: not listed (E21).
        return jsonify({"exam": None, "attempt": None})
    return jsonify({"exam": queries.exam_json(exam, now),
                    "attempt": {"id": attempt.id, "status": attempt.status} if attempt else None})


@bp.post("/exams/<id:exam_id>/attempts")
@officer
def attempts_start(exam_id: int):
    now = clock.now()
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        return api_error(404, "not_found", "没有这场考试。")
    try:
        attempt, created = services.start_or_resume(db.session, exam, current_user, now)
    except services.ExamError as err:
        return _error(err)
    db.session.commit()
    body = _body(attempt, now)
    return jsonify({"attempt": body}), 201 if created else 200


@bp.get("/attempts/<id:attempt_id>")
@officer
def attempts_get(attempt_id: int):
    now = clock.now()
    try:
        attempt = services.owned_attempt(db.session, attempt_id, current_user)
    except services.ExamError as err:
        return _error(err)
    return jsonify({"attempt": _body(attempt, now)})


@bp.put("/attempts/<id:attempt_id>/answers/<id:question_id>")
@officer
def attempts_save(attempt_id: int, question_id: int):
    now = clock.now()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or "answer" not in payload:
        return api_error(400, "invalid_answer", "请求体应为 {\"answer\": [...]}。")
    try:
        # Ownership and the question are checked through the reader, before the write lock.
        attempt = services.owned_attempt(db.reader, attempt_id, current_user)
        seq = services.save_answer(db.session, attempt, question_id, payload["answer"], payload.get("seq"), now,
                                   reader=db.reader)
    except services.ExamError as err:
        return _error(err)
    db.session.commit()  # the 200 below is sent only after COMMIT (E11)
    remaining = max(0, int((attempt.deadline - now).total_seconds()))
    return jsonify({"saved": True, "question_id": question_id, "seq": seq, "server_now": queries.iso(now),
                    "deadline": queries.iso(attempt.deadline), "remaining_seconds": remaining})


@bp.post("/attempts/<id:attempt_id>/submit")
@officer
def attempts_submit(attempt_id: int):
    now = clock.now()
    payload = request.get_json(silent=True)
    if (payload is None and request.get_data()) or (payload is not None and not isinstance(payload, dict)):
        # A body that is not a JSON object was taken as none, and the attempt submitted (A22).
        return api_error(400, "invalid_answer", "请求体应为 JSON 对象 {\"answers\": [...]}。")
    answers = (payload or {}).get("answers")
    if answers is not None and not isinstance(answers, list):
        return api_error(400, "invalid_answer", "answers 应为列表。")
    # Checked as documented even when the attempt is already finished (and its body otherwise
    # ignored); a question_id that is not an id was a 500 in int() or the query (A22).
    if any(not _is_last_answer(item) for item in answers or ()):
        return api_error(400, "invalid_answer", "答案格式不正确。")
    try:
        attempt = services.owned_attempt(db.session, attempt_id, current_user)
        services.submit(db.session, attempt, now, answers)
    except services.ExamError as err:
        return _error(err)
    db.session.commit()
    body = _body(attempt, now)
    return jsonify({"attempt": {k: body[k] for k in ("id", "status", "score", "passed", "results", "finished_at",
                                                      "finish_reason")}})


@bp.get("/practice")
@officer
def practice_today():
    """Today's practice set (每日一练): questions without keys, progress, streak, mastered."""
    today = practice.today(db.session, current_user.id, clock.now(), current_app.config["EXAM_REVEAL_POLICY"])
    return jsonify(today.public())


@bp.post("/practice/<id:question_id>/answer")
@officer
def practice_answer(question_id: int):
    """Grade one answer of today's set, once: the key and 解析 come back only here."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("answer"), list):
        return api_error(400, "invalid_answer", "请求体应为 {\"answer\": [...]}。")
    try:
        result = practice.answer(db.session, current_user.id, question_id, payload["answer"], clock.now(),
                                 current_app.config["EXAM_REVEAL_POLICY"])
    except services.ExamError as err:
        return _error(err)
    db.session.commit()
    return jsonify(result)
