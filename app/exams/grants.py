"""Extra time and make-ups for officers on duty (supervisors for their subtree, admins for all;
audited). Each grant ends when the supervisor says (app/exams/keys.py has the limits), and none
is given once the week's keys are out (E27)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..models import Exam, ExamGrant, User
from . import keys
from .services import ExamError, extend, find_attempt


def grant(session: Session, exam: Exam, officer: User, kind: str, minutes: int, reason: str, by: User,
          now: datetime, ends_at: datetime | None = None) -> ExamGrant:
    """Extra time (minutes added to the officer's deadline) or a make-up (the exam stays open
    for this officer after the close), each ending at ``ends_at``: default DEFAULT_GRANT_HOURS
    after the close, at most MAX_GRANT_DAYS (E27). Refused once the exam's keys are released
    (a make-up then would be written with the key in colleagues' hands) or when the officer has
    finished. Audited (A31)."""
    if kind not in ("extra_time", "makeup"):
        raise ExamError(422, "invalid_grant", "请选择延时或补考。")
    if kind == "extra_time" and not 1 <= minutes <= 24 * 60:
        raise ExamError(422, "invalid_grant", "延长时间应在 1 分钟到 24 小时之间。")
    latest = exam.closes_at + timedelta(days=keys.MAX_GRANT_DAYS)
    ends_at = ends_at or exam.closes_at + timedelta(hours=keys.DEFAULT_GRANT_HOURS)
    if keys.released(session, exam, now):
        raise ExamError(409, "keys_released", "本场测试的答案已经公布，不能再办理延时或补考。")
    if not (exam.closes_at < ends_at <= latest and ends_at > now):
        raise ExamError(422, "invalid_grant_end", "截止时间应晚于现在和测试截止时间，且不超过测试截止后 7 天。")
    attempt = find_attempt(session, exam.id, officer.id)
    if attempt is not None and (attempt.status == "finished" or now > keys.writable_until(attempt.deadline)):
        # An attempt whose time has run out is finished in all but the sweep: extra time never
        # reopens it (E2).
        raise ExamError(409, "finished", "该干警的答题时间已结束或已交卷，不能再办理。")
    if kind == "makeup":
        minutes = int((ends_at - exam.closes_at).total_seconds() // 60)
    row = ExamGrant(exam_id=exam.id, user_id=officer.id, kind=kind, minutes=minutes, reason=reason[:200],
                    ends_at=ends_at, granted_by_id=by.id, created_at=now)
    session.add(row)
    if kind == "extra_time" and attempt is not None:
        attempt.deadline = extend(attempt.deadline, minutes, ends_at)
    session.flush()
    audit.record(session, f"exam.grant_{kind}", actor=by, target=officer,
                 after={"exam": exam.week, "minutes": minutes, "ends_at": ends_at.isoformat(), "reason": reason[:200]})
    return row


def grantable_exams(session: Session, now: datetime) -> list[Exam]:
    """Exams that may still take a grant (their keys not released), newest first: this
    week's, and last week's while make-ups on it still run."""
    recent = session.scalars(select(Exam).where(Exam.status == "ready",
                                                Exam.closes_at >= now - timedelta(days=keys.MAX_GRANT_DAYS + 1))
                             .order_by(Exam.week.desc()).limit(3)).all()
    return [e for e in recent if not keys.released(session, e, now)]
