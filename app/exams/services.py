"""The weekly exam: building it, starting, saving, submitting, sweeping and grading.

Every function takes ``now`` (naive UTC) and flushes; the request, command or job commits.
The database enforces "exactly once" (QUALITY decision 3): one exam per (week, scope), one
attempt per (exam, officer, attempt_no), and state changes are conditional UPDATEs whose
rowcount says who won.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from .. import audit
from ..models import (Attempt, AttemptQuestion, AuditLog, Exam, ExamGrant, ExamPoolItem, Question, QuestionVersion,
                      User)
from ..notices import reminders
from ..timeutils import parse_week_key, previous_weeks, to_utc, week_key
from . import blueprints, keys, papers
from .keys import GRACE_SECONDS

#: A33: this many saves within BURST_SECONDS flag the attempt for a supervisor to review.
BURST_SAVES, BURST_SECONDS = 50, 3
#: The sweeper leaves attempts alone until this long after deadline + grace (E6).
SWEEP_MARGIN_SECONDS = 30
FILL_MAX_CHARS = 200


class ExamError(Exception):
    """A refused exam action: ``status`` and ``code`` for the API, ``message`` for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- building the weekly exam -----------------------------------------------------------

def window_for(week: str, bp) -> tuple[datetime, datetime]:
    from datetime import datetime as dt, time

    monday = parse_week_key(week)
    start = to_utc(dt.combine(monday, time.min))
    return start + timedelta(minutes=bp.opens_offset_minutes), start + timedelta(minutes=bp.closes_offset_minutes)


def create_weekly_exam(session: Session, week: str, now: datetime, *, duration: int | None = None,
                       fail_after: int | None = None) -> tuple[Exam, bool]:
    """Build the exam of ``week`` (``YYYY-Www``) unless it exists; returns (exam, created).

    One transaction: the exam and its frozen question pool appear together or not at all
    (L5). A concurrent creator loses on the unique (week, scope) key and gets the winner's
    exam (L3). A blueprint the bank cannot fill raises BlueprintError before anything is
    written (E25). ``fail_after`` is a fault-injection hook for tests (crash after N pool rows).
    """
    existing = session.scalar(select(Exam).where(Exam.week == week, Exam.scope == "city"))
    if existing is not None:
        return existing, False
    from .bank_queries import current_pool  # the bank module owns the pool query

    bp = blueprints.active_blueprint(session)
    bank = [blueprints.PoolRow(r.id, r.question_id, r.qtype, r.module, r.difficulty) for r in current_pool(session)]
    problems = blueprints.shortfalls(bank, bp.rules)
    if problems:
        raise blueprints.BlueprintError(problems)
    if bp.id is None:
        session.add(bp)  # the defaults become the first stored version, with the exam
        session.flush()
    # The week's pool: a multiple of each rule's count, avoiding the last weeks' pools while
    # the bank allows; everything outside it is practice material this week (issue #14).
    pool = blueprints.weekly_pool(bank, bp.rules, bp.pool_multiple, _recent_pools(session, week, bp.avoid_recent_weeks),
                                  secrets.randbits(62))
    opens_at, closes_at = window_for(week, bp)
    exam = Exam(week=week, scope="city", title=f"{week[:4]} 年第 {int(week[6:])} 周测试", opens_at=opens_at,
                closes_at=closes_at, duration_minutes=duration or bp.duration_minutes, pass_mark=bp.pass_mark,
                reveal_policy=bp.reveal_policy, multiple_partial=bp.multiple_partial,
                blueprint=blueprints.snapshot(bp), status="ready", created_at=now)
    try:
        with session.begin_nested():
            session.add(exam)
            session.flush()
            rows = [{"exam_id": exam.id, "question_version_id": r.question_version_id, "question_id": r.question_id,
                     "qtype": r.qtype, "module": r.module, "difficulty": r.difficulty} for r in pool]
            if fail_after is not None:
                session.execute(insert(ExamPoolItem), rows[:fail_after])
                raise RuntimeError("injected failure while building the exam")
            session.execute(insert(ExamPoolItem), rows)
    except IntegrityError:
        winner = session.scalar(select(Exam).where(Exam.week == week, Exam.scope == "city"))
        return winner, False
    audit.record(session, "exam.create", actor_name="scheduler", target=exam,
                 after={"week": week, "pool": len(pool), "bank": len(bank), "duration": exam.duration_minutes})
    return exam, True


