"""The wrong-answer book (错题本) and 每日一练, the daily practice (issue #14).

Practice is the officer's own: it writes only its own tables (practice_sets, practice_items,
practice_cards) and never touches exam scores, unit figures or rankings. Which keys it may show
is decided by app/exams/keys.py alone: a question of an unreleased exam pool or of a paper the
officer can still write is never drawn, and never graded (E26, E28, E29).

Today's set is five questions, answered one at a time, each graded once with its key and 解析
right after the answer. The server draws it: due reviews first (FSRS, over the officer's own
practice answers and exam mistakes), then questions the officer has not practised, in an order
fixed per officer and day. Until the first answer of the day the set is recomputed from those
same inputs on every view (a GET writes nothing, A19); the first answer stores it, and only
questions of the stored set are graded (E28).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from fsrs import Card, Rating, Scheduler
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import (Attempt, AttemptQuestion, Exam, PracticeCard, PracticeItem, PracticeSet, Question,
                      QuestionVersion)
from ..timeutils import day_bounds_utc, local_day
from . import keys
from .grading import grade_answer
from .services import ExamError, normalise_answer

PRACTICE_SIZE = 5
#: At most this many of the five are reviews while unpractised questions remain, so the bank
#: keeps being explored.
MAX_REVIEWS = 3
#: A question is mastered once FSRS expects it remembered this many days at 90 % recall: two
#: right answers in a row on a new question, three after a mistake.
MASTERED_STABILITY_DAYS = 10.0
#: Days of learning, not minutes: a wrong answer comes back the next day or the one after.
#: No fuzz, so the schedule is reproducible.
SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


# --- 错题本 ------------------------------------------------------------------------------------

def _display(options: list, option_map: dict, keys_: list, qtype: str) -> list:
    """Bank keys → the keys the officer saw on their paper."""
    if qtype == "fill":
        return list(keys_)
    to_display = {bank: disp for disp, bank in option_map.items()}
    return sorted(to_display[k] for k in keys_ if k in to_display)


def mistakes(session: Session, user_id: int, now: datetime, default_policy: str,
             view: keys.KeyView | None = None) -> list[dict]:
    """Questions the officer got wrong in exams whose keys they may see, newest week first;
    a question whose key is hidden now (it repeats in an open paper or pool) is left out."""
    view = view or keys.view_for(session, user_id, now, default_policy)
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
        if not view.attempt_visible(attempt) or not view.question_visible(version.question_id):
            continue
        texts = dict((k, t) for k, t in version.options)
        out.append({
            "week": exam.week, "exam_title": exam.title, "type": qtype, "stem": version.stem,
            "options": [{"key": d, "text": texts[b]} for d, b in aq.option_map.items()],
            "mine": aq.answer or [],
            "correct": _display(version.options, aq.option_map, version.answer, qtype),
            "explanation": version.explanation, "question_id": version.question_id,
        })
    return out


# --- today's set ---------------------------------------------------------------------------

@dataclass
class PracticeQuestion:
    """One question of a set. ``key`` and ``explanation`` are for the page after the answer;
    ``public()`` is what may leave the server before it."""

    version_id: int
    question_id: int
    qtype: str
    stem: str
    options: list
    key: list
    explanation: str
    given: list | None = None
    is_correct: bool | None = None
    answered_at: datetime | None = None
    #: keys.py hides this question's key now (it came into an exam pool after the set was
    #: stored): no key or 解析 is shown, and it cannot be answered until the release.
    withheld: bool = False

    def withhold(self) -> None:
        self.withheld, self.key, self.explanation = True, [], ""

    def public(self) -> dict:
        return {"id": self.version_id, "type": self.qtype, "stem": self.stem,
                "options": [{"key": k, "text": t} for k, t in self.options],
                "answered": self.answered_at is not None, "correct": self.is_correct, "withheld": self.withheld}


@dataclass
class Today:
    day: date
    questions: list[PracticeQuestion] = field(default_factory=list)
    stored: bool = False
    streak: int = 0
    mastered: int = 0

    @property
    def answered(self) -> int:
        return sum(1 for q in self.questions if q.answered_at is not None)

    @property
    def correct(self) -> int:
        return sum(1 for q in self.questions if q.is_correct)

    @property
    def done(self) -> bool:
        """Every question answered, or withheld until its exam's keys are out."""
        return bool(self.questions) and all(q.answered_at is not None or q.withheld for q in self.questions)

    @property
    def current(self) -> PracticeQuestion | None:
        """The first question that can be answered now."""
        return next((q for q in self.questions if q.answered_at is None and not q.withheld), None)

    def public(self) -> dict:
        return {"date": self.day.isoformat(), "total": len(self.questions), "answered": self.answered,
                "correct": self.correct, "done": self.done, "streak": self.streak, "mastered": self.mastered,
                "questions": [q.public() for q in self.questions]}


