"""S2: heartbeats arriving at the same instant from several writer processes are credited once.

Each process builds its own app on the same database (a real SQLite file, and PostgreSQL when
available), logs in as the same officer, waits at a barrier and sends one beat at the same
frozen server instant (QUALITY §6 item 4).
"""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import StudyBeat, StudyDay
from tests.factories import PASSWORD
from tests.test_study_credit import beat, logged_in, make_item

WRITERS = 4


def _writer(database_url: str, instance: str, instant: datetime, item_id: int, barrier, results) -> None:
    from app import create_app

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_PATH": instance,
                      "CLOCK": lambda: instant})
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": PASSWORD})
    barrier.wait(timeout=30)
    resp = client.post(f"/api/v1/study/items/{item_id}/heartbeat", json={"inputs": 1})
    body = resp.get_json() or {}
    results.put((resp.status_code, body.get("credited_seconds")))
    with app.app_context():
        db.engine.dispose()


@pytest.mark.slow
def test_s2_simultaneous_beats_from_processes_credit_once(app, city, auth, clock, database_url, tmp_path):
    """S2: beats at the same instant from 4 processes on one database: one is credited, the rest get 429."""
    item = make_item(app, minutes=30)
    client = logged_in(app, auth)
    beat(client, item)  # anchors the cursor 30 s before the race
    instant = clock.now + timedelta(seconds=30)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(database_url, str(tmp_path), instant, item, barrier, results))
             for _ in range(WRITERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sorted(status for status, _ in outcomes) == [200] + [429] * (WRITERS - 1), outcomes
    assert [credit for status, credit in outcomes if status == 200] == [30]
    with app.app_context():
        assert db.session.scalar(select(func.sum(StudyDay.seconds))) == 30
        assert db.session.scalar(select(func.count(StudyBeat.id))) == 2
