"""Weekly snapshots of the unit figures, for weeks that have closed (issue #5).

The live aggregation (``app.reports.queries``) stays the definition. When a week has closed
(its exam's deadline and the overdue sweep are past), ``app.reports.snapshots`` stores that
aggregation's per-unit sums once; every later view of that week — dashboards' trends, past
weeks' tables, exports, the leaderboard — reads them instead of aggregating 10,028 officers
again. A test keeps the two equal, and ``flask reports snapshot --week W --refresh`` retakes
a week after a correction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utc_now


class ReportSnapshot(Base):
    """One row per snapshotted ISO week: when it was taken and the weekly study target used."""

    __tablename__ = "report_snapshots"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_seconds: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(default=utc_now)


class ReportSnapshotUnit(Base):
    """A unit's *direct* sums for the week (its own officers, not its subtree): additive
    counts and sums, so any subtree is the exact sum of its units' rows."""

    __tablename__ = "report_snapshot_units"

    week: Mapped[str] = mapped_column(ForeignKey("report_snapshots.week", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    officers: Mapped[int] = mapped_column(Integer)
    target_met: Mapped[int] = mapped_column(Integer)
    study_seconds: Mapped[int] = mapped_column(BigInteger)
    participants: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)
    passed: Mapped[int] = mapped_column(Integer)
    tasks_due: Mapped[int] = mapped_column(Integer)
    tasks_done: Mapped[int] = mapped_column(Integer)
