"""Login, sessions and credentials. Every function takes ``now`` (naive UTC) and flushes;
the request or command commits."""
from __future__ import annotations

import secrets
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..models import AuthSession, User
from .passwords import hash_method_of, hash_password, random_initial_password, verify_password



@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Checked when the username is unknown, so both paths cost one real hash."""
    return hash_password(secrets.token_hex(16), method)


@dataclass(frozen=True)
class LoginPolicy:
    failures_before_lock: int = 5
    lock_minutes: int = 15
    max_failures_per_hour: int = 100
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    hash_method: str = "pbkdf2:sha256:100000"

    @classmethod
    def from_config(cls, config) -> "LoginPolicy":
        return cls(
            failures_before_lock=config["LOGIN_FAILURES_BEFORE_LOCK"],
            lock_minutes=config["LOGIN_LOCK_MINUTES"],
            max_failures_per_hour=config["LOGIN_MAX_FAILURES_PER_HOUR"],
            session_idle=config["SESSION_IDLE_TIMEOUT"],
            session_absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
            hash_method=config["PASSWORD_HASH_METHOD"],
        )


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    #: "ok", "bad_credentials", "locked", "disabled", "expired"
    outcome: str
    retry_after: int = 0


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip()))


@dataclass(frozen=True)
class PasswordCheck:
    verified: bool
    #: ``(stored hash, replacement)`` when the password was right but stored with other
    #: parameters than PASSWORD_HASH_METHOD: the login swaps it in, so raising the cost in
    #: the configuration upgrades every account at its next sign-in (A5).
    rehash: tuple[str, str] | None = None


def check_password_outside_transaction(read_session: Session, username: str, password: str,
                                      policy: LoginPolicy) -> PasswordCheck:
    """The slow hash check (and any re-hash), done in a read session before any write lock is
    taken: on SQLite a write transaction would make every other writer wait for the hash."""
    user = find_user(read_session, username) if username else None
    if user is None:
        verify_password(_dummy_hash(policy.hash_method), password)
        return PasswordCheck(False)
    if not verify_password(user.password_hash, password):
        return PasswordCheck(False)
    if hash_method_of(user.password_hash) != policy.hash_method:
        return PasswordCheck(True, (user.password_hash, hash_password(password, policy.hash_method)))
    return PasswordCheck(True)


def authenticate(session: Session, username: str, password: str, now: datetime, policy: LoginPolicy,
                 verified: bool | None = None, rehash: tuple[str, str] | None = None) -> LoginResult:
    """Check a login and keep the per-account failure counters (QUALITY A3, L12).

    The counters are advanced with one ``UPDATE ... SET n = n + 1`` so concurrent workers never
    lose a failure. A locked account answers "locked" even to the right password. ``verified``
    is the result of ``check_password_outside_transaction`` when the caller already did the
    hash check; otherwise it is done here.
    """
    user = find_user(session, username) if username else None
    if user is None:
        if verified is None:
            verify_password(_dummy_hash(policy.hash_method), password)
        audit.record(session, "auth.login_failed", actor_name=username[:64], detail="unknown user")
        return LoginResult(None, "bad_credentials")

    window_open = user.failure_window_start is not None and now - user.failure_window_start < timedelta(hours=1)
    if user.locked_until and user.locked_until > now:
        return LoginResult(user, "locked", int((user.locked_until - now).total_seconds()) + 1)
    if window_open and user.failures_in_window >= policy.max_failures_per_hour:
        retry = user.failure_window_start + timedelta(hours=1) - now
        return LoginResult(user, "locked", int(retry.total_seconds()) + 1)

    if verified is None:
        verified = verify_password(user.password_hash, password)
    if not verified:
        # Whether the hour's window is still open is decided inside the UPDATE, from the row as
        # it is when the row lock is granted: two first failures at once must count as two (L12).
        still_open = and_(User.failure_window_start.is_not(None), User.failure_window_start > now - timedelta(hours=1))
        values = {
            "failed_logins": User.failed_logins + 1,
            "failures_in_window": case((still_open, User.failures_in_window + 1), else_=1),
            "failure_window_start": case((still_open, User.failure_window_start), else_=now),
        }
        session.execute(update(User).where(User.id == user.id).values(**values))
        session.refresh(user)
        if user.failed_logins >= policy.failures_before_lock:
            user.locked_until = now + timedelta(minutes=policy.lock_minutes)
            user.failed_logins = 0
        audit.record(session, "auth.login_failed", actor=user, target=user, detail="bad password")
        session.flush()
        return LoginResult(user, "bad_credentials")

    if not user.is_active:
        audit.record(session, "auth.login_failed", actor=user, target=user, detail="account disabled")
        return LoginResult(user, "disabled")
    if user.password_expires_at and user.password_expires_at <= now and user.must_change_password:
        audit.record(session, "auth.login_failed", actor=user, target=user, detail="initial password expired")
        return LoginResult(user, "expired")

    user.failed_logins = 0
    user.locked_until = None
    if rehash is not None and user.password_hash == rehash[0]:  # unless it changed meanwhile
        user.password_hash = rehash[1]
    audit.record(session, "auth.login", actor=user, target=user)
    session.flush()
    return LoginResult(user, "ok")


def start_session(session: Session, user: User, now: datetime, ip: str | None, user_agent: str | None) -> AuthSession:
    row = AuthSession(id=secrets.token_urlsafe(32), user_id=user.id, created_at=now, last_seen_at=now,
                      ip=ip, user_agent=(user_agent or "")[:200])
    session.add(row)
    session.flush()
    return row


def session_is_live(row: AuthSession | None, now: datetime, policy: LoginPolicy) -> bool:
    """Valid = not revoked, seen within the idle timeout, younger than the absolute one (A10)."""
    return (
        row is not None
        and row.revoked_at is None
        and now - row.last_seen_at <= policy.session_idle
        and now - row.created_at <= policy.session_absolute
    )


def revoke_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(AuthSession).where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None)).values(revoked_at=now)
    )


def revoke_all_sessions(session: Session, user_id: int, now: datetime, keep: str | None = None) -> None:
    """End every session of a user, except ``keep`` (the client that asked, A11)."""
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(AuthSession.id != keep)
    session.execute(stmt.values(revoked_at=now))


def set_password(session: Session, user: User, new_password: str, now: datetime, hash_method: str,
                 keep_session: str | None = None) -> None:
    """Store a password the user chose; ends their other sessions (A11)."""
    user.password_hash = hash_password(new_password, hash_method)
    user.must_change_password = False
    user.password_expires_at = None
    user.password_changed_at = now
    revoke_all_sessions(session, user.id, now, keep=keep_session)
    audit.record(session, "auth.password_changed", actor=user, target=user)
    session.flush()


def issue_initial_password(session: Session, user: User, now: datetime, hash_method: str, valid_days: int) -> str:
    """A random password the user must change, expiring after ``valid_days`` (A4).

    Returns the clear text once so an admin can hand it over; it is never stored or logged.
    """
    password = random_initial_password()
    user.password_hash = hash_password(password, hash_method)
    user.must_change_password = True
    user.password_expires_at = now + timedelta(days=valid_days)
    user.failed_logins = 0
    user.locked_until = None
    revoke_all_sessions(session, user.id, now)
    session.flush()
    return password
