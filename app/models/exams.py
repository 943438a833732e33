"""Weekly exams, attempts and the scheduler's run guard (issue #4; QUALITY E1–E25, L3–L5)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now


class ExamBlueprint(Base):
    """The admin's recipe for weekly exams, versioned: the newest row is in force, and each exam
    keeps a copy of the one it was built from."""

    __tablename__ = "exam_blueprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``[{"type": "single", "module": null|code, "difficulty": null|1..3, "count": n}, ...]``
    rules: Mapped[list] = mapped_column(JSON)
    #: Points per question of each type, e.g. ``{"single": 4, "multiple": 6, ...}``; totals 100.
    points: Mapped[dict] = mapped_column(JSON)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    #: Window as minutes after Monday 00:00 Asia/Shanghai (default Monday 08:00 → Sunday 22:00).
    opens_offset_minutes: Mapped[int] = mapped_column(Integer, default=8 * 60)
    closes_offset_minutes: Mapped[int] = mapped_column(Integer, default=6 * 1440 + 22 * 60)
    pass_mark: Mapped[int] = mapped_column(Integer, default=80)
    #: ``after_close`` or ``after_submit``; NULL defers to the EXAM_REVEAL_POLICY setting.
    reveal_policy: Mapped[str | None] = mapped_column(String(16))
    #: Multiple choice: all-or-nothing (false) or partial credit for a correct subset (true).
    multiple_partial: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Questions an officer saw in this many previous weeks are avoided when the bank allows.
    avoid_recent_weeks: Mapped[int] = mapped_column(Integer, default=3)
    #: The week's pool holds this many times the questions a paper draws, per rule (issue #14):
    #: papers draw from the pool, and practice uses everything else in the bank that week.
    pool_multiple: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Exam(Base):
    __tablename__ = "exams"
    __table_args__ = (
        # Exactly one exam per week and scope, however many processes try (QUALITY decision 3).
        UniqueConstraint("week", "scope", name="uq_exams_week_scope"),
        CheckConstraint("status IN ('generating', 'ready')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(16), default="city")
    title: Mapped[str] = mapped_column(String(120))
    opens_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    reveal_policy: Mapped[str | None] = mapped_column(String(16))
    multiple_partial: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The blueprint as it was when the exam was built.
    blueprint: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="ready")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ExamPoolItem(Base):
    """The question versions an exam may draw from, frozen when the exam is built."""

    __tablename__ = "exam_pool"

    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id", ondelete="RESTRICT"),
                                                     primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    qtype: Mapped[str] = mapped_column(String(10))
    module: Mapped[str] = mapped_column(String(20))
    difficulty: Mapped[int] = mapped_column(Integer)


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("exam_id", "user_id", "attempt_no", name="uq_attempts_exam_user_no"),
        CheckConstraint("status IN ('in_progress', 'finished')", name="status"),
        Index("ix_attempts_status_deadline", "status", "deadline"),
        Index("ix_attempts_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: 1 for the weekly sitting; a supervisor's make-up grant allows 2.
    attempt_no: Mapped[int] = mapped_column(Integer, default=1)
    #: The paper (questions, their order and option order) is rebuilt from this seed (E19).
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    started_at: Mapped[datetime] = mapped_column()
    #: min(start + duration (+ granted minutes), window close), kept by the server (E1).
    deadline: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    #: ``submitted`` by the officer or ``deadline`` when the sweeper finished it (E5).
    finish_reason: Mapped[str | None] = mapped_column(String(10))
    #: Highest save sequence applied; stale saves (lower seq) are refused (E9).
    seq: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    #: Saves counted in the current burst window (A33: inhumanly fast answering is flagged).
    burst_started_at: Mapped[datetime | None] = mapped_column()
    burst_saves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: ``too_fast`` when 50 saves arrived within 3 seconds; for a supervisor to look at, never
    #: acted on automatically.
    flagged: Mapped[str | None] = mapped_column(String(16))

    exam: Mapped[Exam] = relationship()


class AttemptQuestion(Base):
    __tablename__ = "attempt_questions"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id", ondelete="RESTRICT"))
    points: Mapped[float] = mapped_column(Float)
    #: Display key → bank key, e.g. ``{"A": "C", "B": "A", ...}``: options are shown shuffled and
    #: relabelled, so neither key nor order says anything about correctness (E14).
    option_map: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The officer's answer in display keys (or the fill string), NULL when unanswered.
    answer: Mapped[list | None] = mapped_column(JSON)
    answer_seq: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column()
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    points_awarded: Mapped[float | None] = mapped_column(Float)


class ExamGrant(Base):
    """Extra time or a make-up sitting granted by a supervisor to an officer on duty (audited).

    Every grant ends at ``ends_at`` (default 48 h after the close, at most 7 days after it): no
    attempt it allows can be written later, and under ``after_close`` the exam's keys stay
    hidden until then (app/exams/keys.py, E27)."""

    __tablename__ = "exam_grants"
    __table_args__ = (CheckConstraint("kind IN ('extra_time', 'makeup')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    #: The latest moment the grant lets this officer write (naive UTC).
    ends_at: Mapped[datetime] = mapped_column()
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class JobRun(Base):
    """Guard for scheduled work: a job does each period once (L3, L4)."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "period_key", name="uq_job_runs_job_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(40))
    period_key: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    detail: Mapped[str] = mapped_column(String(255), default="")