def _recent_pools(session: Session, week: str, weeks: int) -> frozenset[int]:
    """Question ids in the pools of the ``weeks`` exams before ``week``."""
    if weeks <= 0:
        return frozenset()
    recent = previous_weeks(week, weeks + 1)[:-1]
    return frozenset(session.scalars(select(ExamPoolItem.question_id).join(Exam, Exam.id == ExamPoolItem.exam_id)
                                     .where(Exam.week.in_(recent))))


# Built once: the officer's home page asks these on every view (issue #7).
_WEEK_EXAM = select(Exam).where(Exam.week == bindparam("week"), Exam.scope == "city", Exam.status == "ready")
_GRANTS = (select(ExamGrant.kind, ExamGrant.minutes, ExamGrant.ends_at)
           .where(ExamGrant.exam_id == bindparam("exam_id"), ExamGrant.user_id == bindparam("user_id"))
           .order_by(ExamGrant.id))
_LAST_ATTEMPT = (select(Attempt).where(Attempt.exam_id == bindparam("exam_id"), Attempt.user_id == bindparam("user_id"))
                 .order_by(Attempt.attempt_no.desc()).limit(1))


def exam_for_week(session: Session, week: str) -> Exam | None:
    return session.scalar(_WEEK_EXAM, {"week": week})


# --- the officer's sitting -----------------------------------------------------------------

@dataclass
class Window:
    """When this officer may start, and the extra time granted to them: ``(minutes, ends_at)``
    per grant, in the order granted."""

    opens_at: datetime
    closes_at: datetime
    extra: list[tuple[int, datetime]]

    def deadline_from(self, start: datetime, duration_minutes: int) -> datetime:
        """The deadline of an attempt started at ``start``: the duration within the window, then
        each extra time added, none running past its own end (E1, E27)."""
        deadline = min(start + timedelta(minutes=duration_minutes), self.closes_at)
        for minutes, ends_at in self.extra:
            deadline = extend(deadline, minutes, ends_at)
        return deadline


def extend(deadline: datetime, minutes: int, ends_at: datetime) -> datetime:
    """``deadline`` plus one grant's ``minutes``, not past that grant's end (nor earlier than it was)."""
    return min(deadline + timedelta(minutes=minutes), max(ends_at, deadline))


def officer_window(session: Session, exam: Exam, user_id: int) -> Window:
    """A make-up keeps the exam open for this officer until the make-up's end; each extra time
    adds its minutes to the attempt, up to its own end (E27)."""
    rows = session.execute(_GRANTS, {"exam_id": exam.id, "user_id": user_id}).all()
    makeup_ends = [ends for kind, _minutes, ends in rows if kind == "makeup"]
    closes = max([exam.closes_at, *makeup_ends])
    return Window(exam.opens_at, closes, [(int(minutes or 0), ends) for kind, minutes, ends in rows
                                           if kind == "extra_time"])


def is_open_for(session: Session, exam: Exam, user: User, now: datetime) -> bool:
    if exam.status != "ready" or user.role != "officer" or not user.is_active:
        return False
    w = officer_window(session, exam, user.id)
    return w.opens_at <= now < w.closes_at


