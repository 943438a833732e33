"""Exam history for the demo and synthetic cities: past weekly exams with attempts whose
participation and scores follow each unit's profile, and this week's exam open and untaken
by the demo ``officer`` account."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import Attempt, User
from .profiles import diligence_in_week, never_takes_exams, unit_profile
from ..timeutils import previous_weeks, week_key
from ..exams import services
from ..exams.blueprints import BlueprintError


def seed_exam_history(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    """Build this week's exam and ``weeks`` past ones; past attempts are inserted in bulk as
    finished with a score (their papers are not stored: synthetic history feeds the reports,
    not the review pages). The demo ``officer`` account takes the past exams for real through
    the services, so its results, review pages and wrong-answer book have content."""
    this_week = week_key(now)
    if weeks <= 0:
        try:
            services.create_weekly_exam(session, this_week, now)
        except BlueprintError:
            pass  # no bank loaded: nothing to build on
        return
    units = dict(session.execute(select(User.id, User.unit_id).where(User.id.in_(officer_ids))).all()) \
        if len(officer_ids) < 30000 else dict(session.execute(select(User.id, User.unit_id).where(User.role == "officer")).all())
    demo_officer = session.scalar(select(User).where(User.username == "officer"))
    past = previous_weeks(this_week, weeks + 1)
    # Oldest first, this week last, as the scheduler built them: each week's pool avoids the
    # pools of the weeks before it.
    for index, week in enumerate(past):
        weeks_ago = len(past) - 1 - index
        try:
            exam, _ = services.create_weekly_exam(session, week, now - timedelta(weeks=weeks_ago))
        except BlueprintError:
            return  # no bank loaded: nothing to build on
        # This week only the part of the window that has passed has attempts.
        elapsed = 1.0 if weeks_ago else max(0.0, min(1.0, (now - exam.opens_at) / (exam.closes_at - exam.opens_at)))
        rows = []
        for uid in officer_ids:
            if demo_officer is not None and uid == demo_officer.id:
                continue
            if never_takes_exams(uid):
                continue
            d = diligence_in_week(unit_profile(units.get(uid, 0)), weeks_ago, weeks)
            if rng.random() > (0.35 + 0.65 * d) * elapsed:
                continue
            window = (exam.closes_at - exam.opens_at) * elapsed if weeks_ago == 0 else exam.closes_at - exam.opens_at
            started = exam.opens_at + timedelta(minutes=rng.randint(1, max(2, int(window.total_seconds() // 60) - 40)))
            if started + timedelta(minutes=exam.duration_minutes) > now:
                continue
            score = round(min(100.0, max(20.0, rng.gauss(58 + 36 * d, 9))))
            rows.append({"exam_id": exam.id, "user_id": uid, "attempt_no": 1, "seed": rng.getrandbits(62),
                         "status": "finished", "started_at": started,
                         "deadline": min(started + timedelta(minutes=exam.duration_minutes), exam.closes_at),
                         "finished_at": started + timedelta(minutes=rng.randint(8, exam.duration_minutes)),
                         "finish_reason": "submitted", "seq": 0, "score": float(score),
                         "passed": score >= exam.pass_mark})
        for chunk in range(0, len(rows), 5000):
            session.execute(insert(Attempt), rows[chunk:chunk + 5000])
        if demo_officer is not None and weeks_ago:
            _take_for_real(session, exam, demo_officer, rng)
    if demo_officer is not None:
        _practise(session, now, demo_officer, rng)


def _practise(session: Session, now: datetime, officer: User, rng: random.Random, days: int = 3) -> None:
    """The demo officer did 每日一练 on each of the last ``days`` days through the real service
    (mostly right), so 首页 and 考试 show a streak and today's set is waiting."""
    from ..exams import practice

    policy = "after_close"
    for back in range(days, 0, -1):
        moment = now - timedelta(days=back)
        for q in practice.today(session, officer.id, moment, policy).questions:
            if q.qtype == "fill":
                answer = list(q.key[:1]) if rng.random() < 0.8 else ["不记得了"]
            else:
                wrong = [k for k, _t in q.options if k not in q.key][:1]
                answer = list(q.key) if rng.random() < 0.8 or not wrong else wrong
            practice.answer(session, officer.id, q.version_id, answer, moment, policy)


def _take_for_real(session: Session, exam, officer: User, rng: random.Random) -> None:
    """The demo officer sits a past exam through the real services: mostly right, some wrong."""
    from ..models import AttemptQuestion, QuestionVersion

    started = exam.opens_at + timedelta(hours=3)
    attempt, _ = services.start_or_resume(session, exam, officer, started)
    rows = session.execute(select(AttemptQuestion, QuestionVersion.answer).join(
        QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id).where(
        AttemptQuestion.attempt_id == attempt.id).order_by(AttemptQuestion.position)).all()
    for i, (aq, key) in enumerate(rows):
        if aq.option_map:
            back = {bank: disp for disp, bank in aq.option_map.items()}
            right = sorted(back[k] for k in key)
            wrong = [k for k in aq.option_map if k not in right][:1] or right
            answer = right if rng.random() < 0.82 else wrong
        else:
            answer = [key[0]] if rng.random() < 0.7 else ["不记得了"]
        services.save_answer(session, attempt, aq.question_version_id, answer, None,
                             started + timedelta(seconds=40 * (i + 1)))
    services.finish(session, attempt, started + timedelta(minutes=18))
