"""Reads for exam pages and the API: the attempt as the officer may see it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Attempt, AttemptQuestion, Exam, Question, QuestionVersion
from ..timeutils import to_local, utc_iso
from .keys import KeyView


def iso(value: datetime | None) -> str | None:
    """Naive UTC → ISO 8601 with the UTC offset, for scripts (``timeutils.utc_iso``)."""
    return utc_iso(value)


def exam_status(exam: Exam, now: datetime) -> str:
    if now < exam.opens_at:
        return "upcoming"
    return "open" if now < exam.closes_at else "closed"


def exam_json(exam: Exam, now: datetime) -> dict:
    return {"id": exam.id, "title": exam.title, "week": exam.week, "opens_at": iso(exam.opens_at),
            "closes_at": iso(exam.closes_at), "duration_minutes": exam.duration_minutes,
            "pass_mark": exam.pass_mark, "status": exam_status(exam, now)}


def attempt_json(session: Session, attempt: Attempt, now: datetime, view: KeyView) -> dict:
    """The attempt for its owner. While it is in progress nothing here reveals the key or the
    explanation: no correctness, no key, no per-option score, option order and labels shuffled
    by the seed (E14). Once finished, ``results`` carries them only when the owner's KeyView
    (app/exams/keys.py) shows this attempt, and leaves out any question it hides (a question
    repeated in a paper the officer can still write); ``keys_released`` says which."""
    rows = session.execute(
        select(AttemptQuestion, QuestionVersion, Question.bank_id, Question.qtype)
        .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(AttemptQuestion.attempt_id == attempt.id).order_by(AttemptQuestion.position)).all()
    questions = []
    for aq, version, bank_id, qtype in rows:
        texts = dict((k, t) for k, t in version.options)
        options = [{"key": display, "text": texts[bank_key]} for display, bank_key in aq.option_map.items()]
        questions.append({"id": version.id, "bank_id": bank_id, "type": qtype, "stem": version.stem,
                          "options": options, "points": aq.points, "answer": aq.answer})
    remaining = max(0, int((attempt.deadline - now).total_seconds())) if attempt.status == "in_progress" else 0
    body = {"id": attempt.id, "exam_id": attempt.exam_id, "status": attempt.status, "deadline": iso(attempt.deadline),
            "server_now": iso(now), "remaining_seconds": remaining, "seq": attempt.seq,
            "started_at": iso(attempt.started_at), "questions": questions}
    if attempt.status == "finished":
        reveal = view.attempt_visible(attempt)
        body.update(score=attempt.score, passed=attempt.passed, finished_at=iso(attempt.finished_at),
                    finish_reason=attempt.finish_reason, keys_released=reveal,
                    results=results_json(rows, view) if reveal else None)
    return body


def results_json(rows, view: KeyView) -> list[dict]:
    back = []
    for aq, version, _bank_id, qtype in rows:
        if not view.question_visible(version.question_id):
            continue
        if qtype == "fill":
            correct = list(version.answer)
        else:
            to_display = {bank: display for display, bank in aq.option_map.items()}
            correct = sorted(to_display[k] for k in version.answer if k in to_display)
        back.append({"question_id": version.id, "is_correct": aq.is_correct, "points": aq.points,
                     "points_awarded": aq.points_awarded, "correct_answer": correct,
                     "explanation": version.explanation})
    return back


def history(session: Session, user_id: int, limit: int = 12) -> list[tuple[Attempt, Exam]]:
    return session.execute(select(Attempt, Exam).join(Exam, Exam.id == Attempt.exam_id)
                           .where(Attempt.user_id == user_id).order_by(Exam.week.desc()).limit(limit)).all()


def local_label(value: datetime) -> str:
    return to_local(value).strftime("%m-%d %H:%M")