def _recent_question_ids(session: Session, user_id: int, exam: Exam, weeks: int) -> frozenset[int]:
    if weeks <= 0:
        return frozenset()
    recent = previous_weeks(exam.week, weeks + 1)[:-1]
    stmt = (select(QuestionVersion.question_id).join(AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
            .join(Attempt, Attempt.id == AttemptQuestion.attempt_id).join(Exam, Exam.id == Attempt.exam_id)
            .where(Attempt.user_id == user_id, Exam.week.in_(recent)))
    return frozenset(session.scalars(stmt))


def build_paper(session: Session, exam: Exam, seed: int, avoid: frozenset[int]) -> list[papers.PaperQuestion]:
    rows = session.execute(select(ExamPoolItem, QuestionVersion.options).join(
        QuestionVersion, QuestionVersion.id == ExamPoolItem.question_version_id).where(
        ExamPoolItem.exam_id == exam.id).order_by(ExamPoolItem.question_version_id)).all()
    pool = [blueprints.PoolRow(p.question_version_id, p.question_id, p.qtype, p.module, p.difficulty) for p, _ in rows]
    options_of = {p.question_version_id: opts for p, opts in rows}
    return papers.draw(pool, exam.blueprint["rules"], exam.blueprint["points"], seed, avoid, options_of)


def this_week(session: Session, user: User, now: datetime) -> tuple[Exam | None, Attempt | None, bool]:
    """This week's exam, the officer's attempt on it, and whether they may start one now."""
    exam = exam_for_week(session, current_week(now))
    attempt = find_attempt(session, exam.id, user.id) if exam else None
    can_start = bool(exam and attempt is None and is_open_for(session, exam, user, now))
    return exam, attempt, can_start


def find_attempt(session: Session, exam_id: int, user_id: int) -> Attempt | None:
    return session.scalar(_LAST_ATTEMPT, {"exam_id": exam_id, "user_id": user_id})


def start_or_resume(session: Session, exam: Exam, user: User, now: datetime) -> tuple[Attempt, bool]:
    """Start the officer's attempt, or return the one they have (E8, E18, E20).

    A finished attempt comes back read-only; no second attempt is ever created by a start.
    """
    existing = find_attempt(session, exam.id, user.id)
    if existing is not None:
        return existing, False
    if not is_open_for(session, exam, user, now):
        raise ExamError(404, "not_open", "本周测试当前未开放。")
    deadline = officer_window(session, exam, user.id).deadline_from(now, exam.duration_minutes)
    seed = secrets.randbits(62)
    paper = build_paper(session, exam, seed,
                        _recent_question_ids(session, user.id, exam, exam.blueprint.get("avoid_recent_weeks", 3)))
    attempt = Attempt(exam_id=exam.id, user_id=user.id, attempt_no=1, seed=seed, status="in_progress",
                      started_at=now, deadline=deadline, seq=0)
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
            session.execute(insert(AttemptQuestion), [
                {"attempt_id": attempt.id, "position": i, "question_version_id": q.question_version_id,
                 "points": q.points, "option_map": q.option_map, "answer": None, "answer_seq": 0}
                for i, q in enumerate(paper, 1)])
    except IntegrityError:
        # Another tab or device started it a moment ago: theirs is the attempt.
        return find_attempt(session, exam.id, user.id), False
    return attempt, True


#: ``owned_attempt`` on a connection: the owner and what ``check_answer`` reads.
_OWNED = select(*(Attempt.__table__.c[name] for name in ("id", "user_id", "status", "deadline", "seq"))).where(
    Attempt.__table__.c.id == bindparam("aid"))


def owned_attempt(session, attempt_id: int, user) -> Attempt:
    """The caller's own attempt, or 404 whether it exists or not (A16).

    ``session`` is a Session (the views: the Attempt itself) or a connection, anything with
    ``execute(statement, params)`` (the express lane: the row of id, user_id, status, deadline
    and seq); ``user`` is anything with ``id``."""
    if isinstance(session, Session):
        attempt = session.get(Attempt, attempt_id)
    else:
        attempt = session.execute(_OWNED, {"aid": attempt_id}).first()
    if attempt is None or attempt.user_id != user.id:
        raise ExamError(404, "not_found", "没有找到这份答卷。")
    return attempt


def _check_writable(attempt: Attempt, now: datetime) -> None:
    if attempt.status != "in_progress":
        raise ExamError(409, "finished", "答卷已提交，不能再修改。")
    if now > keys.writable_until(attempt.deadline):
        raise ExamError(409, "deadline_passed", "考试时间已到，答案未保存。")


def normalise_answer(qtype: str, option_map: dict, answer) -> list:
    """Check an answer against the question as served (E17); returns the stored form."""
    if not isinstance(answer, list):
        raise ExamError(400, "invalid_answer", "答案格式不正确。")
    if qtype == "fill":
        if len(answer) != 1 or not isinstance(answer[0], str):
            raise ExamError(400, "invalid_answer", "填空题请填写一个答案。")
        if len(answer[0]) > FILL_MAX_CHARS:
            raise ExamError(400, "invalid_answer", f"填空答案不能超过 {FILL_MAX_CHARS} 个字。")
        return [answer[0]]
    if not all(isinstance(a, str) for a in answer) or len(set(answer)) != len(answer):
        raise ExamError(400, "invalid_answer", "答案格式不正确。")
    if any(a not in option_map for a in answer):
        raise ExamError(400, "invalid_option", "选项不属于这道题。")
    if qtype in ("single", "truefalse") and len(answer) != 1:
        raise ExamError(400, "invalid_answer", "这道题只能选一个选项。")
    if qtype == "multiple" and not answer:
        raise ExamError(400, "invalid_answer", "请至少选择一个选项。")
    return sorted(answer)


_AQ = AttemptQuestion.__table__
_ATT = Attempt.__table__
# Built once (bound parameters): the autosave is the exam's hottest write, and on SQLite what
# runs between BEGIN IMMEDIATE and COMMIT is shared by every worker (issue #7).
_SERVED = (select(_AQ.c.position, _AQ.c.option_map, Question.qtype)
           .join(QuestionVersion, QuestionVersion.id == _AQ.c.question_version_id)
           .join(Question, Question.id == QuestionVersion.question_id)
           .where(_AQ.c.attempt_id == bindparam("aid"), _AQ.c.question_version_id == bindparam("qid")))
# A33's burst window restarts when the previous burst began more than BURST_SECONDS ago.
_NEW_BURST = or_(_ATT.c.burst_started_at.is_(None), _ATT.c.burst_started_at < bindparam("burst_cutoff"))
_LIVE = and_(_ATT.c.id == bindparam("aid"), _ATT.c.status == "in_progress",
             _ATT.c.deadline >= bindparam("deadline_cutoff"))
_BURST_VALUES = {"burst_started_at": case((_NEW_BURST, bindparam("now")), else_=_ATT.c.burst_started_at),
                 "burst_saves": case((_NEW_BURST, 1), else_=func.coalesce(_ATT.c.burst_saves, 0) + 1)}
_RETURN = (_ATT.c.seq, _ATT.c.burst_started_at, _ATT.c.burst_saves, _ATT.c.flagged, _ATT.c.deadline)
_ADVANCE_NEXT = update(_ATT).where(_LIVE).values(seq=_ATT.c.seq + 1, **_BURST_VALUES).returning(*_RETURN)
_ADVANCE_TO = (update(_ATT).where(_LIVE, _ATT.c.seq < bindparam("seq")).values(seq=bindparam("seq"), **_BURST_VALUES)
               .returning(*_RETURN))
_STATE = select(_ATT.c.status, _ATT.c.seq, _ATT.c.deadline).where(_ATT.c.id == bindparam("aid"))
_STORE = (update(_AQ).where(_AQ.c.attempt_id == bindparam("aid"), _AQ.c.position == bindparam("pos"))
          .values(answer=bindparam("answer"), answer_seq=bindparam("answer_seq"), answered_at=bindparam("now")))


def save_answer(session: Session, attempt: Attempt, question_id: int, answer, seq: int | None, now: datetime,
                reader: Session | None = None) -> int:
    """Store one answer; returns the attempt's sequence number after the save (E2, E9, E17).

    With ``seq``: a higher number is applied by compare-and-advance in one UPDATE, an equal
    one is a harmless replay, a lower one is stale (409) and changes nothing. Without it, the
    server takes the next number.

    ``reader`` (default: ``session``) answers the checks that decide nothing written — is the
    question in this paper, is the answer well formed — before the write transaction starts.
    The attempt's state (open, within the deadline plus grace, sequence) is decided by the
    conditional UPDATE itself, inside the write transaction. ``attempt`` is kept in step with
    what was written (loaded values, never marked dirty), as is the answered question if the
    session holds it.

    The same two steps (``check_answer``, then ``write_answer``) serve the express lane
    (app/express.py), so an autosave has one implementation whichever way the request came.
    """
    position, stored = check_answer((reader or session).connection(), attempt, question_id, answer, seq, now)
    applied, row = write_answer(session.connection(), attempt.id, position, stored, seq, now)
    if not applied:
        for key in ("status", "seq", "deadline"):
            set_committed_value(attempt, key, getattr(row, key))
        return judge_unapplied(row, seq, now)
    for key in ("seq", "burst_started_at", "burst_saves", "flagged", "deadline"):
        set_committed_value(attempt, key, getattr(row, key))
    held = session.identity_map.get(identity_key(AttemptQuestion, (attempt.id, position)))
    if held is not None:
        for key, value in (("answer", stored), ("answer_seq", row.seq), ("answered_at", now)):
            set_committed_value(held, key, value)
    if needs_burst_flag(row):
        _flag_burst(session, attempt, row.burst_saves)
    return row.seq


def check_answer(reader, attempt, question_id: int, answer, seq: int | None, now: datetime) -> tuple[int, list]:
    """``(position, stored answer)`` after the checks that decide nothing written, on the
    connection ``reader``: the attempt as loaded (anything with ``id``, ``status`` and
    ``deadline``) is open, ``seq`` is well formed, the question is in this paper and the answer
    fits it (E17). Raises ExamError otherwise."""
    _check_writable(attempt, now)  # early answer from what was loaded; the UPDATE decides
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or seq > 10**9):
        raise ExamError(400, "invalid_seq", "seq 必须是正整数。")
    served = reader.execute(_SERVED, {"aid": attempt.id, "qid": question_id}).first()
    if served is None:
        raise ExamError(400, "not_in_attempt", "这道题不在您的试卷中。")
    return served.position, normalise_answer(served.qtype, served.option_map, answer)


