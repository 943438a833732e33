"""Access policy: every view declares who may call it, and one ``before_request`` enforces it.

Deny by default (QUALITY A14, A15): a view without a declared policy answers 403, and the
route-map test fails for it, so no route ships unreviewed. The leader is read-only because no
write view lists the leader role.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable

from flask import current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select

from .. import audit, clock
from ..db import READ_METHODS, db
from ..extensions import login_manager
from ..models import AuthSession, User
from .services import LoginPolicy, session_is_live

ALL_ROLES = frozenset({"officer", "supervisor", "leader", "admin"})
STAFF_ROLES = frozenset({"supervisor", "leader", "admin"})


@dataclass(frozen=True)
class Access:
    roles: frozenset = field(default_factory=frozenset)
    public: bool = False
    #: Admin pages: needs TOTP in this session or an allowlisted network (A20).
    mfa: bool = False
    #: Reachable while a forced password change is pending (the change page, logout).
    during_password_change: bool = False


def access(*roles: str, public: bool = False, mfa: bool = False, during_password_change: bool = False) -> Callable:
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view):
        view.access = Access(frozenset(roles), public, mfa, during_password_change)
        return view

    return decorate


public = access(public=True)
signed_in = access(*ALL_ROLES)


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
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password and not rule.during_password_change:
        if is_api_request():
            return api_error(403, "password_change_required", _("请先修改初始密码。"))
        return redirect(url_for("auth.change_password"))
    if current_user.role not in rule.roles:
        return forbidden()
    if rule.mfa and current_user.role == "admin" and not admin_mfa_ok():
        if is_api_request():
            return api_error(403, "mfa_required", _("管理后台需要二次验证。"))
        return redirect(url_for("auth.mfa", next=request.full_path))
    return None


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
    policy = LoginPolicy.from_config(current_app.config)
    # Through the reader: on a write request this lookup runs before SQLite's write lock is
    # taken, and adopt() hands the rows to the write session without a second query.
    sess = db.reader
    row, user = sess.execute(_SESSION_USER, {"sid": sid}).first() or (None, None)
    if not session_is_live(row, now, policy) or str(row.user_id) != str(user_id):
        return None
    if user is None or not user.is_active:
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
