"""Authentication and sessions: QUALITY A1–A5, A8–A13, A23."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.passwords import hash_password, policy_errors, random_initial_password
from app.db import db
from app.models import AuditLog, AuthSession, User
from tests.conftest import csrf_of
from tests.factories import PASSWORD


def change_password(client, current, new, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm": confirm if confirm is not None else new})


def user(app, username) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def test_login_wrong_password_clear_message(client, city, auth):
    """A wrong password gets a clear Chinese message and no session."""
    resp = auth.login(client, "officer", "wrong password!!")
    assert resp.status_code == 200
    assert "账号或密码不正确" in resp.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_login_unknown_user_same_message(client, city, auth):
    """An unknown account gets the same message as a wrong password (no account enumeration)."""
    resp = auth.login(client, "nobody", "whatever-password")
    assert "账号或密码不正确" in resp.get_data(as_text=True)


def test_login_empty_form_is_422(client, city):
    """An empty login form is refused with field messages."""
    resp = client.post("/login", data={})
    assert resp.status_code == 422
    assert "请输入账号" in resp.get_data(as_text=True)


@pytest.mark.parametrize("length", [64, 128])
def test_a1_long_passwords_accepted(client, city, auth, app, length):
    """A1: 64- and 128-character passwords are accepted and log in."""
    auth.login(client, "officer")
    new = ("长城" + "x7Q") * (length // 5) + "z" * (length % 5)
    assert len(new) == length
    resp = change_password(client, PASSWORD, new)
    assert resp.status_code == 302
    fresh = app.test_client()
    assert auth.login(fresh, "officer", new).status_code == 302


def test_a1_short_password_refused(client, city, auth, app):
    """A1: an 11-character password is refused and nothing changes."""
    auth.login(client, "officer")
    before = user(app, "officer").password_hash
    resp = change_password(client, PASSWORD, "Abcdefgh12!")
    assert resp.status_code == 400
    assert "至少需要 12 个字符" in resp.get_data(as_text=True)
    assert user(app, "officer").password_hash == before


def test_a1_no_truncation(client, city, auth, app):
    """A1: a 100-byte password does not log in with only its first 72 bytes."""
    auth.login(client, "officer")
    long = "k" * 60 + "Zq9" * 13 + "x"
    assert len(long.encode()) == 100
    assert change_password(client, PASSWORD, long).status_code == 302
    assert auth.login(app.test_client(), "officer", long[:72]).status_code == 200  # refused: form again
    assert auth.login(app.test_client(), "officer", long).status_code == 302


@pytest.mark.parametrize("bad", ["123456", "a123456", "password", "tiejun2021", "Password123456",
                                 "B1004xyzB1004xyz", "13912345678abc", "19800115abcdef"])
def test_a2_common_and_personal_passwords_refused(client, city, auth, app, bad):
    """A2: common passwords and the officer's own identifiers are refused."""
    with app.app_context():
        u = db.session.scalar(select(User).where(User.username == "officer"))
        u.phone = "13912345678"
        from datetime import date
        u.birth_date = date(1980, 1, 15)
        db.session.commit()
    auth.login(client, "officer")
    resp = change_password(client, PASSWORD, bad)
    assert resp.status_code == 400


def test_a2_refused_at_forced_change_too(app, city, auth, clock):
    """A2: the forced first change applies the same rules."""
    from app.auth.services import issue_initial_password

    with app.app_context():
        u = db.session.get(User, city.users["officer_b"])
        initial = issue_initial_password(db.session, u, clock.now, "pbkdf2:sha256:1000", 7)
        db.session.commit()
    c = app.test_client()
    auth.login(c, "officer_b", initial)
    assert change_password(c, initial, "password").status_code == 400
    assert user(app, "officer_b").must_change_password


def test_a3_failures_pause_account_from_that_address(app, city, auth, clock):
    """A3/A35: 5 wrong passwords pause that account from that address (429 even with the right password) for 15 minutes, not others."""
    c = app.test_client()
    for _ in range(5):
        assert auth.login(c, "officer", "wrong-password-x").status_code == 200
    resp = auth.login(c, "officer", PASSWORD)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "900"
    assert "尝试次数过多，请 15 分钟后再试。" in resp.get_data(as_text=True)
    assert auth.login(app.test_client(), "officer2").status_code == 302  # same IP, other account
    clock.advance(minutes=16)
    assert auth.login(app.test_client(), "officer").status_code == 302


