"""Scale-out on PostgreSQL (issue 7; QUALITY L3, L4, L7, E6): two web hosts and two schedulers
started by mistake on one database still build one exam per week and finish each overdue
attempt exactly once.

Everything runs as real processes against a real PostgreSQL server: two gunicorn servers (the
two web hosts, two workers each), two ``flask scheduler`` processes started at the same moment,
and on each host an operator running ``flask exam create-weekly`` and ``flask exam sweep`` by
hand, while the officers press 交卷 on both hosts at once. These processes read the real clock
(the scheduler and the CLI take ``utcnow()``), so the data is laid out relative to now: last
week's attempts are overdue, and this week's exam does not exist yet.
"""
from __future__ import annotations

import concurrent.futures as cf
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
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from app import create_app
from app.db import db
from app.exams import queries, services
from app.models import Attempt, AttemptQuestion, AuditLog, Exam, User
from app.timeutils import utcnow, week_key
from tests.factories import PASSWORD, build_city, make_bank, make_user

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"
pytestmark = pytest.mark.slow

LATE_OFFICERS = 24  # attempts left open last week, past their deadline, with real papers
SUBMITTERS = 8  # of them, officers who press 交卷 on both hosts while the sweepers run
BULK_LATE = 1500  # more overdue attempts (copies of one paper), so that the sweepers overlap


@pytest.fixture
def pg_url(pg_template):
    """A freshly migrated PostgreSQL database (conftest fails instead of skipping when CI=true)."""
    if pg_template is None:
        pytest.skip("no PostgreSQL server on this machine")
    name = f"scale_{uuid.uuid4().hex[:10]}"
    with pg_template.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE platform_template'))
    url = pg_template.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with pg_template.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url: str, tmp: Path, secret: str, **extra) -> dict:
    env = dict(os.environ, APP_ENV="development", SECRET_KEY=secret, DATABASE_URL=url, INSTANCE_PATH=str(tmp),
               **extra)
    env.pop("FLASK_DEBUG", None)
    return env


def _spawn(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log
    return proc


def _web_host(url: str, tmp: Path, secret: str, name: str) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = _spawn([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2", "wsgi:app"],
                  _env(url, tmp, secret, HOST="127.0.0.1", PORT=str(port)), tmp / f"{name}.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return proc, base
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not start:\n{(tmp / f'{name}.log').read_text(errors='replace')[-2000:]}")


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class Browser:
    """One officer's browser; the session cookie is valid on every host (sessions live in the database)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""

    def call(self, base, method, path, body=None, form=None):
        data, headers = None, {"X-CSRFToken": self.token, "Accept": "application/json"}
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def login(self, base, username):
        _, page = self.call(base, "GET", "/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.call(base, "POST", "/login", form={"username": username, "password": PASSWORD, "csrf_token": token})
        _, page = self.call(base, "GET", "/exams/")
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _seed(url: str, tmp: Path) -> dict:
    """A small city, a bank, last week's exam with LATE_OFFICERS attempts left open past their
    deadline (half of the answers saved), and no exam for this week."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": str(tmp)})
    now = utcnow()
    with app.app_context():
        s = db.session
        city = build_city(s, now)
        make_bank(s)
        station = s.get(User, city.users["officer"]).unit
        late = [make_user(s, f"late{i:02d}", station) for i in range(LATE_OFFICERS)]
        last_week = week_key(now - timedelta(days=7))
        exam, _ = services.create_weekly_exam(s, last_week, now - timedelta(days=7))
        s.flush()
        sat_at = exam.opens_at + timedelta(hours=2)
        attempts = {}
        for i, user in enumerate(late):
            attempt, created = services.start_or_resume(s, exam, user, sat_at)
            assert created
            s.flush()
            attempts[user.username] = attempt.id
            paper = queries.attempt_json(s, attempt, sat_at, False)["questions"]
            for q in paper[: len(paper) // 2]:
                answer = ["忠诚"] if q["type"] == "fill" else [q["options"][i % len(q["options"])]["key"]]
                services.save_answer(s, attempt, q["id"], answer, None, sat_at + timedelta(minutes=1))
        # The bulk: officers and overdue attempts inserted directly, each with a copy of one paper.
        first = s.get(Attempt, attempts["late00"])
        template = list(s.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == first.id)))
        s.execute(insert(User), [{"username": f"bulk{i:05d}", "name": f"bulk{i:05d}", "unit_id": station.id,
                                  "role": "officer", "password_hash": late[0].password_hash}
                                 for i in range(BULK_LATE)])
        bulk_users = list(s.scalars(select(User.id).where(User.username.like("bulk%")).order_by(User.id)))
        bulk_ids = list(s.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True), [
            {"exam_id": exam.id, "user_id": uid, "attempt_no": 1, "seed": i, "status": "in_progress",
             "started_at": first.started_at, "deadline": first.deadline, "seq": 0} for i, uid in enumerate(bulk_users)]))
        s.execute(insert(AttemptQuestion), [
            {"attempt_id": aid, "position": q.position, "question_version_id": q.question_version_id,
             "points": q.points, "option_map": q.option_map, "answer": q.answer, "answer_seq": q.answer_seq,
             "answered_at": q.answered_at} for aid in bulk_ids for q in template])
        s.commit()
        this_week = week_key(now)
        assert s.scalar(select(func.count(Exam.id)).where(Exam.week == this_week)) == 0
        assert all(s.get(Attempt, a).deadline < now - timedelta(hours=1) for a in attempts.values())
    with app.app_context():
        db.engine.dispose()
    return {"attempts": attempts, "bulk": bulk_ids, "last_week": last_week, "this_week": this_week,
            "last_exam": exam.id}


