"""每日一练 (issue #14): the day's practice set and each officer's spaced-repetition cards.

Practice is the officer's own: nothing here feeds scores, unit figures or rankings.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utc_now


class PracticeSet(Base):
    """The questions the server drew for one officer on one local day (Asia/Shanghai).

    Stored when the first answer of the day arrives; until then the set is recomputed on each
    view from the same inputs, so a GET never writes (A19). Only questions of the stored set
    are graded, each once (E28)."""

    __tablename__ = "practice_sets"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_practice_sets_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: When the last question of the set was answered; a day counts for the streak then.
    completed_at: Mapped[datetime | None] = mapped_column()


class PracticeItem(Base):
    __tablename__ = "practice_items"
    __table_args__ = (UniqueConstraint("set_id", "question_version_id", name="uq_practice_items_set_version"),)

    set_id: Mapped[int] = mapped_column(ForeignKey("practice_sets.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    #: The version shown; its id is the question id of the practice API.
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id", ondelete="CASCADE"))
    #: The officer's answer (bank option keys, or the one fill string); NULL until answered.
    answer: Mapped[list | None] = mapped_column(JSON)
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None] = mapped_column()


class PracticeCard(Base):
    """One officer's memory of one question, scheduled by FSRS (the ``fsrs`` package).

    A wrong answer brings the question back within a day or two, a right one later; a question
    is *mastered* once its stability reaches MASTERED_STABILITY_DAYS (app/exams/practice.py)."""

    __tablename__ = "practice_cards"
    __table_args__ = (Index("ix_practice_cards_user_due", "user_id", "due"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    #: When FSRS wants the question asked again (naive UTC).
    due: Mapped[datetime] = mapped_column()
    #: FSRS stability in days: how long the memory is expected to hold at 90 % recall.
    stability: Mapped[float] = mapped_column(Float)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    last_review: Mapped[datetime] = mapped_column()
    #: ``fsrs.Card.to_dict()``, so the scheduler continues exactly where it stopped.
    card: Mapped[dict] = mapped_column(JSON)
