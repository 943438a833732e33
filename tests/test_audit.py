"""Audit trail and log hygiene: QUALITY A31, A32."""
from __future__ import annotations

import logging

from sqlalchemy import select

from app.db import db
from app.models import AuditLog
from tests.factories import PASSWORD


def test_a31_denied_access_is_audited(app, client, city, auth):
    """A31: a 403 writes one audit row naming the endpoint."""
    auth.login(client, "officer")
    assert client.get("/admin/users").status_code == 403
    with app.app_context():
        rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "access.denied")).all()
    assert len(rows) == 1 and rows[0].target_id == "admin.users" and rows[0].ip == "127.0.0.1"


def test_a31_role_change_audited_with_before_after(app, client, city, auth):
    """A31: a role change writes before and after values."""
    auth.login(client, "admin")
    uid = city.users["officer_b"]
    resp = client.post(f"/admin/users/{uid}", data={"name": "officer_b", "unit_id": city.station_b1,
                                                     "role": "supervisor", "is_active": "y", "badge_no": "B1007"})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
    assert row.before["role"] == "officer" and row.after["role"] == "supervisor"


def test_a31_logs_hold_no_password(app, client, city, auth, caplog):
    """A31: neither the log nor the audit trail holds the password or the cookie."""
    caplog.set_level(logging.DEBUG)
    auth.login(client, "officer", "my secret attempt 1")
    auth.login(client, "officer")
    cookie = client.get_cookie("session").value
    text = caplog.text
    assert "my secret attempt 1" not in text and PASSWORD not in text and cookie not in text
    with app.app_context():
        dumped = repr([(r.before, r.after, r.detail) for r in db.session.scalars(select(AuditLog))])
    assert "my secret attempt 1" not in dumped and PASSWORD not in dumped


def test_a32_forged_log_line_is_escaped(app, client, city, auth, caplog):
    """A32: a username with a newline is logged escaped, on one line."""
    caplog.set_level(logging.INFO, logger="audit")
    auth.login(client, "x\n[ADMIN] granted", "whatever-pass")
    lines = [r.getMessage() for r in caplog.records if r.name == "audit"]
    assert any("\\x0a[ADMIN] granted" in line for line in lines)
    assert not any("\n" in line for line in lines)
