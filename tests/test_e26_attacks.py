"""Regression tests for the attacks on the key rule, practice and grants (QUALITY E2, E15, E26, E27).

Each test reproduces a finding of the security review of app/exams/keys.py, practice.py and the
grants; each failed on the code it was found in (checked) and passes since its fix. The clock walks through 2026-W11 as in tests/test_exam_keys.py.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db
from app.models import Attempt, AttemptQuestion, Exam, ExamGrant, QuestionVersion
from tests.conftest import csrf_of
from tests.factories import make_bank
from tests.test_exam_keys import (CLOSE, NEXT, WEEK, bank_and_exam, create_exam, local, pool_questions,
                                  practice_set, secret_of, signed_in, start, user_id)

#: Exactly three papers of the default blueprint: the week's pool is the whole bank.
POOL_SIZED_BANK = {"single": 30, "multiple": 15, "truefalse": 15, "fill": 9}


def _paper(app, attempt_id) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(QuestionVersion.question_id).join(
            AttemptQuestion, AttemptQuestion.question_version_id == QuestionVersion.id)
            .where(AttemptQuestion.attempt_id == attempt_id)))


def _shown(body: str, secrets_: dict[int, str], question_ids) -> set[int]:
    return {q for q in question_ids if secrets_[q] in body}


def _reply(q) -> list[str]:
    return ["甲"] if q["type"] == "fill" else [q["options"][0]["key"]]


def _grant_form(client, exam_id, officer_id, kind, minutes="0", ends_at=""):
    return client.post("/admin/exams/grants", data={
        "csrf_token": csrf_of(client, "/admin/exams/grants"), "user_id": officer_id, "exam_id": exam_id,
        "kind": kind, "minutes": minutes, "ends_at": ends_at, "reason": "执勤"})


def test_e15_after_submit_practice_shows_no_key_outside_own_paper(make_app, city, clock, auth):
    """E15: under after_submit a finished officer's 每日一练 never shows the key of a pool question outside their own paper while colleagues still write."""
    app = make_app(EXAM_REVEAL_POLICY="after_submit")
    exam_id = bank_and_exam(app, POOL_SIZED_BANK)
    secrets_, pool = secret_of(app), pool_questions(app, exam_id)
    clock.now = local(10, 9)
    start(signed_in(app, auth, "officer_b"), exam_id)  # a colleague still writing
    officer = signed_in(app, auth, "officer")
    mine = start(officer, exam_id)
    assert officer.post(f"/api/v1/attempts/{mine['id']}/submit").status_code == 200
    others = pool - _paper(app, mine["id"])
    shown = set()
    for q in practice_set(officer)["questions"]:
        resp = officer.post(f"/api/v1/practice/{q['id']}/answer", json={"answer": _reply(q)})
        shown |= _shown(resp.get_data(as_text=True), secrets_, others)
    shown |= _shown(officer.get("/exams/practice").get_data(as_text=True), secrets_, others)
    assert not shown


def test_e26_practice_page_hides_keys_of_a_pool_built_after_the_set(app, city, clock, auth):
    """E26: a practice set answered before the week's exam was built (Monday 00:01, built 00:05) shows no key of that pool or of the open paper afterwards."""
    with app.app_context():
        make_bank(db.session, POOL_SIZED_BANK)
        db.session.commit()
    secrets_ = secret_of(app)
    clock.now = local(9, 0, 1)  # Monday 00:01: no exam this week yet
    officer = signed_in(app, auth, "officer")
    for q in practice_set(officer)["questions"]:
        assert officer.post(f"/api/v1/practice/{q['id']}/answer", json={"answer": _reply(q)}).status_code == 200
    exam_id = create_exam(app, WEEK, local(9, 0, 5))  # the scheduler's build at 00:05
    clock.now = local(9, 8, 30)
    officer = signed_in(app, auth, "officer")
    attempt = start(officer, exam_id)
    hidden = pool_questions(app, exam_id) | _paper(app, attempt["id"])
    assert not _shown(officer.get("/exams/practice").get_data(as_text=True), secrets_, hidden)


