"""The unit tree: city → system → branch → station."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now

UNIT_LEVELS = ("city", "system", "branch", "station")


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'system', 'branch', 'station')", name="level"),
        CheckConstraint("depth >= 0 AND depth <= 3", name="depth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    #: 单位编码: the stable code used by Excel imports and other systems.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    #: Materialised path of ids, e.g. "/1/4/17/": a subtree is ``path LIKE '/1/4/%'``. The tree
    #: has a few hundred rows, so the prefix scan is cheap on every backend.
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    parent: Mapped["Unit | None"] = relationship(remote_side="Unit.id", back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.sort_order, Unit.id")

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"
