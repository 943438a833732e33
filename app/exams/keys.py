"""When an answer key or explanation (解析) may be seen — the one home of the rule (issue #14;
QUALITY E15, E26, E27, E29).

Every path that can show a key asks ``view_for`` (a KeyView: which exams' keys and which
questions' keys this officer may see now): the result page and the attempt API, 错题本 and
每日一练. Grants of extra time or a make-up ask ``released`` (none once keys are out). A test fails when
another module reads a key for an officer without it (tests/test_exam_keys.py).

The rule:

1. A question in a paper its officer can still write — in progress and not past its deadline
   plus GRACE_SECONDS, extra time included — is never shown with its key to that officer.
2. An exam's keys are *released* when no attempt on it can still be written or started: the
   window has closed, every attempt in progress has passed its deadline plus grace, and every
   make-up granted on it has ended (or its officer has used it). Grants end no later than
   MAX_GRANT_DAYS after the close, so every exam's keys are released by then.
3. The keys of an exam are visible to the owner of a finished attempt under ``after_submit``
   (their own paper only), and to everyone once released (``after_close``, the default, waits
   for the release alone).
4. No question of an unreleased exam's pool is shown with its key — not in practice, not in
   错题本 or older results where a question repeats — except, under ``after_submit``, the
   questions of the officer's own finished paper. So practice never offers next week's pool,
   nor this week's to anyone before the release (E15: a finished officer cannot read the rest
   of the pool to colleagues still writing).

Times are naive UTC, as stored; ``now`` is always passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import Attempt, AttemptQuestion, Exam, ExamGrant, ExamPoolItem, QuestionVersion

#: The reveal policies as people read them (the audit trail's words for a blueprint change).
REVEAL_POLICY_LABELS = {"after_close": _l("测试关闭后"), "after_submit": _l("交卷后")}
#: Saves are accepted this long after the deadline (network latency), by server receipt time (E2).
GRACE_SECONDS = 15
#: Make-ups and extra time end by default this long after the close, and never later than
#: MAX_GRANT_DAYS after it (E27).
DEFAULT_GRANT_HOURS = 48
MAX_GRANT_DAYS = 7


def writable_until(deadline: datetime) -> datetime:
    """The last moment a save against ``deadline`` is accepted."""
    return deadline + timedelta(seconds=GRACE_SECONDS)


def policy_of(exam: Exam, default_policy: str) -> str:
    """``after_close`` or ``after_submit``: the exam's own setting, else EXAM_REVEAL_POLICY."""
    return exam.reveal_policy or default_policy


def _live_deadline(exam_id):
    return (select(func.max(Attempt.deadline))
            .where(Attempt.exam_id == exam_id, Attempt.status == "in_progress").scalar_subquery())


def _open_makeup_end(exam_id):
    """The latest end of a make-up on the exam whose officer has not started it yet."""
    started = aliased(Attempt)
    return (select(func.max(ExamGrant.ends_at))
            .where(ExamGrant.exam_id == exam_id, ExamGrant.kind == "makeup",
                   ~exists().where(started.exam_id == ExamGrant.exam_id, started.user_id == ExamGrant.user_id))
            .scalar_subquery())


def _release(closes_at: datetime, live: datetime | None, makeup: datetime | None) -> datetime:
    return writable_until(max(v for v in (closes_at, live, makeup) if v is not None))


def released_at(session: Session, exam: Exam) -> datetime:
    """When the exam's keys are released to everyone, as things stand now (rule 2). A later
    grant can move it only while it is still in the future (``released`` refuses grants after)."""
    live, makeup = session.execute(select(_live_deadline(exam.id), _open_makeup_end(exam.id))).one()
    return _release(exam.closes_at, live, makeup)


def released(session: Session, exam: Exam, now: datetime) -> bool:
    """Strictly after ``released_at``: at that very instant a save is still accepted (E2)."""
    return now > released_at(session, exam)


