"""May this session write, and is this CSRF token valid: the one home of both decisions.

Two paths ask them (ARCHITECTURE rule 13). The full stack asks through its hooks: Flask-WTF's
``CSRFProtect.protect``, Flask-Login's session identifier and session protection (bound to the
functions here in app/auth/access.py), ``load_user`` and the access gate ``enforce_access``. The
express lane (app/express.py) asks the same functions with what it read from the WSGI environ
and one SQL row, so a check added here is a check on both paths.

Every function returns None when the request may go on, else a short reason: the full stack
turns it into its answer (400, 401, 403, a redirect), the lane into "hand this request to the
full stack" and a count by that reason (``/healthz``, ``/metrics``). Arguments are plain values;
a ``row`` or ``user`` is anything with the named attributes: the ORM objects, or the lane's row
of the session joined with its user.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache

from flask_wtf.csrf import same_origin
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from .services import LoginPolicy, session_is_live

#: Reasons a session identifies nobody now (``session_refusal``).
SESSION_REASONS = ("no_session", "session_ended", "other_user", "inactive")
#: Reasons a signed-in user may not call a view (``access_refusal``).
ACCESS_REASONS = ("not_signed_in", "password_change", "role", "mfa")


# --- may this session write ---------------------------------------------------------------

def session_refusal(row, user, claimed_user_id, now: datetime, config: Mapping) -> str | None:
    """Why the server-side session ``row`` (with its ``user``) does not sign anyone in at ``now``
    (naive UTC), or None: it exists, is live under the LoginPolicy read from ``config`` now
    (revoked, idle, absolute: A9–A11), belongs to the user id the cookie claims, and that
    account is active. ``row``: revoked_at, last_seen_at, created_at, user_id; ``user``: is_active."""
    if row is None:
        return "no_session"
    if not session_is_live(row, now, LoginPolicy.from_config(config)):
        return "session_ended"
    if str(row.user_id) != str(claimed_user_id):
        return "other_user"
    if user is None or not user.is_active:
        return "inactive"
    return None


def access_refusal(rule, user, mfa_ok: Callable[[], bool]) -> str | None:
    """Why ``user`` (None when nobody is signed in) may not call a view declaring ``rule`` (an
    ``access.Access``), or None: signed in, no pending password change unless the view allows
    it, a role the rule lists, and for an admin a second factor (``mfa_ok()``, asked only
    then) on every view but the few declared ``before_mfa`` (A20: the rule holds by default,
    so a new view cannot forget it). ``user``: role, must_change_password."""
    if rule.public:
        return None
    if user is None:
        return "not_signed_in"
    if user.must_change_password and not rule.during_password_change:
        return "password_change"
    if user.role not in rule.roles:
        return "role"
    if user.role == "admin" and not rule.before_mfa and not mfa_ok():
        return "mfa"
    return None


def write_refusal(rule, row, user, claimed_user_id, now: datetime, config: Mapping,
                  mfa_ok: Callable[[], bool]) -> str | None:
    """May this session write through this rule now: ``session_refusal`` then ``access_refusal``,
    in the order the full stack asks them (``load_user``, then ``enforce_access``)."""
    refusal = session_refusal(row, user, claimed_user_id, now, config)
    if refusal is not None:
        return refusal
    return access_refusal(rule, user, mfa_ok)


# --- Flask-Login's session protection -----------------------------------------------------

def session_identifier(address: str | None, user_agent: str | None) -> str:
    """The client fingerprint stored as ``_id`` at sign-in and compared on every request:
    Flask-Login 0.6.3's ``_create_identifier`` byte for byte. ``address``: the first entry of
    X-Forwarded-For when the header is present, else the client address the app sees."""
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    agent = user_agent.encode("utf-8") if user_agent is not None else None
    return hashlib.sha512(f"{address}|{agent}".encode("utf8")).hexdigest()


def session_protection(data: Mapping, identifier: str, mode: str | None) -> str:
    """What Flask-Login's session protection does with the session ``data`` from a client whose
    fingerprint is ``identifier`` (its ``_session_protection_failed``, 0.6.3):

    * ``"pass"``: protection off, an empty session, or the same client;
    * ``"signal"``: another client on a session already marked not fresh (basic mode, or a
      permanent session): the session_protected signal is sent, nothing changes;
    * ``"mark"``: the same, on a fresh session: it is marked not fresh (a new cookie);
    * ``"end"``: strong mode on a session that is not permanent: the sign-in is removed."""
    if mode not in ("basic", "strong") or not data or identifier == data.get("_id"):
        return "pass"
    if mode == "basic" or data.get("_permanent", False):
        return "signal" if data.get("_fresh") is False else "mark"
    return "end"


# --- is this CSRF token valid for this session --------------------------------------------

@lru_cache(maxsize=8)
def _csrf_serializer(key) -> URLSafeTimedSerializer:
    """Built once per key (the key itself is read from the config on every call)."""
    return URLSafeTimedSerializer(key, salt="wtf-csrf-token")


def csrf_refusal(token: str | None, stored: str | None, config: Mapping, secret_key, *, secure: bool,
                 referrer: str | None, host: str) -> str | None:
    """Why the signed CSRF ``token`` a write sent is not valid for the session holding
    ``stored`` (its ``WTF_CSRF_FIELD_NAME`` value), or None. Flask-WTF 1.3.0's rule and
    messages (``validate_csrf`` and ``CSRFProtect.protect``): signed with WTF_CSRF_SECRET_KEY
    (else ``secret_key``) and salt ``wtf-csrf-token``, younger than WTF_CSRF_TIME_LIMIT, equal to
    the session's value in constant time; over HTTPS with WTF_CSRF_SSL_STRICT the Referer must
    be this host. Settings are read from ``config`` on every call, as Flask-WTF reads them."""
    if not token:
        return "The CSRF token is missing."
    if stored is None:
        return "The CSRF session token is missing."
    key = config.get("WTF_CSRF_SECRET_KEY", secret_key)
    if key is None:
        raise RuntimeError("A secret key is required to use CSRF.")
    try:
        value = _csrf_serializer(key).loads(token, max_age=config.get("WTF_CSRF_TIME_LIMIT", 3600))
    except SignatureExpired:
        return "The CSRF token has expired."
    except BadData:
        return "The CSRF token is invalid."
    if not hmac.compare_digest(stored, value):
        return "The CSRF tokens do not match."
    if secure and config.get("WTF_CSRF_SSL_STRICT", True):
        if not referrer:
            return "The referrer header is missing."
        if not same_origin(referrer, f"https://{host}/"):
            return "The referrer does not match the host."
    return None
