"""Faults the platform survives: L10 (storage unavailable), L11 (backup and restore)."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import db
from app.models import Unit, User


def test_l10_failed_commit_answers_503(app, city, auth, monkeypatch):
    """L10: when the database refuses the write (disk full, read-only), the API answers 503, never 200."""
    client = app.test_client()
    auth.login(client, "officer")

    def refuse(self):
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(Session, "commit", refuse)
    resp = client.post("/logout", headers={"Accept": "application/json"})
    assert resp.status_code == 503
    resp = client.put("/api/v1/attempts/1/answers/1", json={"answer": ["A"]})
    assert resp.status_code in (404, 503)
    monkeypatch.undo()


def test_l10_api_503_is_json(make_app, city, auth, monkeypatch):
    """L10: the 503 from the API is JSON with code "unavailable" so the page keeps its local copy."""
    from app.auth.access import signed_in

    app = make_app()

    @signed_in
    def write():
        raise OperationalError("INSERT", {}, Exception("attempt to write a readonly database"))

    app.add_url_rule("/api/v1/_write", "write_probe", write, methods=["POST"])
    client = app.test_client()
    auth.login(client, "officer")
    resp = client.post("/api/v1/_write")
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "unavailable"


def test_l11_backup_and_restore_drill(app, city, tmp_path, database_url):
    """L11: `flask backup` makes a consistent copy that passes integrity_check with the same row counts."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL backup uses pg_dump; see test_l11_pg_dump")
    target = tmp_path / "backup" / "copy.db"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("units", "users")}  # noqa: S608
    conn.close()
    with app.app_context():
        assert copied == {"units": db.session.scalar(select(func.count(Unit.id))),
                          "users": db.session.scalar(select(func.count(User.id)))}
    again = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "exists" in again.output
