"""谈心谈话 records (issue 17 point 4): a supervisor or inspector records a talk with an
officer of their subtree. The note is sealed like confidential form answers (app/forms_/crypto.py);
who may read it is app/forms_/access.py's rule."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utc_now

#: 谈心谈话, 提醒谈话, 诫勉谈话, 家访.
TALK_KINDS = ("heart", "reminder", "admonish", "home")
#: 思想状况, 工作压力, 家庭困难, 廉洁自律, 亲属从业, 八小时以外, 其他.
TALK_TOPICS = ("thought", "pressure", "family", "integrity", "relatives", "offduty", "other")


class Talk(Base):
    __tablename__ = "talks"
    __table_args__ = (
        CheckConstraint("kind IN ('heart', 'reminder', 'admonish', 'home')", name="kind"),
        Index("ix_talks_officer_talked_on", "officer_id", "talked_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: The local (Asia/Shanghai) day of the talk.
    talked_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    #: Comma-separated TALK_TOPICS codes.
    topics: Mapped[str] = mapped_column(String(120), default="")
    #: The note, a Fernet token under FORMS_KEYS (never plain text).
    note_token: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    @property
    def topic_codes(self) -> list[str]:
        return [t for t in self.topics.split(",") if t]
