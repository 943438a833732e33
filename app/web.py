"""Request plumbing shared by every page: request ids, proxy handling, JSON bodies, ids in URLs
and query strings, asset fingerprints and template helpers."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_datetime
from werkzeug.middleware.proxy_fix import ProxyFix

from .i18n import html_lang
from .ids import BoundedIntConverter
from .timeutils import to_local, week_span


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


def week_label(key: str, dates: bool = True) -> str:
    """A week as people read it: 第49周（11-30～12-06） (English: Week 49 (11-30 – 12-06)); with
    ``dates=False`` just 第49周. Pages, printed reports and spreadsheet titles use this; APIs
    and file names keep the ISO key ``2026-W49``. Not a week key: returned as it is."""
    from flask_babel import gettext as _

    try:
        number, monday, sunday = week_span(key)
    except (TypeError, ValueError):
        return key or ""
    if not dates:
        return _("第%(n)d周", n=number)
    return _("第%(n)d周（%(start)s～%(end)s）", n=number, start=f"{monday:%m-%d}", end=f"{sunday:%m-%d}")


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
        "content.create": _("新增学习内容"), "content.update": _("修改学习内容"), "content.publish": _("发布/撤回学习内容"),
        "content.policy": _("修改学时规则"), "study.flag_void": _("作废可疑学时"), "study.flag_dismiss": _("核查无误"),
        "question.update": _("修改试题"), "question.retire": _("停用/启用试题"), "bank.import": _("导入题库"),
        "exam.create": _("生成每周测试"), "exam.create_failed": _("每周测试生成失败"), "exam.blueprint": _("修改组卷规则"),
        "exam.grant_extra_time": _("办理延时"), "exam.grant_makeup": _("办理补考"), "attempt.finish": _("交卷"), "attempt.flagged": _("答题过快"),
        "settings.score_weights": _("修改综合得分权重"), "report.remind": _("发送提醒"),
        "task.create": _("布置任务"), "task.review": _("审核任务"), "task.update": _("修改任务"),
        "task.delete": _("删除任务"), "task.withdraw": _("撤回任务"), "task.restore": _("恢复任务"),
        "task.attendance": _("确认参加活动"), "report.snapshot_refresh": _("重新生成周报快照"), "campaign.stage": _("设置整顿阶段"),
        "announcement.send": _("发布通知"), "audit.export": _("导出操作日志"),
        "form.read": _("查阅保密表单"), "form.submit": _("提交表单"), "form.reopen": _("退回表单修改"),
        "form.settings": _("设置表单"), "form.publish": _("发布表单版本"),
        "bad password": _("密码错误"), "unknown user": _("账号不存在"), "account disabled": _("账号已停用"),
        "initial password expired": _("初始密码过期"),
    }
    return labels.get(code, code)


#: How deeply a JSON request body may nest. Ours nest three levels at most; Python's parser
#: recurses once per level, so 100,000 "[" ended in a RecursionError, a 500 (A36).
MAX_JSON_DEPTH = 32
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def check_json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """ValueError if the JSON text ``text`` nests arrays and objects more than ``limit`` deep.
    Without recursion and before any parser runs: escapes are cut out, then strings (with no
    escapes left a string is ``"[^"]*"``, so both passes are linear), and the brackets left are
    counted in one loop. Past a text's first syntax error the count may be loose; the parser
    stops there anyway."""
    if text.count("[") + text.count("{") <= limit:
        return  # it cannot nest deeper than it opens: every ordinary body ends here
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                raise ValueError(f"JSON nested deeper than {limit} levels")
        else:
            depth -= 1


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies refused (ValueError: ``get_json`` answers 400, the
    express lane declines) when they nest deeper than MAX_JSON_DEPTH."""

    def loads(self, s: str | bytes, **kwargs):
        if isinstance(s, (bytes, bytearray)):
            s = s.decode(json.detect_encoding(s), "surrogatepass")  # as json.loads decodes bytes
        check_json_depth(s)
        return super().loads(s, **kwargs)


def install_converters(app: Flask) -> None:
    """Before any blueprint is registered: rules pick their converters when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter


class SessionInterface(SecureCookieSessionInterface):
    """Static files never save the session. Flask-Login's after-request hook touches the
    session on every response, which would add ``Vary: Cookie`` (and, with the session
    refreshed on each request, a ``Set-Cookie``) to CSS and JS; browsers then revalidate them
    on every page instead of using the year-long cache (issue #7: ≤ 20 KB on a next visit)."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.json = JSONProvider(app)  # request.get_json() everywhere, and the express lane
    from . import express

    express.init_app(app)  # inside ProxyFix: the lane sees the client's address and scheme
    if app.config.get("PROXY_HOPS"):
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    from . import metrics

    metrics.init_app(app)  # outermost: requests the lane answers are counted and timed too

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID", "")[:32] or secrets.token_hex(8)

    app.jinja_env.globals.update(asset=asset, html_lang=html_lang, audit_label=audit_label)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["week_label"] = week_label
