"""Faults the platform survives: L7 (sweeper down), L10 (storage unavailable), L11 (backup and
restore), L12 (login failures counted across workers)."""
from __future__ import annotations

import concurrent.futures as cf
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import db
from app.models import LoginThrottle, Unit, User


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


def test_l7_sweeper_down_deadline_still_enforced(app, city, clock, auth):
    """L7: with the sweeper down, late saves are refused, reports say pending, and the late sweep finishes at the deadline."""
    from app.exams import services
    from app.models import Attempt, AttemptQuestion
    from app.reports.queries import unit_rows
    from tests.factories import make_bank

    with app.app_context():
        make_bank(db.session)
        exam, _ = services.create_weekly_exam(db.session, "2026-W11", clock.now)
        db.session.commit()
        exam_id = exam.id
    client = app.test_client()
    auth.login(client, "officer")
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts").get_json()["attempt"]
    q = next(q for q in attempt["questions"] if q["type"] != "fill")
    url = f"/api/v1/attempts/{attempt['id']}/answers/{q['id']}"
    assert client.put(url, json={"answer": [q["options"][0]["key"]]}).status_code == 200

    # The deadline passes and no sweeper runs: the per-request check is the guard.
    for _ in range(9):
        clock.advance(minutes=4)
        client.get("/api/v1/me")  # the exam page's periodic sync keeps the session alive
    late = client.put(url, json={"answer": [q["options"][-1]["key"]]})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "deadline_passed"
    with app.app_context():
        row = db.session.get(Attempt, attempt["id"])
        assert row.status == "in_progress"  # nobody has finished it yet
        root = next(r for r in unit_rows(db.session, "2026-W11", clock.now) if r.parent_id is None)
        assert root.exam_pending == 1  # shown as pending, not as 0 and not as missing

    # The sweeper comes back (the operator's `flask exam sweep`): finished at the deadline, once.
    result = app.test_cli_runner().invoke(args=["exam", "sweep"])
    assert result.exit_code == 0 and "finished 1 " in result.output
    again = app.test_cli_runner().invoke(args=["exam", "sweep"])
    assert "finished 0 " in again.output
    with app.app_context():
        row = db.session.get(Attempt, attempt["id"])
        assert (row.status, row.finish_reason) == ("finished", "deadline")
        assert row.finished_at == row.deadline and row.score is not None
        stored = db.session.scalar(select(AttemptQuestion.answer).where(AttemptQuestion.attempt_id == attempt["id"],
                                                                       AttemptQuestion.question_version_id == q["id"]))
        assert stored == [q["options"][0]["key"]]  # the acknowledged answer, not the refused late one
        root = next(r for r in unit_rows(db.session, "2026-W11", clock.now) if r.parent_id is None)
        assert root.exam_pending == 0


@pytest.mark.slow
def test_l12_lockout_counted_across_four_workers(app, city, database_url, tmp_path):
    """L12: 100 failed logins spread over 4 gunicorn workers pause every account at exactly the configured count, none lost."""
    from tests.factories import PASSWORD, make_user
    from tests.test_durability import _port

    per_account = app.config["LOGIN_PAIR_FAILURES"]
    accounts = [f"l12_{i:02d}" for i in range(100 // per_account)]
    with app.app_context():
        unit = db.session.get(User, city.users["officer"]).unit
        for name in accounts:
            make_user(db.session, name, unit)
        db.session.commit()

    port, root = _port(), Path(__file__).resolve().parent.parent
    access = tmp_path / "access.log"
    env = dict(os.environ, APP_ENV="development", SECRET_KEY=secrets.token_urlsafe(40), DATABASE_URL=database_url,
               INSTANCE_PATH=str(tmp_path), HOST="127.0.0.1", PORT=str(port))
    server = subprocess.Popen([str(Path(sys.prefix) / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
                               "--workers", "4", "--access-logfile", str(access), "--access-logformat", "%(p)s %(r)s %(s)s",
                               "wsgi:app"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def attempt_login(username, password):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
        with opener.open(base + "/login", timeout=30) as resp:
            token = re.search(r'name="csrf-token" content="([^"]+)"', resp.read().decode()).group(1)
        form = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
        req = urllib.request.Request(base + "/login", data=form, method="POST")
        try:
            with opener.open(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code

    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                assert time.time() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.2)
        wrong = [(name, "wrong-password-123") for name in accounts for _ in range(per_account)]
        with cf.ThreadPoolExecutor(8) as pool:
            failed = list(pool.map(lambda a: attempt_login(*a), wrong))
        with cf.ThreadPoolExecutor(8) as pool:
            right = list(pool.map(lambda name: attempt_login(name, PASSWORD), accounts))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    assert len(failed) == 100 and set(failed) == {200}  # "wrong username or password", counted
    assert right == [429] * len(accounts)  # paused from this address: even the right password is refused
    pids = {line.split()[0] for line in access.read_text().splitlines() if "POST /login" in line}
    assert len(pids) >= 2, pids  # the failures really were spread over several workers
    with app.app_context():
        rows = {(r.kind, r.key): r for r in db.session.scalars(select(LoginThrottle))}
    assert all(rows[("pair", f"{name}|127.0.0.1")].blocked_until is not None for name in accounts)
    # Per (account, address), per account and per address (one hot row): none may be lost (A35).
    assert {name: rows[("pair", f"{name}|127.0.0.1")].failures for name in accounts} == dict.fromkeys(accounts, per_account)
    assert {name: rows[("account", name)].failures for name in accounts} == dict.fromkeys(accounts, per_account)
    assert rows[("address", "127.0.0.1")].failures == len(wrong) + len(right)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
