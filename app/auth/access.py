"""Access policy: every view declares who may call it, and one ``before_request`` enforces it.

Deny by default (QUALITY A14, A15): a view without a declared policy answers 403, and the
route-map test fails for it, so no route ships unreviewed. The leader is read-only because no
write view lists the leader role.
"""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Callable

from flask import current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login.config import SESSION_KEYS
from flask_login.signals import session_protected
from sqlalchemy import bindparam, select

from .. import audit, clock
from ..db import READ_METHODS, db
from ..extensions import csrf, login_manager
from ..models import AuthSession, User
from . import decisions

ALL_ROLES = frozenset({"officer", "supervisor", "leader", "admin", "inspector"})
STAFF_ROLES = frozenset({"supervisor", "leader", "admin"})


@dataclass(frozen=True)
class Access:
    roles: frozenset = field(default_factory=frozenset)
    public: bool = False
    #: Reachable by an admin before the second factor (A20): the TOTP page itself, logout, the
    #: password change and the admin's own account. Every other view an admin may call needs
    #: TOTP in this session or an allowlisted network, whatever else the rule says.
    before_mfa: bool = False
    #: Reachable while a forced password change is pending (the change page, logout).
    during_password_change: bool = False


def access(*roles: str, public: bool = False, mfa: bool = True, before_mfa: bool = False,
           during_password_change: bool = False) -> Callable:
    """Declare who may call a view. An admin always needs the second factor (A20) unless the
    view is one of the few declared ``before_mfa``; ``mfa`` is accepted for declarations written
    when the second factor was asked view by view and changes nothing (it cannot be turned off)."""
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    if not mfa:
        raise ValueError("the admin second factor cannot be switched off per view; use before_mfa")

    def decorate(view):
        view.access = Access(frozenset(roles), public, before_mfa, during_password_change)
        return view

    return decorate


public = access(public=True)
signed_in = access(*ALL_ROLES)
#: One's own account: reachable by an admin who has not passed the second factor yet.
own_account = access(*ALL_ROLES, before_mfa=True)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def mfa_waived(ip: str | None) -> bool:
    networks = current_app.config.get("ADMIN_MFA_WAIVER_NETWORKS") or []
    if not ip or not networks:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(net, strict=False) for net in networks)


def _audit_denied(reason: str) -> None:
    kwargs = dict(target_type="endpoint", target_id=request.endpoint, detail=f"{request.method} {reason}")
    if request.method in READ_METHODS:
        audit.record_now("access.denied", **kwargs)
    else:
        # The request already holds the write lock on SQLite: record inside its own session.
        audit.record(db.session, "access.denied", **kwargs)
        db.session.commit()


def forbidden():
    _audit_denied("role")
    if is_api_request():
        return api_error(403, "forbidden", _("您没有权限执行此操作。"))
    from flask import abort

    abort(403)


def enforce_access():
    """``before_request``: the one place that decides whether a view may run."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    rule: Access | None = getattr(view, "access", None)
    if rule is None:
        current_app.logger.error("route %s has no access policy; refusing", request.endpoint)
        return forbidden()
    if rule.public:
        return None  # decided before anyone is loaded: public pages cost no session lookup
    user = current_user._get_current_object() if current_user.is_authenticated else None
    refusal = decisions.access_refusal(rule, user, admin_mfa_ok)
    if refusal is None:
        return None
    if refusal == "not_signed_in":
        return login_manager.unauthorized()
    if refusal == "password_change":
        if is_api_request():
            return api_error(403, "password_change_required", _("请先修改初始密码。"))
        return redirect(url_for("auth.change_password"))
    if refusal == "mfa":
        if is_api_request():
            return api_error(403, "mfa_required", _("管理后台需要二次验证。"))
        return redirect(url_for("auth.mfa", next=request.full_path))
    return forbidden()  # "role"


def admin_mfa_ok() -> bool:
    row: AuthSession | None = g.get("auth_session")
    return bool(row and row.mfa_passed) or mfa_waived(request.remote_addr)


# One round trip for every signed-in request: the session row with its user (and, joined by
# the User mapping, the user's unit). Built once; the statement is compiled once per engine.
_SESSION_USER = (select(AuthSession, User).join(User, User.id == AuthSession.user_id)
                 .where(AuthSession.id == bindparam("sid")))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Resolve the cookie to a live server-side session (QUALITY decision 7, A9–A11)."""
    sid = session.get("sid")
    if not sid:
        return None
    now = clock.now()
    # Through the reader: on a write request this lookup runs before SQLite's write lock is
    # taken, and adopt() hands the rows to the write session without a second query.
    sess = db.reader
    row, user = sess.execute(_SESSION_USER, {"sid": sid}).first() or (None, None)
    if decisions.session_refusal(row, user, user_id, now, current_app.config) is not None:
        return None
    db.adopt(row, user, user.unit)
    if now - row.last_seen_at >= current_app.config["SESSION_TOUCH_INTERVAL"]:
        _touch(row, now)
    g.auth_session = row
    return user