def write_answer(conn, attempt_id: int, position: int, stored: list, seq: int | None, now: datetime):
    """The write half of an autosave on ``conn``, inside its write transaction.

    Returns ``(True, row)`` when the save was applied (``row``: the attempt's seq, burst
    counters, flag and deadline after it), else ``(False, state)`` with the attempt's status,
    seq and deadline and nothing written: ``judge_unapplied`` says what that means."""
    params = {"aid": attempt_id, "now": now, "burst_cutoff": now - timedelta(seconds=BURST_SECONDS),
              "deadline_cutoff": now - timedelta(seconds=GRACE_SECONDS), "seq": seq}
    row = conn.execute(_ADVANCE_NEXT if seq is None else _ADVANCE_TO, params).first()
    if row is None:
        return False, conn.execute(_STATE, params).one()
    conn.execute(_STORE, {"aid": attempt_id, "pos": position, "answer": stored, "answer_seq": row.seq, "now": now})
    return True, row


def judge_unapplied(state, seq: int | None, now: datetime) -> int:
    """A save the conditional UPDATE did not apply: the attempt is finished or past its
    deadline (409), or the save is a replay of one already applied (returns its seq), or it
    is stale (409)."""
    _check_writable(state, now)
    if seq is not None and state.seq == seq:
        return seq  # a replay of a save already applied
    raise ExamError(409, "stale", "这是一次过期的保存，已保留较新的答案。")


