"""CSRF on every write, JSON included (QUALITY A18, §6.1). This module runs with CSRF on."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import Base
from tests.conftest import csrf_of
from tests.factories import PASSWORD
from tests.test_access import fill, rules

WRITE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def login(client) -> None:
    token = csrf_of(client, "/login")
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302


def snapshot(app) -> dict:
    with app.app_context():
        conn = db.session.connection()
        rows = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables}
        db.session.rollback()
        return rows


def test_a18_login_needs_token(app, city):
    """A18: POST /login without csrf_token gets 400 and no session."""
    client = app.test_client()
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_a18_every_write_without_token_is_refused(app, city):
    """A18: every POST/PUT/DELETE without a token (or with a wrong one) gets 400 and changes nothing."""
    client = app.test_client()
    login(client)
    before = snapshot(app)
    checked = 0
    for rule, method in rules(app):
        if method not in WRITE:
            continue
        path = fill(rule, city)
        for headers in ({}, {"X-CSRFToken": "forged"}):
            resp = client.open(path, method=method, data={"name": "x"}, headers=headers)
            assert resp.status_code == 400, f"{method} {path} {headers}"
            if path.startswith("/api/"):
                assert resp.get_json()["error"]["code"] == "csrf_failed"
        checked += 1
    assert checked >= 5
    assert snapshot(app) == before
    assert client.get("/api/v1/me").status_code == 200  # still logged in: logout was refused too


def test_a18_right_token_works_and_outlives_an_hour(app, city, clock):
    """A18/E24: the page's token works, also more than 3600 s after the page was loaded."""
    client = app.test_client()
    login(client)
    token = csrf_of(client)
    for _ in range(70):
        clock.advance(minutes=1)
        client.get("/api/v1/me")  # activity keeps the session
    resp = client.post("/logout", headers={"X-CSRFToken": token})
    assert resp.status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_pages_carry_csrf_meta(app, city):
    """Every page carries <meta name="csrf-token"> for its scripts."""
    client = app.test_client()
    assert csrf_of(client, "/login")
    login(client)
    for path in ("/me", "/reports/", "/admin/", "/admin/users", "/account/password", "/admin/questions/"):
        assert csrf_of(client, path), path
