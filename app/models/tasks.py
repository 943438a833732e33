"""The campaign, its stages, tasks (规定动作/自选动作) and officers' submissions (issue #6)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now

TASK_KINDS = ("read", "reflection", "event", "proof")
SUBMISSION_STATUSES = ("draft", "submitted", "accepted", "returned")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    stages: Mapped[list["CampaignStage"]] = relationship(back_populates="campaign",
                                                         order_by="CampaignStage.starts_on")


class CampaignStage(Base):
    """学习教育 (study) → 查纠整改 (rectify) → 总结提升 (summary), with local-calendar dates."""

    __tablename__ = "campaign_stages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code", name="uq_campaign_stages_campaign_code"),
        CheckConstraint("code IN ('study', 'rectify', 'summary')", name="code"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")

    campaign: Mapped[Campaign] = relationship(back_populates="stages")


class Task(Base):
    """A required task (规定动作, set by the campaign office) or an optional one (自选动作, set by a
    supervisor for their own subtree). ``target_unit_id`` NULL means the whole city."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('read', 'reflection', 'event', 'proof')", name="kind"),
        CheckConstraint("min_chars >= 0 AND min_chars <= 5000", name="min_chars"),
        Index("ix_tasks_stage_due", "stage_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("campaign_stages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    target_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    due_at: Mapped[datetime] = mapped_column()
    item_id: Mapped[int | None] = mapped_column(ForeignKey("study_items.id", ondelete="SET NULL"))
    min_chars: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: Withdrawn: hidden from officers and from the unit figures; submissions stay on record.
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    stage: Mapped[CampaignStage] = relationship()


class TaskSubmission(Base):
    """One per officer per task: a server-side draft, then submitted, then accepted or returned."""

    __tablename__ = "task_submissions"
    __table_args__ = (
        UniqueConstraint("task_id", "user_id", name="uq_task_submissions_task_user"),
        CheckConstraint("status IN ('draft', 'submitted', 'accepted', 'returned')", name="status"),
        Index("ix_task_submissions_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    text: Mapped[str] = mapped_column(Text, default="")
    #: Server-chosen file names under MEDIA_DIR/tasks (never the uploaded names).
    photos: Mapped[list] = mapped_column(JSON, default=list)
    review_comment: Mapped[str] = mapped_column(String(500), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    task: Mapped[Task] = relationship()
