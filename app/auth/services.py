"""Login, sessions and credentials. Every function takes ``now`` (naive UTC) and flushes;
the request or command commits."""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, case, delete, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import audit
from ..models import AuthSession, LoginThrottle, User
from .passwords import hash_method_of, hash_password, random_initial_password, verify_password


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Checked when the username is unknown, so both paths cost one real hash."""
    return hash_password(secrets.token_hex(16), method)


@dataclass(frozen=True)
class ThrottleRule:
    """``failures`` counted within ``window`` (from the first one) pause the key for ``pause``
    from the failure that reached the count, and again from each further one."""

    failures: int
    window: timedelta
    pause: timedelta


@dataclass(frozen=True)
class LoginPolicy:
    #: Wrong passwords for one account from one client address (A35).
    pair: ThrottleRule = ThrottleRule(5, timedelta(minutes=15), timedelta(minutes=15))
    #: Wrong passwords for one account from all addresses: each one past the count delays the
    #: account for ``pause``; about 10 + 60 a window, under ASVS V2.2.1's 100 in any hour.
    account: ThrottleRule = ThrottleRule(10, timedelta(hours=1), timedelta(minutes=1))
    #: Refused sign-ins from one address, any account: past the count the address is "flooding".
    address: ThrottleRule = ThrottleRule(100, timedelta(minutes=15), timedelta(minutes=15))
    session_idle: timedelta = timedelta(minutes=30)
    session_absolute: timedelta = timedelta(hours=12)
    hash_method: str = "pbkdf2:sha256:100000"

    @classmethod
    def from_config(cls, config) -> "LoginPolicy":
        return cls(
            pair=ThrottleRule(config["LOGIN_PAIR_FAILURES"], config["LOGIN_PAIR_WINDOW"], config["LOGIN_PAIR_WINDOW"]),
            account=ThrottleRule(config["LOGIN_ACCOUNT_FAILURES"], config["LOGIN_ACCOUNT_WINDOW"],
                                 config["LOGIN_ACCOUNT_DELAY"]),
            address=ThrottleRule(config["LOGIN_ADDRESS_FAILURES"], config["LOGIN_ADDRESS_WINDOW"],
                                 config["LOGIN_ADDRESS_WINDOW"]),
            session_idle=config["SESSION_IDLE_TIMEOUT"],
            session_absolute=config["SESSION_ABSOLUTE_TIMEOUT"],
            hash_method=config["PASSWORD_HASH_METHOD"],
        )


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    #: "ok", "bad_credentials", "throttled", "disabled", "expired"
    outcome: str
    #: Seconds until a "throttled" sign-in may be tried again (the Retry-After header).
    retry_after: int = 0


def normalise_username(username: str) -> str:
    """The one reading of a typed username: what ``find_user`` looks up and what throttles count."""
    return (username or "").strip()[:64]


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def client_key(address: str | None) -> str:
    """The throttling key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's
    network, whose other 2^64 addresses would otherwise be fresh budgets), IPv4-mapped IPv6 as
    the IPv4 address."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return (address or "-")[:64]
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keys(username: str, address: str | None) -> dict[str, str]:
    name, where = normalise_username(username), client_key(address)
    return {"pair": f"{name}|{where}", "account": name, "address": where}


