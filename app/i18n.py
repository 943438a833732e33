"""Locale selection. Source strings are written in Simplified Chinese (the default UI);
``app/translations/en`` carries the English catalogue. A missing English string falls back to
Chinese rather than to an identifier."""
from __future__ import annotations

from flask import current_app, has_request_context, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    """The cookie's choice on a page; the default (Chinese) in the CLI and in jobs."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.cookies.get(LANG_COOKIE)
    if wanted in current_app.config["LANGUAGES"]:
        return wanted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return "Asia/Shanghai"


def html_lang() -> str:
    return "en" if select_locale() == "en" else "zh-CN"
