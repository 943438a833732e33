"""Security headers, caching and exposed files: QUALITY A21, A27–A30."""
from __future__ import annotations

import base64
import secrets

import pytest

from app.auth.access import public


@pytest.fixture
def app(make_app):
    application = make_app()

    @public
    def boom():
        raise RuntimeError("kaboom with secret detail")

    @public
    def api_boom():
        raise RuntimeError("kaboom")

    application.add_url_rule("/boom", "boom", boom)
    application.add_url_rule("/api/v1/boom", "api_boom", api_boom)
    return application


PATHS = ["/login", "/static/css/app.css", "/api/v1/openapi.json", "/api/v1/me", "/no-such-page", "/boom", "/api/v1/boom"]


@pytest.mark.parametrize("path", PATHS)
def test_a27_a28_headers_everywhere(client, path):
    """A27/A28: CSP without unsafe-inline, nosniff, referrer policy and anti-framing on every response."""
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_a28_hsts_in_production(make_app):
    """A28: production (behind TLS) sends HSTS for at least a year."""
    prod = make_app(APP_ENV="production", SECRET_KEY=secrets.token_urlsafe(40),
                    FORMS_KEYS=[base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()])
    resp = prod.test_client().get("/login")
    assert "max-age=31536000" in resp.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("path", ["/api/v1/me", "/login", "/me"])
def test_a29_no_store(client, city, auth, path):
    """A29: pages and API answers are not cached (shared phones and station PCs)."""
    auth.login(client, "officer")
    assert "no-store" in client.get(path).headers["Cache-Control"]


def test_static_files_cache_long(client):
    """Fingerprinted static files may be cached for a year."""
    resp = client.get("/static/css/app.css?v=abc")
    assert "max-age=31536000" in resp.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/static/", "/.git/config", "/instance/platform.db", "/instance/platform.db-wal",
                                  "/backup/", "/static/../config.py", "/static/vendor/"])
def test_a21_no_listings_or_exposed_files(client, path):
    """A21: no directory listing and no repository, instance or backup file is served."""
    assert client.get(path).status_code == 404


def test_a30_generic_500_page(client):
    """A30: an error shows an error id and no traceback or exception text."""
    resp = client.get("/boom")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "错误编号" in body and "Traceback" not in body and "kaboom" not in body and "Werkzeug" not in body


def test_a30_api_500_is_json(client):
    """A30: an API error is JSON with an error id."""
    resp = client.get("/api/v1/boom")
    data = resp.get_json()
    assert resp.status_code == 500 and data["error"]["code"] == "server_error" and data["error"]["error_id"]


def test_api_errors_are_json(client, city, auth):
    """API errors use {"error": {"code", "message"}} with the right status."""
    assert client.get("/api/v1/me").get_json()["error"]["code"] == "unauthorized"
    auth.login(client, "officer")
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = client.delete("/api/v1/me")
    assert resp.status_code == 405 and resp.get_json()["error"]["message"]
