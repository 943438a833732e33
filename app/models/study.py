"""Study content and credited learning time (issue #3; QUALITY S1–S12)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, SmallInteger, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now
from .modules import check_sql
from .units import Unit

ITEM_KINDS = ("article", "video", "document")
STAGES = ("study", "rectify", "summary")


class StudyItem(Base):
    __tablename__ = "study_items"
    __table_args__ = (
        CheckConstraint(check_sql("module"), name="module"),
        CheckConstraint("kind IN ('article', 'video', 'document')", name="kind"),
        CheckConstraint("stage IN ('study', 'rectify', 'summary')", name="stage"),
        CheckConstraint("credited_minutes > 0 AND credited_minutes <= 600", name="credited_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable id of shipped content (demo YAML); generated for items made in the admin pages.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    module: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="article")
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(String(200), default="")
    #: Rich text, cleaned with nh3 when stored (QUALITY decision 9); rendered with |safe.
    #: Deferred: the home page and the study list load every visible item and show none of the
    #: bodies (about 45 KB a page for the demo's 64 items, issue #7); the item page undefers it.
    body_html: Mapped[str] = mapped_column(Text, default="", deferred=True)
    #: Server-chosen file name under instance/media/ for uploaded videos and PDFs.
    media_file: Mapped[str | None] = mapped_column(String(80))
    media_type: Mapped[str | None] = mapped_column(String(40))
    #: A video on another intranet server, used instead of an upload.
    media_url: Mapped[str | None] = mapped_column(String(255))
    credited_minutes: Mapped[int] = mapped_column(Integer, default=5)
    #: 规定 (required) when true, 自选 (optional) otherwise.
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    stage: Mapped[str] = mapped_column(String(10), default="study")
    #: Only officers in this unit's subtree see the item; NULL means the whole city.
    target_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    publish_at: Mapped[datetime | None] = mapped_column()
    unpublish_at: Mapped[datetime | None] = mapped_column()
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    target_unit: Mapped[Unit | None] = relationship()


class StudyPolicy(Base):
    """Crediting rules, versioned: a change adds a row, and every beat records the row it was
    credited under, so past figures stay explainable."""

    __tablename__ = "study_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[datetime] = mapped_column(default=utc_now)
    heartbeat_seconds: Mapped[int] = mapped_column(Integer, default=30)
    #: Added to one interval to tolerate network jitter; a longer gap earns nothing.
    slack_seconds: Mapped[int] = mapped_column(Integer, default=10)
    #: Beats closer together than this (from any tab) are answered 429 and earn nothing.
    min_gap_seconds: Mapped[int] = mapped_column(Integer, default=5)
    #: The page stops beating after this long without touch, scroll or key input.
    idle_seconds: Mapped[int] = mapped_column(Integer, default=300)
    #: An item earns at most this multiple of its credited minutes.
    item_cap_multiple: Mapped[float] = mapped_column(Float, default=1.0)
    daily_cap_seconds: Mapped[int] = mapped_column(Integer, default=4 * 3600)
    daily_target_seconds: Mapped[int] = mapped_column(Integer, default=2 * 3600)
    weekly_target_seconds: Mapped[int] = mapped_column(Integer, default=10 * 3600)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class StudyCursor(Base):
    """One row per officer: the server time of their last accepted beat. Crediting advances it
    with a compare-and-set, so two tabs or two devices never earn the same second twice (S1, S2)."""

    __tablename__ = "study_cursors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_beat_at: Mapped[datetime] = mapped_column()


class StudyBeat(Base):
    """Every acknowledged heartbeat (raw log); daily totals can be recomputed from it."""

    __tablename__ = "study_beats"
    __table_args__ = (Index("ix_study_beats_user_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("study_items.id", ondelete="CASCADE"), index=True)
    #: Server receipt time (UTC); the only clock that counts.
    received_at: Mapped[datetime] = mapped_column()
    #: Asia/Shanghai day the credit went to.
    day: Mapped[date] = mapped_column(Date)
    credited_seconds: Mapped[int] = mapped_column(Integer, default=0)
    policy_id: Mapped[int] = mapped_column(ForeignKey("study_policies.id", ondelete="RESTRICT"))
    #: What the page reported about the reader, for the automation flags (never for credit).
    inputs: Mapped[int] = mapped_column(SmallInteger, default=0)
    scroll_pct: Mapped[int | None] = mapped_column(SmallInteger)
    media_seconds: Mapped[int | None] = mapped_column(Integer)


class StudyDay(Base):
    """Per-officer-per-day credited seconds: what weekly unit figures aggregate."""

    __tablename__ = "study_days"
    #: Covering index for weekly figures: a week's per-officer sums read only the index.
    __table_args__ = (Index("ix_study_days_day_user_seconds", "day", "user_id", "seconds"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer, default=0)


class StudyProgress(Base):
    """Per-officer-per-item credited seconds, done mark and where the officer stopped."""

    __tablename__ = "study_progress"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("study_items.id", ondelete="CASCADE"), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Scroll percentage (articles) or playback second (videos) at the last beat.
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column()


class StudyFlag(Base):
    """Study that looks automated, for a supervisor to look at; never acted on automatically."""

    __tablename__ = "study_flags"
    __table_args__ = (
        UniqueConstraint("user_id", "week", "reason", name="uq_study_flags_user_week_reason"),
        CheckConstraint("reason IN ('night', 'uniform', 'no_interaction')", name="reason"),
        CheckConstraint("status IN ('open', 'dismissed', 'voided')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
