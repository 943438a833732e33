"""Admin second factor (A20), no mass assignment (A17) and a long exam with CSRF on (E24)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pyotp
from sqlalchemy import select

from app.db import db
from app.exams import grants
from app.models import User
from tests.conftest import csrf_of
from tests.factories import PASSWORD, make_bank

ROOT = Path(__file__).resolve().parent.parent


def test_a20_admin_needs_totp_off_the_allowlist(make_app, city, clock):
    """A20: without a waived network, /admin demands TOTP enrolment; a wrong code is refused; the right one opens it."""
    app = make_app(ADMIN_MFA_WAIVER_NETWORKS=[])
    c = app.test_client()
    c.post("/login", data={"username": "admin", "password": PASSWORD})
    resp = c.get("/admin/")
    assert resp.status_code == 302 and "/account/mfa" in resp.headers["Location"]
    assert c.get("/api/v1/me").status_code == 200  # the rest of the app is not blocked
    page = c.get("/account/mfa").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page).group(1)
    wrong = c.post("/account/mfa", data={"code": "000000"})
    assert "验证码不正确" in wrong.get_data(as_text=True) and c.get("/admin/").status_code == 302
    from datetime import timezone
    code = pyotp.TOTP(secret).at(clock.now.replace(tzinfo=timezone.utc))
    assert c.post("/account/mfa", data={"code": code}).status_code == 302
    assert c.get("/admin/").status_code == 200
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin.totp_secret == secret and admin.totp_enabled_at is not None
    other = app.test_client()  # a new session must pass the second factor again
    other.post("/login", data={"username": "admin", "password": PASSWORD})
    assert other.get("/admin/").status_code == 302


def test_a20_waived_network_only(make_app, city):
    """A20: a waiver applies to the configured network only; another address gets the TOTP step."""
    app = make_app(ADMIN_MFA_WAIVER_NETWORKS=["10.1.0.0/16"])
    c = app.test_client()
    c.post("/login", data={"username": "admin", "password": PASSWORD})
    assert c.get("/admin/", environ_overrides={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert c.get("/admin/", environ_overrides={"REMOTE_ADDR": "10.9.2.3"}).status_code == 302


def test_a17_no_mass_assignment(app, city, auth, clock):
    """A17: role, unit_id, score or is_active in a payload are ignored; no populate_obj on models."""
    from app.exams import services

    with app.app_context():
        make_bank(db.session)
        exam_id = services.create_weekly_exam(db.session, "2026-W11", clock.now)[0].id
        db.session.commit()
    c = app.test_client()
    auth.login(c, "officer")
    att = c.post(f"/api/v1/exams/{exam_id}/attempts").get_json()["attempt"]
    q = att["questions"][0]
    key = [q["options"][0]["key"]] if q["options"] else ["x"]
    resp = c.put(f"/api/v1/attempts/{att['id']}/answers/{q['id']}",
                 json={"answer": key, "role": "admin", "unit_id": city.root, "is_active": False, "score": 100})
    assert resp.status_code == 200
    with app.app_context():
        me = db.session.get(User, city.users["officer"])
        assert (me.role, me.unit_id, me.is_active) == ("officer", city.station_a1, True)
    grep = subprocess.run(["git", "grep", "-n", "populate_obj", "--", "app"], cwd=ROOT, capture_output=True, text=True)
    assert grep.stdout == ""


def test_e24_save_seventy_minutes_after_page_load(make_app, city, clock, auth):
    """E24: with CSRF on, a save 70 minutes after the page loaded succeeds (token lives with the session)."""
    from app.exams import services

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_bank(db.session)
        exam = services.create_weekly_exam(db.session, "2026-W11", clock.now)[0]
        officer = db.session.get(User, city.users["officer"])
        supervisor = db.session.get(User, city.users["supervisor"])
        grants.grant(db.session, exam, officer, "extra_time", 60, "出警", supervisor, clock.now)
        exam_id = exam.id
        db.session.commit()
    c = app.test_client()
    token = csrf_of(c, "/login")
    c.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token})
    page_token = csrf_of(c, "/exams/")
    att = c.post(f"/api/v1/exams/{exam_id}/attempts", headers={"X-CSRFToken": page_token}).get_json()["attempt"]
    for _ in range(70):
        clock.advance(minutes=1)
        if _ % 4 == 0:
            c.get(f"/api/v1/attempts/{att['id']}")  # the page's periodic re-sync
    q = att["questions"][0]
    key = [q["options"][0]["key"]] if q["options"] else ["x"]
    resp = c.put(f"/api/v1/attempts/{att['id']}/answers/{q['id']}", json={"answer": key},
                 headers={"X-CSRFToken": page_token})
    assert resp.status_code == 200