def needs_burst_flag(row) -> bool:
    """A33: this save completed a burst of BURST_SAVES within BURST_SECONDS, not flagged yet."""
    return row.burst_saves >= BURST_SAVES and row.flagged is None


def _flag_burst(session: Session, attempt: Attempt, saves: int) -> None:
    """A33: answering at inhuman speed (50 saves within 3 s) flags the attempt, once, with an
    audit row. Nothing else happens: a supervisor decides what it means."""
    flagged = session.connection().execute(update(_ATT).where(_ATT.c.id == attempt.id, _ATT.c.flagged.is_(None))
                                           .values(flagged="too_fast")).rowcount
    if flagged:
        set_committed_value(attempt, "flagged", "too_fast")
        audit.record(session, "attempt.flagged", actor_name="system", target=attempt,
                     detail=f"{saves} saves within {BURST_SECONDS} s")


def _grade(session: Session, attempt_ids: list[int]) -> None:
    """Score finished attempts from their stored answers and the versions they were served.

    Works on plain rows and writes with bulk UPDATEs by primary key, so the sweeper can grade
    10,028 attempts in seconds; objects already in the session are expired afterwards."""
    from .grading import grade_answer  # one grading rule for exams, practice and the property test

    if not attempt_ids:
        return
    session.flush()
    rows = session.execute(
        select(AttemptQuestion.attempt_id, AttemptQuestion.position, AttemptQuestion.points, AttemptQuestion.option_map,
               AttemptQuestion.answer, QuestionVersion.answer, Question.qtype, Exam.multiple_partial)
        .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
        .join(Question, Question.id == QuestionVersion.question_id)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id).join(Exam, Exam.id == Attempt.exam_id)
        .where(AttemptQuestion.attempt_id.in_(attempt_ids))).all()
    totals = {i: 0.0 for i in attempt_ids}
    marks = []
    for attempt_id, position, points, option_map, given, key, qtype, partial in rows:
        if given is not None and qtype != "fill":
            given = [option_map.get(k) for k in given]
        fraction = grade_answer(qtype, key, given, partial)
        awarded = round(points * fraction, 2)
        totals[attempt_id] += awarded
        marks.append({"attempt_id": attempt_id, "position": position, "points_awarded": awarded,
                      "is_correct": fraction >= 1.0})
    if marks:
        session.execute(update(AttemptQuestion), marks)
    pass_mark = dict(session.execute(select(Attempt.id, Exam.pass_mark).join(Exam, Exam.id == Attempt.exam_id)
                                     .where(Attempt.id.in_(attempt_ids))).all())
    session.execute(update(Attempt), [{"id": i, "score": round(t, 2), "passed": round(t, 2) >= pass_mark[i]}
                                      for i, t in totals.items()])
    session.expire_all()