def _touch(row: AuthSession, now) -> None:
    """Record activity; heartbeats and autosaves keep a session alive this way (A10, E24)."""
    if request.method in READ_METHODS:
        from sqlalchemy import update

        side = db.new_write_session()
        try:
            side.execute(update(AuthSession).where(AuthSession.id == row.id).values(last_seen_at=now))
            side.commit()
        finally:
            side.close()
    else:
        row.last_seen_at = now


@login_manager.unauthorized_handler
def _unauthorized():
    if is_api_request():
        return api_error(401, "unauthorized", _("请先登录。"))
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


# --- Flask-WTF's and Flask-Login's checks, asked of app/auth/decisions.py ---------------------
# The express lane cannot call these libraries (they read the request context it does without),
# so both paths call decisions.py instead: here the libraries' entry points are bound to it,
# behaviour unchanged (Flask-WTF 1.3.0, Flask-Login 0.6.3; tests/test_express_lane.py pins the
# bindings and compares the answers).

_csrf_log = logging.getLogger("flask_wtf.csrf")


def csrf_protect(apply_exemptions: bool = False) -> None:
    """``CSRFProtect.protect``: on a write (WTF_CSRF_METHODS) to a view not exempted, the token
    from the form or the X-CSRFToken header must pass ``decisions.csrf_refusal``; else CSRFError
    (400 ``csrf_failed``, app/errors.py)."""
    if apply_exemptions and (not request.endpoint or csrf._is_exempt()):
        return
    config = current_app.config
    if request.method not in config["WTF_CSRF_METHODS"]:
        return
    refusal = decisions.csrf_refusal(csrf._get_csrf_token(), session.get(config["WTF_CSRF_FIELD_NAME"]), config,
                                     current_app.secret_key, secure=request.is_secure, referrer=request.referrer,
                                     host=request.host)
    if refusal is not None:
        _csrf_log.info(refusal)
        csrf._error_response(refusal)
    g.csrf_valid = True  # FlaskForm skips its own check


def request_identifier() -> str:
    """Flask-Login's session identifier of this request's client (``decisions.session_identifier``)."""
    return decisions.session_identifier(request.headers.get("X-Forwarded-For", request.remote_addr),
                                        request.headers.get("User-Agent"))


def session_protection_failed() -> bool:
    """``LoginManager._session_protection_failed``: applies ``decisions.session_protection``;
    True when the sign-in was removed (the request then runs as nobody)."""
    app = current_app._get_current_object()
    sess = session._get_current_object()
    verdict = decisions.session_protection(sess, request_identifier(),
                                           app.config.get("SESSION_PROTECTION", login_manager.session_protection))
    if verdict == "pass":
        return False
    if verdict == "mark":
        sess["_fresh"] = False
    elif verdict == "end":
        for key in SESSION_KEYS:
            sess.pop(key, None)
        sess["_remember"] = "clear"
    session_protected.send(app)
    return verdict == "end"


csrf.protect = csrf_protect
login_manager._session_identifier_generator = request_identifier
login_manager._session_protection_failed = session_protection_failed
