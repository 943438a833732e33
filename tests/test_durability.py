"""E11: answers acknowledged with 200 survive a kill -9 of the web server (no 200 before COMMIT)."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db
from app.exams import grants, services
from app.models import AttemptQuestion, Exam
from app.timeutils import utcnow, week_key
from tests.factories import PASSWORD, make_bank

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(database_url: str, port: int, tmp: Path, secret: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, APP_ENV="development", SECRET_KEY=secret or secrets.token_urlsafe(40), DATABASE_URL=database_url,
               INSTANCE_PATH=str(tmp), HOST="127.0.0.1", PORT=str(port))
    gunicorn = str(Path(sys.prefix) / "bin" / "gunicorn")
    proc = subprocess.Popen([gunicorn, "--config", "gunicorn.conf.py", "--workers", "2", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


class Client:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""

    def call(self, method, path, body=None, form=None):
        data, headers = None, {"X-CSRFToken": self.token}
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with self.opener.open(req, timeout=10) as resp:
            return resp.status, resp.read().decode()

    def login(self, username):
        _, page = self.call("GET", "/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.call("POST", "/login", form={"username": username, "password": PASSWORD, "csrf_token": token})
        _, page = self.call("GET", "/exams/")
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _open_exam(app) -> int:
    """This week's exam, built from a small bank and open from an hour ago for two hours."""
    with app.app_context():
        make_bank(db.session)
        now = utcnow()
        exam, _ = services.create_weekly_exam(db.session, week_key(now), now)
        exam.opens_at, exam.closes_at = now - timedelta(hours=1), now + timedelta(hours=2)
        db.session.commit()
        return exam.id


def test_e11_acknowledged_answers_survive_kill_9(app, city, database_url, tmp_path):
    """E11: every answer acknowledged before the server is killed with SIGKILL is there after restart."""
    exam_id = _open_exam(app)
    port = _port()
    server = _serve(database_url, port, tmp_path)
    try:
        client = Client(f"http://127.0.0.1:{port}")
        client.login("officer")
        status, body = client.call("POST", f"/api/v1/exams/{exam_id}/attempts")
        attempt = json.loads(body)["attempt"]
        acknowledged = {}
        for i, q in enumerate(attempt["questions"]):
            answer = ["忠诚"] if q["type"] == "fill" else [q["options"][i % len(q["options"])]["key"]]
            status, _ = client.call("PUT", f"/api/v1/attempts/{attempt['id']}/answers/{q['id']}", body={"answer": answer})
            if status == 200:
                acknowledged[q["id"]] = answer
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    assert len(acknowledged) == len(attempt["questions"])
    server = _serve(database_url, port, tmp_path)  # restart on the same database: recovery runs
    try:
        with app.app_context():
            stored = {r.question_version_id: r.answer for r in db.session.scalars(
                select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt["id"]))}
        assert {qid: stored[qid] for qid in acknowledged} == acknowledged
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_l6_restart_during_live_exam_keeps_answers_and_clock(app, city, database_url, tmp_path):
    """L6: a restart mid-exam loses no acknowledged answer, never resets remaining_seconds, and the attempt resumes."""
    from app.models import AuditLog, User

    exam_id = _open_exam(app)
    port, secret = _port(), secrets.token_urlsafe(40)  # the new release keeps the deployment's key
    server = _serve(database_url, port, tmp_path, secret)
    try:
        client = Client(f"http://127.0.0.1:{port}")
        client.login("officer")
        _, body = client.call("POST", f"/api/v1/exams/{exam_id}/attempts")
        attempt = json.loads(body)["attempt"]
        questions = attempt["questions"]
        half = len(questions) // 2
        acknowledged = {}
        for i, q in enumerate(questions[:half]):
            answer = ["忠诚"] if q["type"] == "fill" else [q["options"][i % len(q["options"])]["key"]]
            status, saved = client.call("PUT", f"/api/v1/attempts/{attempt['id']}/answers/{q['id']}",
                                        body={"answer": answer})
            if status == 200:
                acknowledged[q["id"]] = answer
                before = json.loads(saved)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # a deploy: graceful stop, then the new release starts
        server.wait(timeout=30)
    assert len(acknowledged) == half
    time.sleep(2)
    server = _serve(database_url, port, tmp_path, secret)
    try:
        _, body = client.call("GET", f"/api/v1/attempts/{attempt['id']}")  # the same browser session
        resumed = json.loads(body)["attempt"]
        assert resumed["status"] == "in_progress" and resumed["deadline"] == before["deadline"]
        assert resumed["remaining_seconds"] < before["remaining_seconds"]  # it kept falling, no reset
        assert {q["id"]: q["answer"] for q in resumed["questions"] if q["id"] in acknowledged} == acknowledged
        _, body = client.call("POST", f"/api/v1/exams/{exam_id}/attempts")  # 开始考试 again resumes, never restarts
        assert json.loads(body)["attempt"]["id"] == attempt["id"]
        for i, q in enumerate(questions[half:], half):
            answer = ["忠诚"] if q["type"] == "fill" else [q["options"][i % len(q["options"])]["key"]]
            status, _ = client.call("PUT", f"/api/v1/attempts/{attempt['id']}/answers/{q['id']}",
                                    body={"answer": answer})
            assert status == 200
            acknowledged[q["id"]] = answer

        # After a long outage an administrator extends the deadline: an audited grant, not a reset.
        with app.app_context():
            officer = db.session.scalar(select(User).where(User.username == "officer"))
            supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
            grants.grant(db.session, db.session.get(Exam, exam_id), officer, "extra_time", 15, "服务中断",
                           supervisor, utcnow())
            db.session.commit()
            assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "exam.grant_extra_time")) is not None
        _, body = client.call("GET", f"/api/v1/attempts/{attempt['id']}")
        extended = json.loads(body)["attempt"]
        assert extended["remaining_seconds"] > resumed["remaining_seconds"] + 14 * 60
        status, body = client.call("POST", f"/api/v1/attempts/{attempt['id']}/submit", body={})
        assert status == 200 and json.loads(body)["attempt"]["status"] == "finished"
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    with app.app_context():
        stored = {r.question_version_id: r.answer for r in db.session.scalars(
            select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt["id"]))}
    assert stored == acknowledged
