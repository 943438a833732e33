"""The question bank (issue #4). Content lives in versions: an edit adds a version, and an
attempt keeps the version it was served (QUALITY E22)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utc_now
from .modules import check_sql

QUESTION_TYPES = ("single", "multiple", "truefalse", "fill")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint(check_sql("module"), name="module"),
        CheckConstraint("qtype IN ('single', 'multiple', 'truefalse', 'fill')", name="qtype"),
        CheckConstraint("difficulty BETWEEN 1 AND 3", name="difficulty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The stable id from question_bank/*.yaml (e.g. ``theory-001``); imports update by it.
    bank_id: Mapped[str] = mapped_column(String(64), unique=True)
    module: Mapped[str] = mapped_column(String(20), index=True)
    qtype: Mapped[str] = mapped_column(String(10))
    difficulty: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(200), default="")
    #: Retired questions are never drawn again; attempts that used them keep them.
    is_retired: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The version new papers draw. A plain column, not a foreign key: versions point at their
    #: question, and a key back would make the two tables depend on each other.
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class QuestionVersion(Base):
    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version", name="uq_question_versions_question_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    stem: Mapped[str] = mapped_column(Text)
    #: Ordered ``[[key, text], ...]``; empty for fill-in-the-blank.
    options: Mapped[list] = mapped_column(JSON, default=list)
    #: Option keys, or for fill the accepted strings of its one blank. Never sent during an attempt.
    answer: Mapped[list] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
