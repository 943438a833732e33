"""People, their login sessions and their credentials."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utc_now
from .units import Unit

#: ``inspector``: 纪检督察 (discipline inspection), scoped to their unit's subtree like a supervisor;
#: the only staff role that reads confidential form submissions (app/forms_/access.py).
ROLES = ("officer", "supervisor", "leader", "admin", "inspector")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('officer', 'supervisor', 'leader', 'admin', 'inspector')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: 警号. Imported accounts log in with it; demo accounts have their own short usernames.
    badge_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="officer")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    #: Only used to refuse passwords made from it (QUALITY A2); never shown in lists.
    birth_date: Mapped[datetime | None] = mapped_column(Date)
    #: Demo accounts are exempt from forced changes; production refuses to start with any active.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    password_hash: Mapped[str] = mapped_column(String(255))
    #: Set after import or reset: every page sends the user to change the password (A4).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Initial passwords stop working at this UTC time.
    password_expires_at: Mapped[datetime | None] = mapped_column()
    password_changed_at: Mapped[datetime | None] = mapped_column()

    #: Unused since revision 0009: sign-in throttling moved to ``login_throttles`` (A35), keyed
    #: by the typed username so unknown names behave like real ones. Kept, not dropped.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failure_window_start: Mapped[datetime | None] = mapped_column()
    failures_in_window: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()

    #: Base32 TOTP secret of an admin who enrolled a second factor (A20).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column()

    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    unit: Mapped[Unit] = relationship(lazy="joined")

    # Flask-Login protocol -------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class AuthSession(Base):
    """A server-side login session: the cookie only names it, so logout, a password change or
    disabling the account end it on the server (QUALITY decision 7)."""

    __tablename__ = "auth_sessions"

    #: Random 256-bit token, also stored in the signed session cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column()
    #: True once an admin passed the TOTP check in this session.
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed sign-ins counted in the database, so every worker and host agrees (A3, A35, L12).

    One row per key: ``pair`` = normalised username + client address, ``account`` = normalised
    username, ``address`` = client address. The username is the one *typed*, whether or not
    such an account exists, so an unknown name is throttled exactly like a real one. The rules
    that read and write these rows live in ``app.auth.services`` (``throttle_wait``).
    """

    __tablename__ = "login_throttles"
    __table_args__ = (
        CheckConstraint("kind IN ('pair', 'account', 'address')", name="kind"),
        CheckConstraint("failures >= 0", name="failures"),
        Index("ix_login_throttles_window_start", "window_start"),
    )

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: ``username`` (normalised, at most 64 characters), ``address``, or ``username|address``.
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    #: Failures counted since ``window_start`` (UTC); the next failure after the kind's window
    #: has passed starts a new window at 1.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column()
    #: Until this UTC time the key is paused (pair, account) or counts as flooding (address).
    blocked_until: Mapped[datetime | None] = mapped_column()