def _draw(session: Session, user_id: int, day: date, view: keys.KeyView) -> list[int]:
    """Version ids of the day's set, in order; the same for the same inputs (officer, day,
    cards, mistakes, what keys.py hides)."""
    allowed = {qid: vid for vid, qid in session.execute(
        select(QuestionVersion.id, Question.id).join(Question, Question.current_version_id == QuestionVersion.id)
        .where(Question.is_retired.is_(False)).order_by(Question.id)) if view.question_visible(qid)}
    _, end_of_day = day_bounds_utc(day)
    cards = session.execute(select(PracticeCard.question_id, PracticeCard.due)
                            .where(PracticeCard.user_id == user_id)
                            .order_by(PracticeCard.due, PracticeCard.question_id)).all()
    carded = {qid for qid, _due in cards}
    due = [qid for qid, when in cards if when < end_of_day and qid in allowed]
    later = [qid for qid, when in cards if when >= end_of_day and qid in allowed]
    # Exam mistakes the officer has not practised yet are due at once.
    wrong = session.execute(
        select(QuestionVersion.question_id, func.max(Exam.week))
        .join(AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id).join(Exam, Exam.id == Attempt.exam_id)
        .where(Attempt.user_id == user_id, Attempt.status == "finished", AttemptQuestion.is_correct.is_(False),
               Attempt.exam_id.not_in(view.unseen_exams) if view.unseen_exams else True)
        .group_by(QuestionVersion.question_id)).all()
    due += [qid for qid, _w in sorted(wrong, key=lambda r: (r[1], -r[0]), reverse=True)
            if qid in allowed and qid not in carded]
    fresh = [qid for qid in allowed if qid not in carded and qid not in due]
    random.Random(f"practice:{user_id}:{day.isoformat()}").shuffle(fresh)
    picked = due[:MAX_REVIEWS]
    picked += fresh[:PRACTICE_SIZE - len(picked)]
    for qid in due[MAX_REVIEWS:] + later:
        if len(picked) >= PRACTICE_SIZE:
            break
        picked.append(qid)
    return [allowed[qid] for qid in picked]


def _load(session: Session, version_ids: list[int]) -> dict[int, PracticeQuestion]:
    rows = session.execute(select(QuestionVersion, Question.qtype).join(Question, Question.id == QuestionVersion.question_id)
                           .where(QuestionVersion.id.in_(version_ids))).all()
    return {v.id: PracticeQuestion(v.id, v.question_id, qtype, v.stem, [list(o) for o in v.options], list(v.answer),
                                   v.explanation) for v, qtype in rows}


def _stored(session: Session, user_id: int, day: date) -> PracticeSet | None:
    return session.scalar(select(PracticeSet).where(PracticeSet.user_id == user_id, PracticeSet.day == day))


def _stored_questions(session: Session, practice_set: PracticeSet) -> list[PracticeQuestion]:
    items = list(session.scalars(select(PracticeItem).where(PracticeItem.set_id == practice_set.id)
                                 .order_by(PracticeItem.position)))
    loaded = _load(session, [i.question_version_id for i in items])
    out = []
    for item in items:
        q = loaded[item.question_version_id]
        q.given, q.is_correct, q.answered_at = item.answer, item.is_correct, item.answered_at
        out.append(q)
    return out


def streak(session: Session, user_id: int, today: date) -> int:
    """Days in a row, ending today or yesterday, on which the officer finished the day's set."""
    days = set(session.scalars(select(PracticeSet.day).where(
        PracticeSet.user_id == user_id, PracticeSet.completed_at.is_not(None), PracticeSet.day <= today,
        PracticeSet.day > today - timedelta(days=400))))
    day = today if today in days else today - timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= timedelta(days=1)
    return n


def mastered(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(PracticeCard).where(
        PracticeCard.user_id == user_id, PracticeCard.stability >= MASTERED_STABILITY_DAYS)) or 0


def today(session: Session, user_id: int, now: datetime, default_policy: str,
          view: keys.KeyView | None = None) -> Today:
    """The officer's set for the local day containing ``now``; writes nothing. A stored
    question whose key keys.py hides now (a pool built after the set was stored) comes back
    withheld: no key, no 解析 (E26)."""
    day = local_day(now)
    stored = _stored(session, user_id, day)
    view = view or keys.view_for(session, user_id, now, default_policy)
    if stored is not None:
        questions = _stored_questions(session, stored)
        for q in questions:
            if not view.question_visible(q.question_id):
                q.withhold()
    else:
        ids = _draw(session, user_id, day, view)
        loaded = _load(session, ids)
        questions = [loaded[i] for i in ids]
    return Today(day, questions, stored is not None, streak(session, user_id, day), mastered(session, user_id))