def test_a3_counter_shared_across_app_instances(make_app, city, auth, clock):
    """A3/L12: failures spread over 4 app instances share one counter in the database."""
    apps = [make_app() for _ in range(4)]
    for i in range(5):
        auth.login(apps[i % 4].test_client(), "officer", "wrong-password-x")
    assert auth.login(apps[3].test_client(), "officer", PASSWORD).status_code == 429


def test_a3_account_wide_delay(app, city, auth, clock):
    """A3: past 10 wrong passwords an hour from any addresses, the account is delayed a minute (guesses stay under 100 an hour)."""
    for i in range(10):
        app.test_client().post("/login", data={"username": "officer", "password": "wrong-password-x"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
    resp = auth.login(app.test_client(), "officer", PASSWORD)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "60"
    clock.advance(seconds=60)
    assert auth.login(app.test_client(), "officer", PASSWORD).status_code == 302


def test_a3_many_officers_one_ip(app, city, auth):
    """A3: many officers logging in from one address are not blocked."""
    for name in ("officer", "officer2", "officer_a2", "officer_b", "officer_c"):
        for _ in range(3):
            assert auth.login(app.test_client(), name).status_code == 302


def test_a4_initial_password_forces_change_and_expires(app, city, auth, clock):
    """A4: an initial password forces a change on every route and expires after N days."""
    from app.auth.services import issue_initial_password

    with app.app_context():
        u = db.session.get(User, city.users["officer_b"])
        pw = issue_initial_password(db.session, u, clock.now, "pbkdf2:sha256:1000", 7)
        db.session.commit()
    assert "B1007" not in pw and "officer_b" not in pw
    c = app.test_client()
    assert auth.login(c, "officer_b", pw).status_code == 302
    assert c.get("/home").headers["Location"].endswith("/account/password")
    assert c.get("/api/v1/me").get_json()["error"]["code"] == "password_change_required"
    clock.advance(days=8)
    resp = auth.login(app.test_client(), "officer_b", pw)
    assert "初始密码已过期" in resp.get_data(as_text=True)


def test_a4_initial_passwords_are_random():
    """A4: initial passwords are random, long and not derivable."""
    values = {random_initial_password() for _ in range(50)}
    assert len(values) == 50 and all(len(v) == 16 for v in values)


def test_a5_hash_is_salted_slow_kdf():
    """A5: production hashes with PBKDF2-SHA256 at ASVS 4.0.3's 100,000 iterations or more, and equal passwords hash differently."""
    from config import BaseConfig

    method = BaseConfig.PASSWORD_HASH_METHOD
    assert method.startswith("pbkdf2:sha256:") and int(method.split(":")[2]) >= 100_000
    a, b = hash_password("same password!!", method), hash_password("same password!!", method)
    assert a.startswith("pbkdf2:sha256:100000$") and a != b


def test_a5_login_upgrades_hash_made_with_other_parameters(app, city, auth):
    """A5: a right password stored with outdated KDF parameters is re-hashed with the configured ones at login."""
    with app.app_context():
        u = db.session.scalar(select(User).where(User.username == "officer"))
        u.password_hash = hash_password(PASSWORD, "pbkdf2:sha256:2000")
        db.session.commit()
    wrong = app.test_client()
    wrong.post("/login", data={"username": "officer", "password": "not the password!"})
    assert user(app, "officer").password_hash.startswith("pbkdf2:sha256:2000$")  # a wrong password changes nothing
    auth.login(app.test_client(), "officer")
    stored = user(app, "officer").password_hash
    assert stored.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    auth.login(app.test_client(), "officer")  # and the new hash verifies
    assert user(app, "officer").password_hash == stored


def test_a8_new_session_at_login(app, city, auth):
    """A8: the cookie changes at login and a planted session key is gone."""
    c = app.test_client()
    with c.session_transaction() as s:
        s["planted"] = "evil"
    before = c.get_cookie("session").value
    auth.login(c, "officer")
    assert c.get_cookie("session").value != before
    with c.session_transaction() as s:
        assert "planted" not in s


def test_a9_logout_kills_copied_cookies(app, city, auth):
    """A9: cookies copied before logout no longer authenticate."""
    c = app.test_client()
    auth.login(c, "officer")
    saved = {k: ck.value for k in ("session", "remember_token") if (ck := c.get_cookie(k))}
    resp = c.post("/logout", headers={"X-CSRFToken": csrf_of(c)})
    assert resp.status_code == 302
    thief = app.test_client()
    for k, v in saved.items():
        thief.set_cookie(k, v)
    assert thief.get("/api/v1/me").status_code == 401


def test_a10_idle_timeout(app, city, auth, clock):
    """A10: 31 minutes without requests forces a new login."""
    c = app.test_client()
    auth.login(c, "officer")
    clock.advance(minutes=31)
    assert c.get("/api/v1/me").status_code == 401


def test_a10_activity_keeps_session(app, city, auth, clock):
    """A10: a request every minute keeps the session alive past 31 minutes, but not past 12 hours."""
    c = app.test_client()
    auth.login(c, "officer")
    for _ in range(40):
        clock.advance(seconds=60)
        assert c.get("/api/v1/me").status_code == 200
    for _ in range(12 * 60):
        clock.advance(seconds=60)
        c.post("/api/v1/me")  # 405, but a request all the same
    assert c.get("/api/v1/me").status_code == 401


def test_a11_password_change_ends_other_sessions(app, city, auth):
    """A11: after A changes the password, B's session is gone and A stays logged in."""
    a, b = app.test_client(), app.test_client()
    auth.login(a, "officer")
    auth.login(b, "officer")
    assert change_password(a, PASSWORD, "a brand new passphrase 2026").status_code == 302
    assert a.get("/api/v1/me").status_code == 200
    assert b.get("/api/v1/me").status_code == 401


def test_a12_cookie_flags(app, city, auth):
    """A12: the session cookie is HttpOnly and SameSite=Lax; no remember-me cookie exists."""
    c = app.test_client()
    resp = auth.login(c, "officer")
    cookie = resp.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get_cookie("remember_token") is None


def test_a12_production_cookie_is_secure():
    """A12: production sets Secure and the __Host- prefix."""
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_NAME.startswith("__Host-")


def test_a13_password_change_needs_current(app, city, auth):
    """A13: a password change without the current password gets 400 and changes nothing."""
    c = app.test_client()
    auth.login(c, "officer")
    before = user(app, "officer").password_hash
    resp = change_password(c, "not my password", "a brand new passphrase 2026")
    assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    assert user(app, "officer").password_hash == before


def test_a13_role_change_needs_fresh_login(app, city, auth, clock):
    """A13: granting a role needs a login from the last 15 minutes."""
    c = app.test_client()
    auth.login(c, "admin")
    clock.advance(minutes=20)
    c.get("/admin/")  # keep the session alive
    target = city.users["officer_b"]
    resp = c.post(f"/admin/users/{target}", data={"badge_no": "B1007", "name": "officer_b", "unit_id": city.branch_b,
                                                  "role": "supervisor", "is_active": "y"})
    assert resp.status_code == 403
    assert user(app, "officer_b").role == "officer"


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_a23_next_redirect_only_local(app, city, auth, target):
    """A23: ``next`` can only point inside the site."""
    c = app.test_client()
    resp = c.post("/login?next=" + target, data={"username": "officer", "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_next_redirect_local_kept(app, city, auth):
    """A local ``next`` path is honoured after login."""
    resp = app.test_client().post("/login?next=/me", data={"username": "officer", "password": PASSWORD})
    assert resp.headers["Location"] == "/me"


def test_disabled_account_cannot_log_in_and_loses_sessions(app, city, auth, clock):
    """Disabling an account ends its sessions and refuses new logins."""
    from app.admin.services import update_user

    c = app.test_client()
    auth.login(c, "officer_b")
    with app.app_context():
        u = db.session.get(User, city.users["officer_b"])
        update_user(db.session, clock.now, u, name=u.name, unit_id=u.unit_id, role=u.role, is_active=False, phone=None)
        db.session.commit()
    assert c.get("/api/v1/me").status_code == 401
    assert "已停用" in auth.login(app.test_client(), "officer_b").get_data(as_text=True)


def test_login_audited(app, city, auth):
    """A31: a login and a failed login each write one audit row."""
    auth.login(app.test_client(), "officer")
    auth.login(app.test_client(), "officer", "bad-password-123")
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions.count("auth.login") == 1 and actions.count("auth.login_failed") == 1


def test_policy_errors_messages(app):
    """The password policy explains each reason in Chinese."""
    with app.test_request_context():
        errors = policy_errors("123456", min_length=12, max_length=128, identifiers=[])
    assert any("12" in e for e in errors) and any("常见" in e for e in errors)
