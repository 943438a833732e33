"""Accounts the office makes or resets (attack report F3): QUALITY A13 (fresh login to grant a
role) and A4 (an initial password opens nothing but the password change; a reset is never silent)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import Notification, User
from tests.factories import PASSWORD
from tests.test_access import POLICY, fill, rules
from tests.test_auth import change_password
from tests.test_users_import import codes, confirm, token_of, upload, workbook  # noqa: F401 (fixture)

NEW_PASSWORD = "a brand new passphrase 2026"


def _new_user(client, role: str, badge: str, unit_id: int):
    return client.post("/admin/users/new", data={"badge_no": badge, "name": "新账号", "unit_id": unit_id,
                                                 "role": role, "phone": ""})


def _exists(app, badge: str) -> bool:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)).where(User.badge_no == badge)) == 1


@pytest.mark.parametrize("role", ["inspector", "supervisor", "leader", "admin"])
def test_a13_creating_a_privileged_account_needs_a_fresh_login(app, city, auth, clock, role):
    """A13 (F3a): a stale admin session cannot create an inspector, supervisor, leader or admin; a fresh one can."""
    stale = app.test_client()
    auth.login(stale, "admin")
    clock.advance(minutes=20)
    stale.get("/admin/")  # keep the session alive
    resp = _new_user(stale, role, "140199991", city.root)
    assert resp.status_code == 403 and "请重新登录" in resp.get_data(as_text=True)
    assert not _exists(app, "140199991")
    fresh = app.test_client()
    auth.login(fresh, "admin")
    assert _new_user(fresh, role, "140199991", city.root).status_code == 200
    assert _exists(app, "140199991")


def test_a13_creating_an_officer_needs_no_fresh_login(app, city, auth, clock):
    """A13: an officer's account grants nothing beyond their own records, so a stale session may create one."""
    c = app.test_client()
    auth.login(c, "admin")
    clock.advance(minutes=20)
    c.get("/admin/")
    assert _new_user(c, "officer", "140199992", city.station_a1).status_code == 200
    assert _exists(app, "140199992")


def test_a13_importing_accounts_needs_a_fresh_login_at_confirm(app, city, auth, clock, codes):  # noqa: F811
    """A13 (F3a): an import previewed in a fresh session but confirmed 20 minutes later is refused; nothing is created."""
    c = app.test_client()
    auth.login(c, "admin")
    preview = upload(c, workbook([["140199993", "督察甲", codes[city.root], "纪检督察", ""]]))
    assert preview.status_code == 200
    token = token_of(preview)
    clock.advance(minutes=20)
    resp = confirm(c, token)
    assert resp.status_code == 403 and not _exists(app, "140199993")
    assert upload(c, workbook([["140199993", "督察甲", codes[city.root], "纪检督察", ""]])).status_code == 403


def _reset(app, auth, city, username: str = "officer") -> str:
    """The office resets ``username``'s password through the page; returns the initial password."""
    admin = app.test_client()
    auth.login(admin, "admin")
    resp = admin.post(f"/admin/users/{city.users[username]}/reset-password")
    return re.search(r"初始密码：<code>([^<]+)</code>", resp.get_data(as_text=True)).group(1)


def test_a4_an_initial_password_opens_nothing_before_the_change(app, city, auth, clock):
    """A4 (F3b): signed in with an admin-issued password, every view but the change page and logout sends the person to change it (API 403), confidential reads included."""
    initial = _reset(app, auth, city)
    clock.advance(minutes=1)
    c = app.test_client()
    assert auth.login(c, "officer", initial).status_code == 302
    checked = 0
    for rule, method in rules(app):
        allowed = POLICY[rule.endpoint]
        if allowed == "public" or "officer" not in allowed or rule.endpoint == "auth.logout":
            continue
        path = fill(rule, city, city.station_a1)
        resp = c.open(path, method=method, data={})
        where = f"{method} {path}"
        if rule.endpoint == "auth.change_password":
            assert resp.status_code in (200, 400), where  # the page; an empty form is refused
        elif path.startswith("/api/"):
            assert resp.status_code == 403, where
            assert resp.get_json()["error"]["code"] == "password_change_required", where
        else:
            assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password"), where
        checked += 1
    assert checked > 40
    for path in ("/forms/submissions/1", "/forms/submissions/1/files/1", "/api/v1/forms/submissions/1", "/talks/1"):
        assert c.get(path).status_code in (302, 403), path
    # the express lane's two writes answer the same (it asks decisions.access_refusal)
    beat = c.post("/api/v1/study/items/1/heartbeat", json={"visible": True})
    assert beat.status_code == 403 and beat.get_json()["error"]["code"] == "password_change_required"


def test_a4_an_admin_reset_is_never_silent(app, city, auth, clock):
    """A4 (F3b): after an admin reset the person's next sign-in says so, their account page lists it even once the notice is read, and later sign-ins stay quiet."""
    clock.advance(minutes=1)
    initial = _reset(app, auth, city)
    clock.advance(minutes=1)
    c = app.test_client()
    auth.login(c, "officer", initial)
    page = c.get("/account/password").get_data(as_text=True)
    assert "由管理员重置" in page
    assert change_password(c, initial, NEW_PASSWORD).status_code == 302
    with app.app_context():
        notice = db.session.scalar(select(Notification).where(Notification.user_id == city.users["officer"],
                                                              Notification.kind == "password_reset"))
        assert notice is not None and "由管理员重置" in notice.body
    c.post("/notices/read")  # mark everything read: the account page still tells
    me = c.get("/me").get_data(as_text=True)
    assert 'id="me-password-resets"' in me and "由管理员重置" in me
    clock.advance(minutes=1)
    later = app.test_client()
    auth.login(later, "officer", NEW_PASSWORD)
    assert "由管理员重置" not in later.get("/account/password").get_data(as_text=True)


def test_a4_no_reset_no_notice(app, city, auth):
    """A4: an account never reset shows no reset line and gets no sign-in notice."""
    c = app.test_client()
    auth.login(c, "officer", PASSWORD)
    assert 'id="me-password-resets"' not in c.get("/me").get_data(as_text=True)