def summary(session: Session, user_id: int, now: datetime) -> dict:
    """For the home page and the exam page: today's progress, the streak, questions mastered.
    Reads the stored set only (a set not started yet counts as 0 of PRACTICE_SIZE)."""
    day = local_day(now)
    answered = session.scalar(select(func.count()).select_from(PracticeItem).join(
        PracticeSet, PracticeSet.id == PracticeItem.set_id).where(
        PracticeSet.user_id == user_id, PracticeSet.day == day, PracticeItem.answered_at.is_not(None))) or 0
    return {"answered": answered, "total": PRACTICE_SIZE, "streak": streak(session, user_id, day),
            "mastered": mastered(session, user_id)}


def _materialise(session: Session, user_id: int, now: datetime, view: keys.KeyView) -> PracticeSet:
    """The stored set of today, storing the drawn one if there is none (a concurrent first
    answer from another device loses on the unique (officer, day) key and reads the winner's)."""
    day = local_day(now)
    existing = _stored(session, user_id, day)
    if existing is not None:
        return existing
    ids = _draw(session, user_id, day, view)
    if not ids:
        raise ExamError(404, "not_in_set", "今天没有可练习的题目。")
    try:
        with session.begin_nested():
            row = PracticeSet(user_id=user_id, day=day, created_at=now)
            session.add(row)
            session.flush()
            positions = {vid: i for i, vid in enumerate(ids, 1)}
            qids = dict(session.execute(select(QuestionVersion.id, QuestionVersion.question_id)
                                        .where(QuestionVersion.id.in_(ids))).all())
            session.add_all([PracticeItem(set_id=row.id, position=positions[vid], question_id=qids[vid],
                                          question_version_id=vid) for vid in ids])
            session.flush()
    except IntegrityError:
        return _stored(session, user_id, day)
    return row


def answer(session: Session, user_id: int, version_id: int, given, now: datetime, default_policy: str) -> dict:
    """Grade one answer of today's set, once; returns ``{"correct", "answer", "explanation",
    "given"}`` (bank keys). Refused with ExamError, and no key, for a question not in today's
    set (404), one answered already (409) or one whose key keys.py hides now (409)."""
    if not isinstance(given, list) or not any(isinstance(a, str) and a.strip() for a in given):
        raise ExamError(400, "empty_answer", "请先选择或填写答案。")
    view = keys.view_for(session, user_id, now, default_policy)
    practice_set = _materialise(session, user_id, now, view)
    item = session.scalar(select(PracticeItem).where(PracticeItem.set_id == practice_set.id,
                                                     PracticeItem.question_version_id == version_id))
    if item is None:
        raise ExamError(404, "not_in_set", "这道题不在您今天的练习中，请刷新页面。")
    if item.answered_at is not None:
        raise ExamError(409, "already_answered", "这道题今天已经答过了。")
    if not view.question_visible(item.question_id):
        raise ExamError(409, "in_open_exam", "这道题出现在您尚未完成的测试中，考完后再练。")
    version, qtype = session.execute(select(QuestionVersion, Question.qtype).join(
        Question, Question.id == QuestionVersion.question_id).where(QuestionVersion.id == version_id)).one()
    stored = normalise_answer(qtype, {k: k for k, _t in version.options}, given)
    correct = grade_answer(qtype, version.answer, stored, False) >= 1.0
    won = session.execute(update(PracticeItem).where(
        PracticeItem.set_id == item.set_id, PracticeItem.position == item.position, PracticeItem.answered_at.is_(None))
        .values(answer=stored, is_correct=correct, answered_at=now)).rowcount
    if won != 1:
        raise ExamError(409, "already_answered", "这道题今天已经答过了。")
    _review(session, user_id, item.question_id, correct, now)
    # The day is finished when nothing answerable is left (a withheld question does not hold
    # the streak back).
    left = [qid for qid in session.scalars(select(PracticeItem.question_id).where(
        PracticeItem.set_id == practice_set.id, PracticeItem.answered_at.is_(None))) if view.question_visible(qid)]
    if not left:
        session.execute(update(PracticeSet).where(PracticeSet.id == practice_set.id,
                                                  PracticeSet.completed_at.is_(None)).values(completed_at=now))
    return {"correct": correct, "answer": list(version.answer), "explanation": version.explanation, "given": stored}


def _review(session: Session, user_id: int, question_id: int, correct: bool, now: datetime) -> None:
    """FSRS: a right answer rates Good, a wrong one Again."""
    row = session.get(PracticeCard, (user_id, question_id))
    card = Card.from_dict(row.card) if row is not None else Card()
    card, _log = SCHEDULER.review_card(card, Rating.Good if correct else Rating.Again,
                                       now.replace(tzinfo=timezone.utc))
    values = {"due": card.due.astimezone(timezone.utc).replace(tzinfo=None), "stability": float(card.stability),
              "last_review": now, "card": card.to_dict()}
    if row is None:
        session.add(PracticeCard(user_id=user_id, question_id=question_id, reviews=1, lapses=0 if correct else 1,
                                 **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.reviews += 1
        row.lapses += 0 if correct else 1
    session.flush()
