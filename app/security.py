"""Security headers on every response, static files and errors included (QUALITY A27–A29)."""
from __future__ import annotations

import re

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


#: A media host as CSP accepts it: scheme and host (optionally a port), nothing else, so a
#: setting can never inject another directive.
MEDIA_HOST_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def build_csp(media_hosts=()) -> str:
    """The CSP with the configured intranet video hosts (STUDY_MEDIA_HOSTS) in media-src.
    Raises ValueError naming a malformed entry (the app refuses to start)."""
    hosts = [h.rstrip("/") for h in media_hosts or ()]
    bad = [h for h in hosts if not MEDIA_HOST_RE.match(h)]
    if bad:
        raise ValueError(f"STUDY_MEDIA_HOSTS: {bad[0]!r} is not scheme://host[:port]")
    if not hosts:
        return CSP
    return CSP.replace("media-src 'self' blob:;", f"media-src 'self' blob: {' '.join(hosts)};")


def response_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every page and API answer carries (static files differ only in caching)."""
    headers = [
        ("Content-Security-Policy", build_csp(app.config.get("STUDY_MEDIA_HOSTS"))),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)"),
    ]
    if app.config.get("HSTS"):
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    # Pages and API answers are personal and phones/station PCs are shared (A29).
    return headers + [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def init_app(app: Flask) -> None:
    headers = response_headers(app)  # also refuses a malformed STUDY_MEDIA_HOSTS at start-up
    shared = [(k, v) for k, v in headers if k not in ("Cache-Control", "Pragma")]

    @app.after_request
    def _headers(response):
        h = response.headers
        for key, value in shared:
            h.setdefault(key, value)
        if request.endpoint != "static":
            h["Cache-Control"] = "no-store"
            h.setdefault("Pragma", "no-cache")
        return response
