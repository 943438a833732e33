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


def init_app(app: Flask) -> None:
    if app.config.get("PROXY_HOPS"):
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID", "")[:32] or secrets.token_hex(8)

    app.jinja_env.globals.update(asset=asset, html_lang=html_lang)
    app.jinja_env.filters["local_time"] = local_time
