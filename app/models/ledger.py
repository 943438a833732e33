"""The rectification ledger (整改台账) and supervision orders (督办令), issue 17 point 3.

A ledger item is one problem found in one unit, with its measures, the person responsible and a
deadline; it is closed (销号) only when a supervisor above the unit accepts the unit's evidence.
A supervision order goes from the campaign office to one or more units, each of which must
answer by the deadline; a unit that has not answered by then is escalated.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now

#: Where a problem came from: 自查, 组织查处, 督导反馈, 群众反映.
LEDGER_SOURCES = ("self", "org", "inspection", "public")
#: The six chronic problems (六大顽瘴痼疾) as the seeds list them, and 其他.
LEDGER_CATEGORIES = ("interference", "business", "lending", "cases", "sentence", "lawyer", "other")
#: open 整改中 → submitted 待验收 (销号 asked) → closed 已销号, or returned 已退回 (back to work).
LEDGER_STATUSES = ("open", "submitted", "closed", "returned")
EVIDENCE_KINDS = ("photo", "pdf")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class LedgerItem(Base):
    __tablename__ = "ledger_items"
    __table_args__ = (
        CheckConstraint(_in("source", LEDGER_SOURCES), name="source"),
        CheckConstraint(_in("category", LEDGER_CATEGORIES), name="category"),
        CheckConstraint(_in("status", LEDGER_STATUSES), name="status"),
        Index("ix_ledger_items_unit_status", "unit_id", "status"),
        Index("ix_ledger_items_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    #: 整改措施.
    measures: Mapped[str] = mapped_column(Text, default="")
    #: An officer or supervisor of ``unit_id`` when the item was recorded.
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: Last local (Asia/Shanghai) day for the rectification; overdue from the day after.
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    #: The unit's account of what was done (shown with the photos and documents).
    evidence_text: Mapped[str] = mapped_column(Text, default="")
    #: Why the supervisor above sent it back (退回), kept until the next submission.
    return_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column()
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    #: Local day of the last overdue reminder: at most one a day (the daily job's guard).
    last_reminded_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    evidence: Mapped[list["LedgerEvidence"]] = relationship(back_populates="item", order_by="LedgerEvidence.id",
                                                            cascade="all, delete-orphan")


class LedgerEvidence(Base):
    """A photo (re-encoded JPEG) or a PDF attached to an item; files under MEDIA_DIR/ledger."""

    __tablename__ = "ledger_evidence"
    __table_args__ = (CheckConstraint(_in("kind", EVIDENCE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("ledger_items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    #: Server-chosen file name (never the uploaded one).
    file_name: Mapped[str] = mapped_column(String(48))
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    item: Mapped[LedgerItem] = relationship(back_populates="evidence")


class SupervisionOrder(Base):
    """督办令 from the campaign office: each target unit answers by ``deadline`` (a local day)."""

    __tablename__ = "supervision_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    targets: Mapped[list["SupervisionTarget"]] = relationship(back_populates="order", order_by="SupervisionTarget.id",
                                                              cascade="all, delete-orphan")


class SupervisionTarget(Base):
    """One unit's part of an order: its response, or its escalation once the deadline passed."""

    __tablename__ = "supervision_targets"
    __table_args__ = (
        UniqueConstraint("order_id", "unit_id", name="uq_supervision_targets_order_unit"),
        CheckConstraint("attachment_kind IS NULL OR " + _in("attachment_kind", EVIDENCE_KINDS), name="attachment_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("supervision_orders.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    response_text: Mapped[str] = mapped_column(Text, default="")
    attachment: Mapped[str | None] = mapped_column(String(48))
    attachment_kind: Mapped[str | None] = mapped_column(String(8))
    responded_at: Mapped[datetime | None] = mapped_column()
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Set once, by the daily job, when the deadline passed without a response (notices sent).
    escalated_at: Mapped[datetime | None] = mapped_column()

    order: Mapped[SupervisionOrder] = relationship(back_populates="targets")
