"""Login, logout, password change, admin second factor and language choice."""
from __future__ import annotations

from datetime import timezone
from urllib.parse import urlsplit

import pyotp
from flask import (Blueprint, current_app, flash, g, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from .. import audit, clock
from ..db import db
from ..i18n import LANG_COOKIE
from ..models import AuthSession
from ..notices.queries import password_resets
from ..web import local_time
from .access import access, public, signed_in
from .forms import ChangePasswordForm, LoginForm, TotpForm
from .passwords import identifiers_of, policy_errors, verify_password
from .services import (LoginPolicy, authenticate, check_password_outside_transaction, revoke_session,
                       set_password, start_session, throttle_wait)

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``//evil``, ``/\\evil`` and absolute URLs go home (A23)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("main.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in. Throttled attempts get 429 with Retry-After, the same for unknown usernames and
    real accounts (A35; the rule is ``services.throttle_wait``)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.index"))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        now, address = clock.now(), request.remote_addr
        policy = LoginPolicy.from_config(current_app.config)
        username, password = form.username.data, form.password.data
        reader = db.new_read_session()
        try:  # the hash, outside the write transaction; none at all when throttled
            check = None if throttle_wait(reader, username, address, now, policy) else \
                check_password_outside_transaction(reader, username, password, policy)
        finally:
            reader.close()
        result = authenticate(db.session, username, password, now, policy, address=address,
                              verified=check and check.verified, rehash=check and check.rehash)
        if result.outcome == "ok":
            user = result.user
            resets = _password_resets_since_last_sign_in(user)
            # A new session at login: nothing planted before it survives (A8).
            session.clear()
            row = start_session(db.session, user, now, address, request.user_agent.string)
            session["sid"] = row.id
            session.permanent = True
            login_user(user, remember=False)
            db.session.commit()
            if resets:  # the sign-in after an admin reset the password says so (attack report F3b)
                flash(_("您的密码已于 %(when)s 由管理员重置。如非本人申请，请立即修改密码并联系纪检督察。",
                        when=local_time(resets[0])), "warn")
            return redirect(safe_next(request.args.get("next")))
        db.session.commit()  # keep the failure counters and the audit row
        flash(_login_message(result), "error")
        if result.outcome == "throttled":
            status, headers = 429, {"Retry-After": str(result.retry_after)}
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status, headers


def _password_resets_since_last_sign_in(user) -> list:
    """Admin resets of ``user``'s password since their previous sign-in, newest first; asked
    before the new session exists."""
    previous = db.session.scalar(select(func.max(AuthSession.created_at)).where(AuthSession.user_id == user.id))
    return password_resets(db.session, user.id, since=previous)


def _login_message(result) -> str:
    if result.outcome == "throttled":
        return _("尝试次数过多，请 %(m)d 分钟后再试。", m=max(1, (result.retry_after + 59) // 60))
    return {
        "bad_credentials": _("账号或密码不正确。"),
        "disabled": _("该账号已停用，请联系单位管理员。"),
        "expired": _("初始密码已过期，请联系单位管理员重置。"),
    }[result.outcome]


@bp.route("/logout", methods=["POST"])
@access("officer", "supervisor", "leader", "admin", "inspector", during_password_change=True, before_mfa=True)
def logout():
    sid = session.get("sid")
    if sid:
        revoke_session(db.session, sid, clock.now())
    audit.record(db.session, "auth.logout", target=current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@access("officer", "supervisor", "leader", "admin", "inspector", during_password_change=True, before_mfa=True)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("当前密码不正确。"))
        else:
            errors = policy_errors(form.new_password.data, min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                                   max_length=current_app.config["PASSWORD_MAX_LENGTH"],
                                   identifiers=identifiers_of(user))
            if form.new_password.data == form.current_password.data:
                errors.append(_("新密码不能与当前密码相同。"))
            if not errors:
                set_password(db.session, user, form.new_password.data, clock.now(),
                             current_app.config["PASSWORD_HASH_METHOD"], keep_session=session.get("sid"))
                db.session.commit()
                flash(_("密码已修改，其他设备上的登录已退出。"), "success")
                return redirect(url_for("main.index"))
            form.new_password.errors.extend(errors)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status


@bp.route("/account/mfa", methods=["GET", "POST"])
@access("admin", before_mfa=True)
def mfa():
    """Verify (or, the first time, enrol) the admin's TOTP second factor (A20)."""
    user = current_user._get_current_object()
    form = TotpForm()
    enrolling = user.totp_secret is None or user.totp_enabled_at is None
    if enrolling and "totp_pending" not in session:
        session["totp_pending"] = pyotp.random_base32()
    secret = session.get("totp_pending") if enrolling else user.totp_secret
    if form.validate_on_submit():
        if pyotp.TOTP(secret).verify(form.code.data.strip(), for_time=clock.now().replace(tzinfo=timezone.utc), valid_window=1):
            if enrolling:
                user.totp_secret = secret
                user.totp_enabled_at = clock.now()
                session.pop("totp_pending", None)
                audit.record(db.session, "auth.mfa_enrolled", target=user)
            g.auth_session.mfa_passed = True
            audit.record(db.session, "auth.mfa_passed", target=user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next") or url_for("admin.index")))
        form.code.errors.append(_("验证码不正确或已过期。"))
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="智慧学习平台") if enrolling else None
    return render_template("auth/mfa.html", form=form, enrolling=enrolling, secret=secret if enrolling else None,
                           uri=uri)


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str):
    """Switch the interface language; only the cookie changes (no database write)."""
    target = safe_next(request.form.get("next"))
    response = make_response(redirect(target))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
