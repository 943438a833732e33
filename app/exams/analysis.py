"""Item analysis for admins: how each question of an exam performed (one SQL query)."""
from __future__ import annotations

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from ..models import Attempt, AttemptQuestion, Question, QuestionVersion

#: Flags: too easy above this correct rate, too hard below the next, broken below the last
#: discrimination (the strong quarter does no better than the weak one).
TOO_EASY, TOO_HARD, WEAK_DISCRIMINATION = 0.95, 0.30, 0.0


def item_analysis(session: Session, exam_id: int, min_answers: int = 5) -> list[dict]:
    """Per question served in the exam: answers, correct rate, and discrimination (correct rate
    in the top quarter of total scores minus the bottom quarter). Finished attempts only."""
    tiles = (select(Attempt.id.label("attempt_id"), func.ntile(4).over(order_by=Attempt.score).label("tile"))
             .where(Attempt.exam_id == exam_id, Attempt.status == "finished").subquery())
    correct = cast(case((AttemptQuestion.is_correct.is_(True), 1), else_=0), Integer)
    top = case((tiles.c.tile == 4, correct))
    bottom = case((tiles.c.tile == 1, correct))
    stmt = (select(Question.bank_id, Question.qtype, Question.module, QuestionVersion.stem,
                   func.count().label("n"), func.avg(correct).label("rate"),
                   func.avg(top).label("top"), func.avg(bottom).label("bottom"))
            .select_from(AttemptQuestion)
            .join(tiles, tiles.c.attempt_id == AttemptQuestion.attempt_id)
            .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
            .join(Question, Question.id == QuestionVersion.question_id)
            .group_by(Question.bank_id, Question.qtype, Question.module, QuestionVersion.stem)
            .order_by(func.avg(correct)))
    out = []
    for row in session.execute(stmt):
        rate = float(row.rate or 0)
        disc = None if row.top is None or row.bottom is None else float(row.top) - float(row.bottom)
        flag = None
        if row.n >= min_answers:
            if disc is not None and disc <= WEAK_DISCRIMINATION and rate < 0.9:
                flag = "broken"
            elif rate >= TOO_EASY:
                flag = "too_easy"
            elif rate < TOO_HARD:
                flag = "too_hard"
        out.append({"bank_id": row.bank_id, "type": row.qtype, "module": row.module, "stem": row.stem,
                    "answers": row.n, "correct_rate": rate, "discrimination": disc, "flag": flag})
    return out
