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


def init_app(app: Flask) -> None:
    csp = build_csp(app.config.get("STUDY_MEDIA_HOSTS"))

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", csp)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)")
        if app.config.get("HSTS"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # Pages and API answers are personal and phones/station PCs are shared (A29).
            h["Cache-Control"] = "no-store"
            h.setdefault("Pragma", "no-cache")
        return response
