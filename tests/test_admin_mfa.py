"""QUALITY A20: an admin's second factor holds by default on every view, not route by route."""
from __future__ import annotations

import re
from datetime import timezone
from urllib.parse import quote

import pyotp
import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import Notification
from tests.conftest import csrf_of
from tests.factories import PASSWORD
from tests.test_access import POLICY, fill, rules

#: What an admin reaches after a password alone (not on ADMIN_MFA_WAIVER_NETWORKS): the TOTP
#: page, logout, the password change and their own account. Reviewed by hand.
BEFORE_MFA = {"auth.mfa", "auth.logout", "auth.change_password", "main.me", "api.me"}
#: The views the attack report (F2) found open before the second factor.
F2_CASES = [("POST", "/reports/remind?unit={unit}&only=target_not_met"), ("GET", "/reports/remind?unit={unit}&only=target_not_met"),
            ("GET", "/forms/submissions/1"), ("GET", "/forms/submissions/1/files/1"),
            ("GET", "/api/v1/forms/submissions/1"), ("GET", "/forms/desk"), ("GET", "/forms/desk/1"),
            ("GET", "/forms/desk/1/export.xlsx")]


def _admin_without_second_factor(make_app, auth):
    app = make_app(ADMIN_MFA_WAIVER_NETWORKS=["10.1.0.0/16"])
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.2.3"  # not waived
    auth.login(client, "admin")
    return app, client


def _admin_views(app):
    for rule, method in rules(app):
        allowed = POLICY[rule.endpoint]
        if allowed != "public" and "admin" in allowed:
            yield rule, method


def test_a20_only_the_reviewed_views_come_before_the_second_factor(app):
    """A20: the views declared before_mfa are exactly the reviewed allowlist."""
    declared = {rule.endpoint for rule, _m in rules(app)
                if getattr(app.view_functions[rule.endpoint].access, "before_mfa", False)}
    assert declared == BEFORE_MFA


def test_a20_every_admin_view_needs_the_second_factor(make_app, city, auth):
    """A20: off a waived network an admin signed in by password reaches only the allowlist; every other view they may call redirects to /account/mfa (the API answers 403 mfa_required)."""
    app, client = _admin_without_second_factor(make_app, auth)
    checked = 0
    for rule, method in _admin_views(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session the loop relies on
        path = fill(rule, city)
        resp = client.open(path, method=method, data={})
        where = f"{method} {path}"
        if rule.endpoint in BEFORE_MFA:
            assert resp.status_code not in (401, 403), where
            assert "/account/mfa" not in resp.headers.get("Location", "") or rule.endpoint == "auth.mfa", where
        elif path.startswith("/api/"):
            assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "mfa_required", where
        else:
            assert resp.status_code == 302 and "/account/mfa" in resp.headers["Location"], where
        checked += 1
    assert checked > 100  # the route map was really walked


@pytest.mark.parametrize("method,path", F2_CASES)
def test_a20_attack_report_f2_views_need_the_second_factor(make_app, city, auth, method, path):
    """A20 (attack report F2): 一键提醒, form answers, files, the desk and its export are refused before TOTP, and nothing is sent."""
    app, client = _admin_without_second_factor(make_app, auth)
    resp = client.open(path.format(unit=city.root), method=method, data={})
    if path.startswith("/api/"):
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "mfa_required"
    else:
        assert resp.status_code == 302 and "/account/mfa" in resp.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_a20_after_totp_the_same_session_goes_on(make_app, city, auth, clock):
    """A20: once the code is entered, the refused view opens in the same session; logout works before it."""
    app, client = _admin_without_second_factor(make_app, auth)
    path = f"/reports/remind?unit={city.root}&only=target_not_met"
    assert client.get(path).status_code == 302
    assert client.get("/me").status_code == 200 and client.get("/api/v1/me").status_code == 200
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", client.get("/account/mfa").get_data(as_text=True)).group(1)
    code = pyotp.TOTP(secret).at(clock.now.replace(tzinfo=timezone.utc))
    assert client.post(f"/account/mfa?next={quote(path)}", data={"code": code}).headers["Location"].endswith(path)
    assert client.get(path).status_code == 200
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.2.3"
    auth.login(other, "admin", PASSWORD)
    assert other.post("/logout", headers={"X-CSRFToken": csrf_of(other)}).status_code == 302
    assert other.get("/me").status_code == 302 and "/login" in other.get("/me").headers["Location"]
