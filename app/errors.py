"""Error responses: friendly Chinese pages, ``{"error": {"code", "message"}}`` under /api/v1,
and never a traceback (QUALITY A30)."""
from __future__ import annotations

import secrets

from flask import Flask, g, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from .auth.access import api_error, is_api_request

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests", 500: "server_error",
    503: "unavailable",
}


#: PostgreSQL SQLSTATEs that mean "storage unavailable" rather than a bug (L10).
UNAVAILABLE_SQLSTATES = frozenset({"25006", "53000", "53100", "53200", "53300", "57P01", "57P03"})


def _titles() -> dict:
    return {
        400: (_("请求有误"), _("提交的内容无法处理，请返回后重试。")),
        401: (_("请先登录"), _("登录已过期，请重新登录。")),
        403: (_("没有权限"), _("您没有权限访问这个页面。")),
        404: (_("页面不存在"), _("您要找的页面不存在或已被删除。")),
        405: (_("请求方式不正确"), _("请通过页面上的按钮操作。")),
        409: (_("操作冲突"), _("数据已被修改，请刷新后重试。")),
        413: (_("文件太大"), _("上传的文件超过了大小限制。")),
        422: (_("内容有误"), _("请检查填写的内容。")),
        429: (_("操作太频繁"), _("请稍后再试。")),
        500: (_("服务器出错了"), _("我们已记录这个问题，请稍后再试。")),
        503: (_("暂时无法保存"), _("服务器暂时无法写入，请稍后重试，您填写的内容仍保留在本机。")),
    }


def _respond(code: int, message: str | None = None, error_id: str | None = None, error_code: str | None = None):
    title, default_message = _titles().get(code, (_("出错了"), ""))
    if is_api_request():
        extra = {"error_id": error_id} if error_id else {}
        return api_error(code, error_code or CODES.get(code, "error"), message or default_message, **extra)
    return render_template("errors/error.html", code=code, title=title, message=message or default_message,
                           error_id=error_id), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err):
        return _respond(400, _("页面已过期或来源无法验证，请刷新页面后重试。"), error_code="csrf_failed")

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if err.code and err.code >= 500:
            return _server_error(err)
        response = _respond(err.code or 500)
        if err.code == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            body, status = response if isinstance(response, tuple) else (response, 405)
            return body, status, {"Allow": ", ".join(err.valid_methods)}
        return response

    @app.errorhandler(OperationalError)
    def _db_unavailable(err):
        # Disk full, read-only file, lock timeout: the write was not kept, and we say so (L10).
        _rollback()
        app.logger.error("database unavailable: %s", err.__class__.__name__)
        return _respond(503)

    @app.errorhandler(DBAPIError)
    def _db_error(err):
        # PostgreSQL reports a read-only database (25006), a full disk (53100), exhausted memory
        # or connections (53xxx) with SQLSTATEs that psycopg maps to InternalError: the same
        # "not kept, try again" as SQLite's OperationalError (L10). Anything else is a 500.
        if isinstance(err, OperationalError) or getattr(err.orig, "sqlstate", None) in UNAVAILABLE_SQLSTATES:
            return _db_unavailable(err)
        return _server_error(err)

    @app.errorhandler(Exception)
    def _server_error(err):
        _rollback()
        error_id = secrets.token_hex(6)
        app.logger.exception("unhandled error %s (request %s)", error_id, g.get("request_id"))
        return _respond(500, error_id=error_id)


def _rollback() -> None:
    sess = g.get("_db_session")
    if sess is not None:
        sess.rollback()
