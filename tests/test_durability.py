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
from app.exams import services
from app.models import AttemptQuestion, Exam
from app.timeutils import utcnow, week_key
from tests.factories import PASSWORD, make_bank

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(database_url: str, port: int, tmp: Path) -> subprocess.Popen:
    env = dict(os.environ, APP_ENV="development", SECRET_KEY=secrets.token_urlsafe(40), DATABASE_URL=database_url,
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


def test_e11_acknowledged_answers_survive_kill_9(app, city, database_url, tmp_path):
    """E11: every answer acknowledged before the server is killed with SIGKILL is there after restart."""
    with app.app_context():
        make_bank(db.session)
        now = utcnow()
        exam, _ = services.create_weekly_exam(db.session, week_key(now), now)
        exam.opens_at, exam.closes_at = now - timedelta(hours=1), now + timedelta(hours=2)
        db.session.commit()
        exam_id = exam.id
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