def finish(session: Session, attempt: Attempt, now: datetime, reason: str = "submitted") -> bool:
    """Finish and grade an attempt exactly once (E6, E7, E10). Returns True for the winner.

    After the deadline (plus grace) the attempt finishes at its deadline, whoever asks.
    """
    late = now > attempt.deadline + timedelta(seconds=GRACE_SECONDS)
    finished_at = attempt.deadline if late or reason == "deadline" else now
    why = "deadline" if late else reason
    won = session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.status == "in_progress")
                          .values(status="finished", finished_at=finished_at, finish_reason=why)).rowcount == 1
    session.refresh(attempt)
    if won:
        _grade(session, [attempt.id])
        session.refresh(attempt)
        audit.record(session, "attempt.finish", actor_name="system" if why == "deadline" else None,
                     target=attempt, after={"score": attempt.score, "reason": why})
        _resolve_reminders(session, [attempt.id], now)
    return won


def _resolve_reminders(session: Session, attempt_ids: list[int], now: datetime) -> None:
    """The week's exam is taken: its 本周测试还未参加 reminders are done (app/notices/reminders.py)."""
    rows = session.execute(select(Exam.week, Attempt.user_id).join(Exam, Exam.id == Attempt.exam_id)
                           .where(Attempt.id.in_(attempt_ids))).all()
    for week in {w for w, _u in rows}:
        reminders.resolve(session, "exam_finished", week, [u for w, u in rows if w == week], now)


def submit(session: Session, attempt: Attempt, now: datetime, final_answers: list | None = None) -> Attempt:
    """The officer's 交卷, with the last answers the page still held; idempotent (E7, E13)."""
    if attempt.status == "in_progress" and final_answers and now <= attempt.deadline + timedelta(seconds=GRACE_SECONDS):
        for item in final_answers:
            if not isinstance(item, dict) or "question_id" not in item:
                raise ExamError(400, "invalid_answer", "答案格式不正确。")
            try:
                save_answer(session, attempt, int(item["question_id"]), item.get("answer"), item.get("seq"), now)
            except ExamError as err:
                if err.code != "stale":
                    raise
    finish(session, attempt, now)
    return attempt


def sweep_overdue(session: Session, now: datetime, batch: int = 2000) -> int:
    """Finish every attempt whose deadline passed, at its deadline, from its saved answers (E5, L7).

    Safe to run twice or beside an officer's own submit: a batch is taken by one conditional
    UPDATE … WHERE status = 'in_progress' RETURNING id, and only the ids it returns (the
    winners) are graded and audited.
    """
    cutoff = now - timedelta(seconds=GRACE_SECONDS + SWEEP_MARGIN_SECONDS)
    done = 0
    while True:
        ids = list(session.scalars(select(Attempt.id).where(Attempt.status == "in_progress", Attempt.deadline < cutoff)
                                   .order_by(Attempt.id).limit(batch)))
        if not ids:
            return done
        won = list(session.scalars(
            update(Attempt).where(Attempt.id.in_(ids), Attempt.status == "in_progress")
            .values(status="finished", finished_at=Attempt.deadline, finish_reason="deadline")
            .returning(Attempt.id).execution_options(synchronize_session=False)))
        _grade(session, won)
        if won:
            scores = dict(session.execute(select(Attempt.id, Attempt.score).where(Attempt.id.in_(won))).all())
            # One audit transition per finished attempt, written in bulk (E6).
            session.execute(insert(AuditLog), [
                {"action": "attempt.finish", "actor_name": "system", "target_type": "attempt", "target_id": str(i),
                 "after": {"score": scores[i], "reason": "deadline"}, "at": now} for i in won])
            _resolve_reminders(session, won, now)
        done += len(won)


def current_week(now: datetime) -> str:
    return week_key(now)
