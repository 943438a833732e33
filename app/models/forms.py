"""Forms the campaign office designs and people fill (issue 17: 个人有关事项报告, 自查自纠报告).

A form's questions live in immutable versions: the builder edits ``Form.draft_definition`` and
publishing copies it into a new ``FormVersion``; a submission keeps the version it was started
on, so a later version never changes what someone submitted. Answers and attached files are
stored only as Fernet tokens (app/forms_/crypto.py); who may read them is decided in one place,
app/forms_/access.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now

#: ``survey`` (匿名测评): no individual answer is readable by anyone but its owner; results only
#: as aggregates of at least MIN_ANSWERS per group (app/forms_/survey.py).
CONFIDENTIALITY = ("open", "confidential", "survey")
FORM_SUBMISSION_STATUSES = ("draft", "submitted")


class Form(Base):
    __tablename__ = "forms"
    __table_args__ = (
        CheckConstraint("confidentiality IN ('open', 'confidential', 'survey')", name="confidentiality"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_stages.id", ondelete="SET NULL"))
    #: ``confidential``: answers readable only by the person and 纪检督察 of their subtree.
    confidentiality: Mapped[str] = mapped_column(String(12), default="confidential")
    #: NULL = the whole city.
    target_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    #: Roles asked to fill the form, e.g. ``["officer"]``.
    target_roles: Mapped[list] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime] = mapped_column()
    #: The builder's working copy; ``{"fields": [...]}`` as app/forms_/definition.py validates.
    draft_definition: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    versions: Mapped[list["FormVersion"]] = relationship(back_populates="form", order_by="FormVersion.number")

    @property
    def confidential(self) -> bool:
        return self.confidentiality == "confidential"

    @property
    def survey(self) -> bool:
        return self.confidentiality == "survey"


class FormVersion(Base):
    """A published definition. Never updated: editing a published form publishes a new one."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "number", name="uq_form_versions_form_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(default=utc_now)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    form: Mapped[Form] = relationship(back_populates="versions")


class FormSubmission(Base):
    """One per person per form: a draft saved as they type, then submitted once (read-only
    until a reviewer reopens it)."""

    __tablename__ = "form_submissions"
    __table_args__ = (
        UniqueConstraint("form_id", "user_id", name="uq_form_submissions_form_user"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
        Index("ix_form_submissions_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    #: The answers as JSON, encrypted (a Fernet token); never stored in plain text.
    answers_token: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column()
    reopened_at: Mapped[datetime | None] = mapped_column()
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Legacy: the reopen reason in plain text, as written before revision 0016; new reasons go
    #: to ``reopen_reason_token`` and leave this empty (``flask forms rotate-key`` seals old ones).
    reopen_reason: Mapped[str] = mapped_column(String(500), default="")
    #: The reviewer's reason for the last reopen, sealed like the answers (it may say as much).
    reopen_reason_token: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    form: Mapped[Form] = relationship()
    version: Mapped[FormVersion] = relationship()
    files: Mapped[list["FormFile"]] = relationship(back_populates="submission", order_by="FormFile.id",
                                                  cascade="all, delete-orphan")


class FormFile(Base):
    """A photo or PDF attached to a submission's file field, encrypted like the answers."""

    __tablename__ = "form_files"
    __table_args__ = (CheckConstraint("kind IN ('jpeg', 'png', 'pdf')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("form_submissions.id", ondelete="CASCADE"), index=True)
    field_key: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    #: The uploaded file name, encrypted (it can say as much as the file).
    name_token: Mapped[str] = mapped_column(Text, default="")
    #: The file's bytes as a Fernet token.
    data_token: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    submission: Mapped[FormSubmission] = relationship(back_populates="files")
