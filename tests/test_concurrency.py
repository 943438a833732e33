"""Real writers in several processes on one database (QUALITY §6.4): L2, L3, E8.

Each process builds its own app on the same SQLite file (or PostgreSQL database), as gunicorn
workers and a stray second scheduler would.
"""
from __future__ import annotations

import multiprocessing as mp
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.db import db
from app.exams import services
from app.models import Attempt, AttemptQuestion, Exam
from tests.factories import PASSWORD, make_bank, make_user

pytestmark = pytest.mark.slow
NOW = datetime(2026, 3, 9, 2, 0, 0)
WEEK = "2026-W11"


def _app(url):
    from app import create_app

    return create_app({"APP_ENV": "testing", "DATABASE_URL": url, "CLOCK": lambda: NOW})


def _saver(url, username, attempt_id, saves, barrier, out):
    app = _app(url)
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    paper = client.get(f"/api/v1/attempts/{attempt_id}").get_json()["attempt"]["questions"]
    choices = [q for q in paper if q["type"] in ("single", "truefalse")]
    barrier.wait()
    statuses = []
    for i in range(saves):
        q = choices[i % len(choices)]
        key = q["options"][i % len(q["options"])]["key"]
        resp = client.put(f"/api/v1/attempts/{attempt_id}/answers/{q['id']}", json={"answer": [key], "seq": i + 1})
        statuses.append(resp.status_code)
    out.put((username, statuses))


def _weekly(url, barrier, out):
    from app.exams.jobs import ensure_weekly_exam

    app = _app(url)
    barrier.wait()
    with app.app_context():
        result = ensure_weekly_exam(db.session, NOW)
        db.session.commit()
    out.put(result)


def _starter(url, username, exam_id, barrier, out):
    app = _app(url)
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    barrier.wait()
    resp = client.post(f"/api/v1/exams/{exam_id}/attempts")
    out.put((resp.status_code, resp.get_json()["attempt"]["id"]))


def _run(target, args_list):
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(args_list)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, out)) for args in args_list]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


@pytest.fixture
def setup(app, database_url):
    with app.app_context():
        make_bank(db.session)
        from app.models import Unit
        root = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
        if root is None:
            from tests.factories import make_unit
            root = make_unit(db.session, "测试市")
        names = [f"writer{i}" for i in range(8)]
        for name in names:
            make_user(db.session, name, root)
        exam, _ = services.create_weekly_exam(db.session, WEEK, NOW)
        db.session.commit()
        return database_url, exam.id, names


def test_l2_eight_processes_save_without_loss(app, setup):
    """L2: 8 processes × 200 saves on one database: every save answered 200, every one kept, no lock errors."""
    url, exam_id, names = setup
    with app.app_context():
        from app.models import User
        attempts = {}
        for name in names:
            user = db.session.scalar(select(User).where(User.username == name))
            attempts[name] = services.start_or_resume(db.session, db.session.get(Exam, exam_id), user, NOW)[0].id
        db.session.commit()
    results = _run(_saver, [(url, name, attempts[name], 200) for name in names])
    for name, statuses in results:
        assert statuses == [200] * 200, name
    with app.app_context():
        for name in names:
            attempt = db.session.get(Attempt, attempts[name])
            assert attempt.seq == 200
            newest = db.session.scalar(select(func.max(AttemptQuestion.answer_seq)).where(
                AttemptQuestion.attempt_id == attempt.id))
            assert newest == 200


def test_l3_concurrent_weekly_jobs_build_one_exam(app, database_url):
    """L3: four processes running the weekly job at once build exactly one exam."""
    with app.app_context():
        make_bank(db.session)
        db.session.commit()
    results = _run(_weekly, [(database_url,)] * 4)
    assert sorted(results) == ["created", "exists", "exists", "exists"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Exam.id))) == 1


def test_e8_concurrent_starts_one_attempt(app, setup):
    """E8: the same officer starting from four processes at once gets one attempt."""
    url, exam_id, names = setup
    results = _run(_starter, [(url, names[0], exam_id)] * 4)
    assert len({attempt_id for _, attempt_id in results}) == 1
    assert sorted(status for status, _ in results) == [200, 200, 200, 201]
    with app.app_context():
        assert db.session.scalar(select(func.count(Attempt.id))) == 1