def test_e27_grant_on_a_released_week_is_refused_not_moved(app, city, clock, auth):
    """E27: a grant posted for a week whose keys are out (or for an unknown exam id) is refused, never applied to another week."""
    with app.app_context():
        make_bank(db.session, POOL_SIZED_BANK)
        db.session.commit()
    this_week = create_exam(app, WEEK, local(9, 0, 5))
    clock.now = local(16, 0, 5)  # Monday 00:05: last week closed and released, this week built
    next_week = create_exam(app, NEXT, clock.now)
    clock.now = local(16, 10)
    supervisor = signed_in(app, auth, "supervisor")
    officer2 = user_id(app, "officer2")
    for stale in (this_week, 999999):
        resp = _grant_form(supervisor, stale, officer2, "makeup")
        assert resp.status_code in (302, 404, 409, 422)
    with app.app_context():
        moved = db.session.scalars(select(ExamGrant).where(ExamGrant.exam_id == next_week)).all()
    assert moved == []


def test_e27_each_extra_time_ends_when_its_grant_says(app, city, clock, auth):
    """E27: 24 h of extra time ending at 23:00 does not run to the next day because another grant of 1 minute ends later."""
    exam_id = bank_and_exam(app, POOL_SIZED_BANK)
    clock.now = local(15, 21)
    supervisor = signed_in(app, auth, "supervisor")
    officer_id = user_id(app, "officer")
    assert _grant_form(supervisor, exam_id, officer_id, "extra_time", "1", "2026-03-22T22:00").status_code == 302
    assert _grant_form(supervisor, exam_id, officer_id, "extra_time", "1440", "2026-03-15T23:00").status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(ExamGrant)).all()) == 2
    clock.now = local(15, 21, 50)
    attempt = start(signed_in(app, auth, "officer"), exam_id)
    with app.app_context():
        deadline = db.session.get(Attempt, attempt["id"]).deadline
    assert deadline <= CLOSE + timedelta(hours=1, minutes=1)


def test_e2_extra_time_does_not_reopen_an_expired_attempt(app, city, clock, auth):
    """E2: after deadline + grace no save is accepted, even once a supervisor grants extra time before the sweeper has run."""
    exam_id = bank_and_exam(app, POOL_SIZED_BANK)
    clock.now = local(11, 9)
    officer = signed_in(app, auth, "officer")
    attempt = start(officer, exam_id)
    with app.app_context():
        deadline = db.session.get(Attempt, attempt["id"]).deadline
    clock.now = deadline + timedelta(minutes=1)  # past deadline + grace; the sweeper has not taken it yet
    supervisor = signed_in(app, auth, "supervisor")
    grant = _grant_form(supervisor, exam_id, user_id(app, "officer"), "extra_time", "30")
    assert grant.status_code == 302
    officer = signed_in(app, auth, "officer")
    q = attempt["questions"][0]
    save = officer.put(f"/api/v1/attempts/{attempt['id']}/answers/{q['id']}", json={"answer": _reply(q)})
    assert save.status_code == 409


def test_e27_keys_not_released_while_an_answer_can_still_be_saved(app, city, clock, auth):
    """E27: at no instant are the week's keys shown to a finished officer while a colleague's answer is still accepted."""
    exam_id = bank_and_exam(app, POOL_SIZED_BANK)
    clock.now = local(10, 9)
    officer = signed_in(app, auth, "officer")
    mine = start(officer, exam_id)
    officer.post(f"/api/v1/attempts/{mine['id']}/submit")
    clock.now = local(15, 21, 45)
    colleague = signed_in(app, auth, "officer_b")
    theirs = start(colleague, exam_id)  # deadline: the close
    clock.now = CLOSE + timedelta(seconds=15)
    officer, colleague = signed_in(app, auth, "officer"), signed_in(app, auth, "officer_b")
    results = officer.get(f"/api/v1/attempts/{mine['id']}").get_json()["attempt"]["results"]
    q = theirs["questions"][0]
    save = colleague.put(f"/api/v1/attempts/{theirs['id']}/answers/{q['id']}", json={"answer": _reply(q)})
    assert not (results is not None and save.status_code == 200)
    with app.app_context():
        assert db.session.get(Exam, exam_id).closes_at == CLOSE