def _seconds(delta: timedelta) -> int:
    return max(1, int(-(-delta.total_seconds() // 1)))


def throttle_wait(session: Session, username: str, address: str | None, now: datetime,
                  policy: LoginPolicy) -> int:
    """Seconds before this username may be tried from this address; 0 when it may now (A35).

    The rule, in one place (``LoginPolicy`` holds the numbers, config.py ``LOGIN_*``):

    * **pair** (username, address): ``pair.failures`` wrong passwords within ``pair.window``
      pause that username *from that address* for ``pair.window``. Only the sender is slowed:
      the officer's own device, at another address, is not affected.
    * **account** (username, all addresses): past ``account.failures`` wrong passwords within
      ``account.window`` each further one delays the username for ``account.pause`` (a minute),
      never longer: the officer waits at most that long after the last failure, and guesses are
      capped at about 70 an hour however many addresses send them.
    * **address** (all usernames): every refused sign-in (wrong password or throttled) counts;
      past ``address.failures`` within ``address.window`` the address is *flooding* until
      ``address.pause`` after its last refusal. While it floods, a username that already failed
      from it in the current pair window is paused there (its budget drops from 5 to 1). A
      username without such a failure is still checked: a whole station behind one NAT address
      keeps signing in with correct passwords, whatever one account or one attacker there does.
      The flood cannot refuse a correct password it has not seen fail.

    Throttled attempts are answered without a hash and without looking up the user, and counted
    only against the address. Keys are the *typed* username, so an unknown name and a real
    account pass through exactly the same states (same status, message, Retry-After, timing).
    """
    keys = _keys(username, address)
    columns = (LoginThrottle.kind, LoginThrottle.failures, LoginThrottle.window_start, LoginThrottle.blocked_until)
    rows = {row.kind: row for row in session.execute(select(*columns).where(or_(
        *(and_(LoginThrottle.kind == kind, LoginThrottle.key == key) for kind, key in keys.items()))))}
    pair, account, flood = rows.get("pair"), rows.get("account"), rows.get("address")
    until = [row.blocked_until for row in (pair, account) if row and row.blocked_until and row.blocked_until > now]
    if (flood and flood.blocked_until and flood.blocked_until > now and pair and pair.failures > 0
            and pair.window_start + policy.pair.window > now):
        until.append(min(flood.blocked_until, pair.window_start + policy.pair.window))
    return _seconds(max(until) - now) if until else 0


def _insert_for(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _count(session: Session, kind: str, key: str, rule: ThrottleRule, now: datetime) -> None:
    """One atomic ``INSERT ... ON CONFLICT DO UPDATE SET failures = failures + 1``: whether the
    window is still open is decided from the row as it is when its lock is granted, so
    concurrent workers never lose a failure (L12)."""
    still_open = LoginThrottle.window_start > now - rule.window
    counted = case((still_open, LoginThrottle.failures + 1), else_=1)
    stmt = _insert_for(session)(LoginThrottle).values(
        kind=kind, key=key, failures=1, window_start=now, blocked_until=now + rule.pause if rule.failures <= 1 else None)
    session.execute(stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={
        "failures": counted,
        "window_start": case((still_open, LoginThrottle.window_start), else_=now),
        "blocked_until": case((counted >= rule.failures, now + rule.pause), else_=LoginThrottle.blocked_until),
    }))


def _purge(session: Session, now: datetime, policy: LoginPolicy, batch: int = 200) -> None:
    """Forget up to ``batch`` keys whose window and pause are over, so typed usernames cannot
    pile up. Rows another worker holds are skipped (PostgreSQL), never waited for."""
    longest = max(policy.pair.window, policy.account.window, policy.address.window)
    stale = (select(LoginThrottle.kind, LoginThrottle.key)
             .where(LoginThrottle.window_start < now - longest,
                    or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now))
             .limit(batch).with_for_update(skip_locked=True))
    session.execute(delete(LoginThrottle).where(tuple_(LoginThrottle.kind, LoginThrottle.key).in_(stale))
                    .execution_options(synchronize_session=False))


def record_refusal(session: Session, username: str, address: str | None, now: datetime, policy: LoginPolicy,
                   wrong_password: bool) -> None:
    """Count a refused sign-in: against the address always; a wrong password (checked, not
    throttled) also against the pair and the account, in that order on every path."""
    keys = _keys(username, address)
    if wrong_password:
        _purge(session, now, policy)
        _count(session, "pair", keys["pair"], policy.pair, now)
        _count(session, "account", keys["account"], policy.account, now)
    _count(session, "address", keys["address"], policy.address, now)
    session.flush()


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
                 verified: bool | None = None, rehash: tuple[str, str] | None = None,
                 address: str | None = None) -> LoginResult:
    """Check a sign-in from client ``address`` under the throttling rules of ``throttle_wait``
    (QUALITY A3, A35, L12).

    A throttled attempt answers "throttled" even to the right password, costs no hash and does
    not look the user up. Otherwise the password costs one real hash, for an unknown username
    too. ``verified`` is the result of ``check_password_outside_transaction`` when the caller
    already did the hash check; otherwise it is done here.
    """
    wait = throttle_wait(session, username, address, now, policy)
    if wait:
        record_refusal(session, username, address, now, policy, wrong_password=False)
        return LoginResult(None, "throttled", wait)

    user = find_user(session, username) if username else None
    if verified is None:
        verified = verify_password(user.password_hash if user else _dummy_hash(policy.hash_method), password)
    if user is None or not verified:
        record_refusal(session, username, address, now, policy, wrong_password=True)
        if user is None:
            audit.record(session, "auth.login_failed", actor_name=username[:64], detail="unknown user")
        else:
            audit.record(session, "auth.login_failed", actor=user, target=user, detail="bad password")
        session.flush()
        return LoginResult(user, "bad_credentials")

    if not user.is_active:
        audit.record(session, "auth.login_failed", actor=user, target=user, detail="account disabled")
        return LoginResult(user, "disabled")
    if user.password_expires_at and user.password_expires_at <= now and user.must_change_password:
        audit.record(session, "auth.login_failed", actor=user, target=user, detail="initial password expired")
        return LoginResult(user, "expired")

    # The right password from this address ends this pair's count; the account-wide count runs
    # out with its window (a success must not hand an attacker elsewhere a fresh budget).
    session.execute(delete(LoginThrottle).where(LoginThrottle.kind == "pair",
                                                LoginThrottle.key == _keys(username, address)["pair"])
                    .execution_options(synchronize_session=False))
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
    revoke_all_sessions(session, user.id, now)
    session.flush()
    return password
