"""The wrong-answer book (错题本) and daily practice (每日一练). Practice never writes to the
database and never touches exam scores; it never draws a question from an exam that is open,
so it cannot leak this week's key."""
from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Attempt, AttemptQuestion, Exam, ExamPoolItem, Question, QuestionVersion

PRACTICE_SIZE = 5


def mistakes(session: Session, user_id: int, now: datetime, default_policy: str) -> list[dict]:
    """Questions the officer got wrong in attempts whose answers may be shown, newest first."""
    rows = session.execute(
        select(AttemptQuestion, QuestionVersion, Question.qtype, Exam, Attempt)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .join(Exam, Exam.id == Attempt.exam_id)
        .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(Attempt.user_id == user_id, Attempt.status == "finished", AttemptQuestion.is_correct.is_(False))
        .order_by(Exam.week.desc(), AttemptQuestion.position)).all()
    out = []
    for aq, version, qtype, exam, attempt in rows:
        policy = exam.reveal_policy or default_policy
        if not (now >= exam.closes_at or policy == "after_submit"):
            continue
        texts = dict((k, t) for k, t in version.options)
        to_display = {bank: disp for disp, bank in aq.option_map.items()}
        out.append({
            "week": exam.week, "exam_title": exam.title, "type": qtype, "stem": version.stem,
            "options": [{"key": d, "text": texts[b]} for d, b in aq.option_map.items()],
            "mine": aq.answer or [],
            "correct": list(version.answer) if qtype == "fill" else sorted(to_display[k] for k in version.answer),
            "explanation": version.explanation, "question_id": version.question_id,
        })
    return out


def _open_exam_questions(session: Session, now: datetime):
    return select(ExamPoolItem.question_id).join(Exam, Exam.id == ExamPoolItem.exam_id).where(
        Exam.opens_at <= now, Exam.closes_at > now)


def draw_practice(session: Session, user_id: int, now: datetime, default_policy: str, seed: int) -> list[dict]:
    """Five current questions ({"version", "type"}): up to three past mistakes, then others at random."""
    blocked = set(session.scalars(_open_exam_questions(session, now)))
    wrong_ids = [m["question_id"] for m in mistakes(session, user_id, now, default_policy)]
    candidates = session.execute(select(QuestionVersion, Question.id, Question.qtype).join(
        Question, Question.current_version_id == QuestionVersion.id).where(Question.is_retired.is_(False))).all()
    by_question = {qid: {"version": v, "type": qtype} for v, qid, qtype in candidates if qid not in blocked}
    rng = random.Random(seed)
    picked_ids = [q for q in dict.fromkeys(wrong_ids) if q in by_question][:3]
    rest = [qid for qid in by_question if qid not in picked_ids]
    rng.shuffle(rest)
    return [by_question[q] for q in (picked_ids + rest)[:PRACTICE_SIZE]]


def check_practice(session: Session, answers: dict[int, list], now: datetime) -> list[dict]:
    """Grade practice answers against the current versions; nothing is stored."""
    from .bank import grade_answer

    blocked = set(session.scalars(_open_exam_questions(session, now)))
    out = []
    for version_id, given in answers.items():
        row = session.execute(select(QuestionVersion, Question.qtype, Question.id).join(
            Question, Question.id == QuestionVersion.question_id).where(QuestionVersion.id == version_id)).first()
        if row is None or row[2] in blocked:
            continue
        version, qtype, _qid = row
        fraction = grade_answer(qtype, version.answer, given or None, False)
        out.append({"version": version, "type": qtype, "given": given, "is_correct": fraction >= 1.0})
    return out