def test_l3_l4_two_web_hosts_and_two_schedulers_on_postgresql(pg_url, tmp_path):
    """L3/L4/E6 on PostgreSQL: 2 web hosts + 2 schedulers by mistake → one exam a week, each overdue attempt finished once."""
    data = _seed(pg_url, tmp_path)
    secret = secrets.token_urlsafe(40)
    procs: list[subprocess.Popen] = []
    try:
        (host_a, base_a), (host_b, base_b) = (_web_host(pg_url, tmp_path, secret, "web-a"),
                                              _web_host(pg_url, tmp_path, secret, "web-b"))
        procs += [host_a, host_b]
        submitters = sorted(data["attempts"])[:SUBMITTERS]
        browsers = {u: Browser() for u in submitters}
        for i, u in enumerate(submitters):
            browsers[u].login(base_a if i % 2 else base_b, u)

        # Everything at once: two schedulers (each runs its catch-up: build this week's exam and
        # sweep), the same two jobs by hand on each host, and 交卷 on both hosts.
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        env = _env(pg_url, tmp_path, secret)
        schedulers = [_spawn(flask + ["scheduler"], env, tmp_path / f"scheduler-{i}.log") for i in (1, 2)]
        procs += schedulers
        by_hand = [_spawn(flask + ["exam", job], env, tmp_path / f"{job}-{host}.log")
                   for host in ("a", "b") for job in ("create-weekly", "sweep")]
        procs += by_hand

        def submit(job):
            user, base, delay = job
            time.sleep(delay)  # spread over the seconds in which the processes start and sweep
            return browsers[user].call(base, "POST", f"/api/v1/attempts/{data['attempts'][user]}/submit", body={})

        jobs = [(u, base, 0.5 + 0.4 * i) for i, u in enumerate(submitters) for base in (base_a, base_b)]
        with cf.ThreadPoolExecutor(len(jobs)) as pool:
            answers = list(pool.map(submit, jobs))
        for proc in by_hand:
            assert proc.wait(timeout=120) == 0, proc.log.read_text()[-3000:]

        # One scheduler runs; the other one refused to start (advisory lock) and said so.
        deadline = time.time() + 120
        while time.time() < deadline and all(p.poll() is None for p in schedulers):
            time.sleep(0.2)
        exited = [p for p in schedulers if p.poll() is not None]
        running = [p for p in schedulers if p.poll() is None]
        assert len(exited) == 1 and len(running) == 1
        refused = exited[0].log.read_text()
        assert exited[0].returncode != 0 and "not starting a second scheduler" in refused
        log = running[0].log
        while time.time() < deadline and "scheduler started with" not in log.read_text():
            assert running[0].poll() is None, log.read_text()[-3000:]
            time.sleep(0.3)
        assert "scheduler started with" in log.read_text(), log.read_text()[-3000:]
    finally:
        for proc in procs:
            _stop(proc)

    for status, body in answers:
        assert status == 200, body
        assert json.loads(body)["attempt"]["status"] == "finished"

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": pg_url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        s = db.session
        weeks = Counter(s.scalars(select(Exam.week)))
        assert weeks == {data["last_week"]: 1, data["this_week"]: 1}
        this_exam = s.scalar(select(Exam.id).where(Exam.week == data["this_week"]))
        created = s.scalars(select(AuditLog.target_id).where(AuditLog.action == "exam.create")).all()
        assert Counter(created)[str(this_exam)] == 1 and len(created) == 2

        ids = sorted([*data["attempts"].values(), *data["bulk"]])
        rows = s.execute(select(Attempt.id, Attempt.status, Attempt.finish_reason, Attempt.finished_at,
                                Attempt.deadline, Attempt.score).where(Attempt.id.in_(ids))).all()
        assert len(rows) == LATE_OFFICERS + BULK_LATE
        for attempt_id, status, reason, finished_at, attempt_deadline, score in rows:
            assert (status, reason) == ("finished", "deadline"), attempt_id
            assert finished_at == attempt_deadline and score is not None, attempt_id
        finishes = Counter(s.scalars(select(AuditLog.target_id).where(AuditLog.action == "attempt.finish",
                                                                      AuditLog.target_type == "attempt")))
        assert {int(k): v for k, v in finishes.items()} == {i: 1 for i in ids}
        db.engine.dispose()
