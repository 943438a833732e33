"""Request plumbing shared by every page: request ids, proxy handling, asset fingerprints and
template helpers."""
from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_datetime
from werkzeug.middleware.proxy_fix import ProxyFix

from .i18n import html_lang
from .timeutils import to_local


@lru_cache(maxsize=512)
def _fingerprint(static_folder: str, filename: str) -> str:
    path = Path(static_folder) / filename
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def asset(filename: str) -> str:
    """URL of a static file with a content hash, so it can be cached for a year."""
    return url_for("static", filename=filename, v=_fingerprint(current_app.static_folder, filename))


def local_time(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A stored UTC datetime shown in Asia/Shanghai."""
    if value is None:
        return ""
    return format_datetime(to_local(value), fmt)


def audit_label(code: str) -> str:
    """Chinese (or English) wording of an audit action or detail code; unknown codes as they are."""
    from flask_babel import gettext as _

    labels = {
        "auth.login": _("登录"), "auth.login_failed": _("登录失败"), "auth.logout": _("退出"),
        "auth.password_changed": _("修改密码"), "auth.mfa_enrolled": _("绑定动态口令"),
        "auth.mfa_passed": _("二次验证通过"), "access.denied": _("越权访问被拒绝"),
        "user.create": _("新增人员"), "user.update": _("修改人员"), "user.reset_password": _("重置密码"),
        "user.import": _("批量导入人员"), "user.disable_demo": _("停用演示账号"),
        "unit.create": _("新增单位"), "unit.update": _("修改单位"), "unit.move": _("调整单位隶属"),
        "bad password": _("密码错误"), "unknown user": _("账号不存在"), "account disabled": _("账号已停用"),
        "initial password expired": _("初始密码过期"),
    }
    return labels.get(code, code)


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_HOPS"):
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID", "")[:32] or secrets.token_hex(8)

    app.jinja_env.globals.update(asset=asset, html_lang=html_lang, audit_label=audit_label)
    app.jinja_env.filters["local_time"] = local_time