def keys_shown_at(session: Session, exam: Exam, attempt: Attempt, default_policy: str) -> datetime | None:
    """When the owner of ``attempt`` will see the keys, for the result page to say so."""
    if policy_of(exam, default_policy) == "after_submit":
        return attempt.finished_at
    return released_at(session, exam)


@dataclass(frozen=True)
class KeyView:
    """What one officer may see now: every path that shows a key or 解析 asks this."""

    #: ``questions.id`` of questions whose key must not be shown (rules 1 and 4).
    hidden_questions: frozenset[int]
    #: Exams whose keys the officer may not see yet (rule 3); only recent ones are listed,
    #: every older exam is released.
    unseen_exams: frozenset[int]

    def question_visible(self, question_id: int) -> bool:
        return question_id not in self.hidden_questions

    def attempt_visible(self, attempt: Attempt) -> bool:
        """The keys of the officer's own ``attempt`` (questions still subject to
        ``question_visible``)."""
        return attempt.status == "finished" and attempt.exam_id not in self.unseen_exams


def view_for(session: Session, user_id: int, now: datetime, default_policy: str) -> KeyView:
    """The KeyView of officer ``user_id`` at ``now``; at most four queries whatever the data."""
    grace = timedelta(seconds=GRACE_SECONDS)
    in_paper = (select(QuestionVersion.question_id)
                .join(AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
                .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
                .where(Attempt.user_id == user_id, Attempt.status == "in_progress", Attempt.deadline >= now - grace))
    in_paper = set(session.scalars(in_paper))
    hidden = set(in_paper)

    mine_finished = exists().where(Attempt.exam_id == Exam.id, Attempt.user_id == user_id,
                                   Attempt.status == "finished")
    # Only recent or future exams can be unreleased (grants end within MAX_GRANT_DAYS of the
    # close); an attempt still live on an older one (a grant from before grants had an end)
    # keeps its exam in view.
    live_old = exists().where(Attempt.exam_id == Exam.id, Attempt.status == "in_progress",
                              Attempt.deadline >= now - grace)
    rows = session.execute(
        select(Exam.id, Exam.closes_at, Exam.reveal_policy, _live_deadline(Exam.id), _open_makeup_end(Exam.id),
               mine_finished)
        .where(or_(Exam.closes_at >= now - timedelta(days=MAX_GRANT_DAYS + 1), live_old))).all()
    unreleased = {exam_id: bool(finished and (policy or default_policy) == "after_submit")
                  for exam_id, closes_at, policy, live, makeup, finished in rows
                  if now <= _release(closes_at, live, makeup)}
    unseen = frozenset(exam_id for exam_id, own_paper_shown in unreleased.items() if not own_paper_shown)
    if unreleased:
        pools = session.execute(select(ExamPoolItem.exam_id, ExamPoolItem.question_id)
                                .where(ExamPoolItem.exam_id.in_(list(unreleased)))).all()
        hidden.update(qid for exam_id, qid in pools if exam_id in unseen)
        early = [exam_id for exam_id, own_paper_shown in unreleased.items() if own_paper_shown]
        if early:
            # after_submit: the officer's own finished paper is shown, nothing else of its pool
            # until the release (E15: no reading the rest to colleagues still writing).
            own = set(session.scalars(
                select(QuestionVersion.question_id)
                .join(AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
                .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
                .where(Attempt.user_id == user_id, Attempt.status == "finished", Attempt.exam_id.in_(early))))
            hidden.update(qid for exam_id, qid in pools if exam_id in early and qid not in own)
    return KeyView(frozenset(hidden), unseen)


def view_for_attempt(session: Session, attempt: Attempt, now: datetime, default_policy: str) -> KeyView:
    """The owner's view for showing ``attempt``. An unfinished attempt shows no key whatever
    else is true, so nothing is queried for it (the exam page syncs often during the sitting)."""
    if attempt.status != "finished":
        return KeyView(frozenset(), frozenset({attempt.exam_id}))
    return view_for(session, attempt.user_id, now, default_policy)
