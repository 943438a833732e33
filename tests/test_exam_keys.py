"""When a key may be seen, the weekly pool and 每日一练 (issue #14; QUALITY E26–E30).

The clock walks through the week of 2026-W11 (Monday 2026-03-09; the window closes Sunday
2026-03-15 22:00 Asia/Shanghai = 14:00 UTC) on both databases.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db
from app.exams import grants, keys, practice, services
from app.models import (Attempt, AttemptQuestion, Exam, ExamPoolItem, PracticeCard, Question, QuestionVersion,
                        User)
from tests.factories import make_bank

WEEK, PREVIOUS, NEXT = "2026-W11", "2026-W10", "2026-W12"
CLOSE = datetime(2026, 3, 15, 14, 0)  # Sunday 22:00 local
BIG_BANK = {"single": 40, "multiple": 20, "truefalse": 20, "fill": 12}


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A March 2026 local (Asia/Shanghai) time as naive UTC."""
    return datetime(2026, 3, day, hour, minute, second) - timedelta(hours=8)


def create_exam(app, week, now) -> int:
    with app.app_context():
        exam, _ = services.create_weekly_exam(db.session, week, now)
        db.session.commit()
        return exam.id


def bank_and_exam(app, per_type=None, week=WEEK, built=None) -> int:
    """A bank (tests/factories.make_bank) and ``week``'s exam as the scheduler builds it Monday 00:05."""
    with app.app_context():
        make_bank(db.session, per_type)
        db.session.commit()
    return create_exam(app, week, built or local(9, 0, 5))


def user_id(app, username) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def pool_questions(app, exam_id) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(ExamPoolItem.question_id).where(ExamPoolItem.exam_id == exam_id)))


def question_of(app) -> dict[int, int]:
    """Version id → question id."""
    with app.app_context():
        return dict(db.session.execute(select(QuestionVersion.id, QuestionVersion.question_id)).all())


def secret_of(app) -> dict[int, str]:
    """Question id → its explanation (each carries SECRET, see tests/factories.py)."""
    with app.app_context():
        return dict(db.session.execute(select(QuestionVersion.question_id, QuestionVersion.explanation)).all())


def signed_in(app, auth, username):
    client = app.test_client()
    auth.login(client, username)
    return client


def start(client, exam_id) -> dict:
    resp = client.post(f"/api/v1/exams/{exam_id}/attempts")
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()["attempt"]


def answer_all_wrong(app, client, attempt):
    """Save a wrong answer for every question (read from the key, as a test may). The keys are
    read first: a session held open across the requests would hold SQLite's lock."""
    wrong = {}
    with app.app_context():
        for q in attempt["questions"]:
            aq = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt["id"],
                                                                 AttemptQuestion.question_version_id == q["id"]))
            key = db.session.get(QuestionVersion, q["id"]).answer
            wrong[q["id"]] = ["错"] if q["type"] == "fill" else [next(d for d, b in aq.option_map.items()
                                                                   if b not in key)]
        db.session.rollback()
    for qid, answer in wrong.items():
        assert client.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", json={"answer": answer}).status_code == 200


def practice_set(client) -> dict:
    resp = client.get("/api/v1/practice")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def assert_no_key(resp):
    body = resp.get_data(as_text=True)
    assert resp.status_code in (404, 409), (resp.status_code, body)
    assert "error" in resp.get_json()
    assert "SECRET" not in body and "explanation" not in body and '"answer"' not in body


# --- the weekly pool -------------------------------------------------------------------------

def test_e29_weekly_pool_is_three_papers_and_papers_draw_from_it(app, city, clock, auth):
    """E29: the week's pool holds 3× each blueprint cell from the bank, fresh questions first; papers draw only from it."""
    with app.app_context():
        make_bank(db.session, BIG_BANK)
        db.session.commit()
    exam_id = create_exam(app, WEEK, clock.now)
    pool = pool_questions(app, exam_id)
    with app.app_context():
        types = dict(db.session.execute(select(Question.id, Question.qtype)).all())
    assert Counter(types[q] for q in pool) == {"single": 30, "multiple": 15, "truefalse": 15, "fill": 9}
    paper = start(signed_in(app, auth, "officer"), exam_id)
    versions = question_of(app)
    assert {versions[q["id"]] for q in paper["questions"]} <= pool and len(paper["questions"]) == 23
    # Next week's pool takes every question outside this one first.
    nxt = pool_questions(app, create_exam(app, NEXT, clock.now + timedelta(days=7)))
    assert set(types) - pool <= nxt


# --- E29: practice every day of the open week -----------------------------------------------

def test_e29_practice_every_day_while_the_exam_is_open(app, city, clock, auth):
    """E29: from Monday 07:00 to Sunday 21:59 practice offers five questions, none from the pool of an officer still to finish, none of the open paper."""
    with app.app_context():
        make_bank(db.session, BIG_BANK)
        db.session.commit()
    clock.now = local(9, 0, 10)  # Monday 00:10: the scheduler built the week's exam at 00:05
    exam_id = create_exam(app, WEEK, clock.now)
    pool, versions = pool_questions(app, exam_id), question_of(app)
    officer = signed_in(app, auth, "officer")
    moments = [local(9, 7), local(9, 8), local(10, 12), local(11, 9), local(12, 18), local(13, 23), local(14, 6),
               local(15, 21, 59)]
    for i, moment in enumerate(moments):
        clock.now = moment
        officer = signed_in(app, auth, "officer")
        today = practice_set(officer)
        assert len(today["questions"]) == 5, moment
        assert not {versions[q["id"]] for q in today["questions"]} & pool, moment
        assert "SECRET" not in str(today) and all("answer" not in q for q in today["questions"])
        page = officer.get("/exams/practice").get_data(as_text=True)
        assert "提交答案" in page and "题库暂时没有" not in page
        if i == 3:  # Wednesday: the officer takes the exam and stops half-way
            attempt = start(officer, exam_id)
            paper = {versions[q["id"]] for q in attempt["questions"]}
            assert not {versions[q["id"]] for q in practice_set(officer)["questions"]} & paper


# --- E28: forged practice answers ---------------------------------------------------------

@pytest.mark.parametrize("moment", ["sunday_night", "wednesday"])
def test_e28_forged_practice_answers_reveal_nothing(app, city, clock, auth, moment):
    """E28: a practice answer naming any question the server did not draw for today's set, or one answered already, gets 404/409 with no key or 解析."""
    with app.app_context():
        make_bank(db.session, BIG_BANK)
        db.session.commit()
    create_exam(app, WEEK, local(9, 0, 5))
    if moment == "sunday_night":
        clock.now = local(15, 23)  # the week closed; next week's exam already built (its pool is secret)
        create_exam(app, NEXT, clock.now)
    else:
        clock.now = local(11, 15)
    officer = signed_in(app, auth, "officer")
    drawn = {q["id"] for q in practice_set(officer)["questions"]}
    # The old oracle: one request naming every question id of the bank.
    every = {f"q{v}": "A" for v in question_of(app)}
    legacy = officer.post("/exams/practice", data=every)
    assert legacy.status_code in (404, 405) and "SECRET" not in legacy.get_data(as_text=True)
    for version_id in question_of(app):
        if version_id in drawn:
            continue
        assert_no_key(officer.post(f"/api/v1/practice/{version_id}/answer", json={"answer": ["A"]}))
        page = officer.post(f"/exams/practice/{version_id}", data={"answer": "A"}, follow_redirects=True)
        assert "SECRET" not in page.get_data(as_text=True)
    first = sorted(drawn)[0]
    ok = officer.post(f"/api/v1/practice/{first}/answer", json={"answer": ["A"]})
    assert ok.status_code == 200 and set(ok.get_json()) >= {"correct", "answer", "explanation"}
    assert "SECRET" in ok.get_json()["explanation"]
    assert_no_key(officer.post(f"/api/v1/practice/{first}/answer", json={"answer": ["B"]}))
    # The set stays the one the server drew: nothing outside it became answerable.
    assert {q["id"] for q in practice_set(officer)["questions"]} == drawn


# --- E26: no key of a paper the officer can still write ---------------------------------------

def _old_mistakes_then_open_paper(app, auth, clock):
    """Week 10 taken with every answer wrong (its keys released), then week 11's paper started:
    with the small default bank the pool is the whole bank, so the papers share questions."""
    with app.app_context():
        make_bank(db.session)
        db.session.commit()
    clock.now = local(2, 10)
    old_exam = create_exam(app, PREVIOUS, clock.now)
    officer = signed_in(app, auth, "officer")
    old = start(officer, old_exam)
    answer_all_wrong(app, officer, old)
    assert officer.post(f"/api/v1/attempts/{old['id']}/submit").status_code == 200
    return old, create_exam(app, WEEK, local(9, 0, 5))


def _at_moment(app, auth, clock, exam_id, moment):
    """Put the officer in a writable attempt at ``moment``; returns (client, open attempt)."""
    with app.app_context():
        exam = db.session.get(Exam, exam_id)
        sup = db.session.scalar(select(User).where(User.username == "supervisor"))
        off = db.session.scalar(select(User).where(User.username == "officer"))
        if moment == "makeup":
            grants.grant(db.session, exam, off, "makeup", 0, "出警", sup, local(15, 21))
        db.session.commit()
    if moment == "makeup":
        clock.now = local(16, 10)  # Monday after the close
    else:
        clock.now = local(15, 21, 40)
    officer = signed_in(app, auth, "officer")
    attempt = start(officer, exam_id)
    if moment == "extra_time":
        with app.app_context():
            exam = db.session.get(Exam, exam_id)
            sup = db.session.scalar(select(User).where(User.username == "supervisor"))
            off = db.session.scalar(select(User).where(User.username == "officer"))
            grants.grant(db.session, exam, off, "extra_time", 30, "出警", sup, clock.now)
            db.session.commit()
    clock.now = {"sunday_215950": local(15, 21, 59, 50), "grace": local(15, 22, 0, 10),
                 "extra_time": local(15, 22, 20), "makeup": local(16, 10, 10)}[moment]
    officer = signed_in(app, auth, "officer")
    return officer, attempt


@pytest.mark.parametrize("moment", ["sunday_215950", "grace", "extra_time", "makeup"])
def test_e26_no_path_shows_a_key_of_a_paper_the_officer_can_still_write(app, city, clock, auth, moment):
    """E26: at Sunday 21:59:50, in the grace, in extra time and in a make-up, no path (错题本, old results, the attempt API, practice) shows the key of a question in the officer's open paper."""
    old, exam_id = _old_mistakes_then_open_paper(app, auth, clock)
    officer, attempt = _at_moment(app, auth, clock, exam_id, moment)
    versions, secrets_ = question_of(app), secret_of(app)
    paper = {versions[q["id"]] for q in attempt["questions"]}
    old_questions = {versions[q["id"]] for q in old["questions"]}
    repeated = paper & old_questions
    assert repeated, "the papers must share questions for this test to mean anything"
    # The attempt is still writable at this moment.
    q = attempt["questions"][0]
    save = officer.put(f"/api/v1/attempts/{attempt['id']}/answers/{q['id']}",
                       json={"answer": ["甲"] if q["type"] == "fill" else [q["options"][0]["key"]]})
    assert save.status_code == 200, save.get_json()
    bodies = {
        "mistakes": officer.get("/exams/mistakes").get_data(as_text=True),
        "old result page": officer.get(f"/exams/attempts/{old['id']}").get_data(as_text=True),
        "old result api": officer.get(f"/api/v1/attempts/{old['id']}").get_data(as_text=True),
        "open attempt api": officer.get(f"/api/v1/attempts/{attempt['id']}").get_data(as_text=True),
        "practice page": officer.get("/exams/practice").get_data(as_text=True),
        "practice api": officer.get("/api/v1/practice").get_data(as_text=True),
    }
    for path, body in bodies.items():
        for qid in paper:
            assert secrets_[qid] not in body, (path, qid)
    # Keys of old mistakes outside this week's pool are still shown (the rule is precise).
    shown_elsewhere = old_questions - pool_questions(app, exam_id)
    if shown_elsewhere:
        assert any(secrets_[qid] in bodies["mistakes"] for qid in shown_elsewhere)
    results = officer.get(f"/api/v1/attempts/{old['id']}").get_json()["attempt"]["results"]
    assert results is not None and not {versions[r["question_id"]] for r in results} & paper
    for version_id, question_id in versions.items():
        if question_id in paper:
            resp = officer.post(f"/api/v1/practice/{version_id}/answer", json={"answer": ["A"]})
            assert_no_key(resp)


# --- E27: keys wait for the last make-up -------------------------------------------------------

def _grant(app, username, kind, minutes, now, ends_at=None, by="supervisor"):
    with app.app_context():
        exam = db.session.scalar(select(Exam).where(Exam.week == WEEK))
        sup = db.session.scalar(select(User).where(User.username == by))
        off = db.session.scalar(select(User).where(User.username == username))
        try:
            grants.grant(db.session, exam, off, kind, minutes, "执勤", sup, now, ends_at=ends_at)
        except services.ExamError as err:
            db.session.rollback()
            return err
        db.session.commit()
        return None


@pytest.mark.parametrize("makeup_taken", [True, False])
def test_e27_keys_wait_until_every_makeup_has_ended(app, city, clock, auth, makeup_taken):
    """E27: under after_close nobody sees a closed week's keys while a make-up on it can still be started or written; the page says when they will be shown."""
    exam_id = bank_and_exam(app)
    clock.now = local(10, 9)
    officer = signed_in(app, auth, "officer")
    mine = start(officer, exam_id)
    officer.post(f"/api/v1/attempts/{mine['id']}/submit")
    assert _grant(app, "officer_b", "makeup", 0, local(15, 21), by="supervisor_b") is None
    ends = CLOSE + timedelta(hours=48)

    clock.now = local(15, 22, 30)  # closed; officer_b's make-up has not been taken
    officer = signed_in(app, auth, "officer")
    body = officer.get(f"/api/v1/attempts/{mine['id']}").get_json()["attempt"]
    assert body["results"] is None and body["keys_released"] is False
    page = officer.get(f"/exams/attempts/{mine['id']}").get_data(as_text=True)
    assert "SECRET" not in page and "03-17 22:00" in page  # when the keys will be shown
    assert "SECRET" not in officer.get("/exams/mistakes").get_data(as_text=True)

    if makeup_taken:
        clock.now = local(16, 10)
        other = signed_in(app, auth, "officer_b")
        theirs = start(other, exam_id)
        clock.now = local(16, 10, 20)
        officer = signed_in(app, auth, "officer")
        assert officer.get(f"/api/v1/attempts/{mine['id']}").get_json()["attempt"]["results"] is None
        other.post(f"/api/v1/attempts/{theirs['id']}/submit")
        # The last writable attempt has ended: the keys are out, for both.
        assert len(officer.get(f"/api/v1/attempts/{mine['id']}").get_json()["attempt"]["results"]) == 23
        assert len(other.get(f"/api/v1/attempts/{theirs['id']}").get_json()["attempt"]["results"]) == 23
    else:
        clock.now = ends - timedelta(minutes=1)
        officer = signed_in(app, auth, "officer")
        assert officer.get(f"/api/v1/attempts/{mine['id']}").get_json()["attempt"]["results"] is None
        clock.now = ends + timedelta(seconds=keys.GRACE_SECONDS + 1)  # strictly after the last save
        officer = signed_in(app, auth, "officer")
        assert len(officer.get(f"/api/v1/attempts/{mine['id']}").get_json()["attempt"]["results"]) == 23
        # Once the keys are out no new make-up can be granted on the week.
        err = _grant(app, "officer_c", "makeup", 0, clock.now)
        assert err is not None and err.code == "keys_released"


def test_e27_grants_end_when_the_supervisor_says_and_within_seven_days(app, city, clock, auth):
    """E27: extra time and make-ups end no later than the end the supervisor set (default 48 h after the close, at most 7 days)."""
    exam_id = bank_and_exam(app)
    too_late = _grant(app, "officer", "makeup", 0, local(12, 9), ends_at=CLOSE + timedelta(days=7, minutes=1))
    assert too_late is not None and too_late.code == "invalid_grant_end"
    before_close = _grant(app, "officer", "makeup", 0, local(12, 9), ends_at=CLOSE - timedelta(hours=1))
    assert before_close is not None and before_close.code == "invalid_grant_end"
    # Extra time on a running attempt stops at the grant's end.
    clock.now = local(15, 21, 50)
    officer = signed_in(app, auth, "officer")
    attempt = start(officer, exam_id)
    assert _grant(app, "officer", "extra_time", 60, clock.now, ends_at=CLOSE + timedelta(minutes=20)) is None
    with app.app_context():
        assert db.session.get(Attempt, attempt["id"]).deadline == CLOSE + timedelta(minutes=20)
    # A default make-up ends 48 h after the close.
    assert _grant(app, "officer_a2", "makeup", 0, local(15, 21, 55)) is None
    officer_a2 = user_id(app, "officer_a2")
    with app.app_context():
        exam = db.session.get(Exam, exam_id)
        window = services.officer_window(db.session, exam, officer_a2)
        assert window.closes_at == CLOSE + timedelta(hours=keys.DEFAULT_GRANT_HOURS)


def test_e27_results_page_says_when_keys_are_shown(app, city, clock, auth):
    """E27/E30: before release the result page names the release time and shows answers neutrally."""
    exam_id = bank_and_exam(app)
    clock.now = local(10, 9)
    officer = signed_in(app, auth, "officer")
    attempt = start(officer, exam_id)
    answer_all_wrong(app, officer, attempt)
    officer.post(f"/api/v1/attempts/{attempt['id']}/submit")
    page = officer.get(f"/exams/attempts/{attempt['id']}").get_data(as_text=True)
    assert "03-15 22:00" in page and "SECRET" not in page
    assert "已作答" in page and "is-wrong" not in page and "is-right" not in page


# --- 每日一练: spaced repetition, streak, mastered; never a score -------------------------------

def test_practice_brings_wrong_answers_back_sooner_and_counts_streak_and_mastered(app, city, clock, auth):
    """每日一练: a question answered wrong comes back the next day, one answered right later; finished days make a streak; two right answers in a row master a question."""
    with app.app_context():
        make_bank(db.session, BIG_BANK)
        db.session.commit()
    versions = question_of(app)
    clock.now = local(2, 9)  # a week without an exam: the whole bank is practice material
    officer = signed_in(app, auth, "officer")
    day1 = practice_set(officer)
    ids = [q["id"] for q in day1["questions"]]
    wrong, right = ids[:2], ids[2:]
    with app.app_context():
        keys_of = {v: db.session.get(QuestionVersion, v).answer for v in ids}
        types = {q["id"]: q["type"] for q in day1["questions"]}

    def reply(vid, correct):
        if correct:
            return keys_of[vid]
        if types[vid] == "fill":
            return ["不对"]
        options = {"single": "ABCD", "multiple": "ABCD", "truefalse": "AB"}[types[vid]]
        return [next(k for k in options if k not in keys_of[vid])]

    for vid in ids:
        resp = officer.post(f"/api/v1/practice/{vid}/answer", json={"answer": reply(vid, vid in right)})
        assert resp.status_code == 200 and resp.get_json()["correct"] is (vid in right)
    done = practice_set(officer)
    assert done["done"] and done["streak"] == 1 and done["answered"] == 5 and done["correct"] == 3

    clock.now = local(3, 9)
    officer = signed_in(app, auth, "officer")
    day2 = practice_set(officer)
    day2_ids = [q["id"] for q in day2["questions"]]
    assert set(wrong) <= set(day2_ids) and not set(right) & set(day2_ids)
    for vid in day2_ids:
        keys_of.setdefault(vid, None)
    with app.app_context():
        for q in day2["questions"]:
            keys_of[q["id"]] = db.session.get(QuestionVersion, q["id"]).answer
            types[q["id"]] = q["type"]
    for vid in day2_ids:
        assert officer.post(f"/api/v1/practice/{vid}/answer", json={"answer": keys_of[vid]}).status_code == 200
    assert practice_set(officer)["streak"] == 2

    # Day 4: the right answers of day 1 come back (due after two days) and are answered right again.
    clock.now = local(4, 9)
    officer = signed_in(app, auth, "officer")
    day3 = practice_set(officer)
    assert set(right) <= {q["id"] for q in day3["questions"]}
    assert day3["streak"] == 2  # yesterday counts until today's set is done
    for q in day3["questions"]:
        with app.app_context():
            key = db.session.get(QuestionVersion, q["id"]).answer
        officer.post(f"/api/v1/practice/{q['id']}/answer", json={"answer": key})
    final = practice_set(officer)
    assert final["streak"] == 3 and final["mastered"] >= len(right)
    with app.app_context():
        cards = {c.question_id: c for c in db.session.scalars(select(PracticeCard))}
    assert all(cards[versions[v]].stability >= practice.MASTERED_STABILITY_DAYS for v in right)

    clock.now = local(6, 9)  # a day skipped: the streak starts again
    assert practice_set(signed_in(app, auth, "officer"))["streak"] == 0


def test_practice_never_changes_scores_or_unit_figures(app, city, clock, auth):
    """每日一练 writes only its own tables: unit figures, scores and the leaderboard are unchanged."""
    exam_id = bank_and_exam(app, BIG_BANK)
    clock.now = local(10, 9)
    officer = signed_in(app, auth, "officer")
    attempt = start(officer, exam_id)
    officer.post(f"/api/v1/attempts/{attempt['id']}/submit")
    supervisor = signed_in(app, auth, "supervisor")
    before = [supervisor.get(f"/api/v1/reports/units?week={WEEK}").get_json(),
              supervisor.get(f"/api/v1/leaderboard?week={WEEK}").get_json()]
    with app.app_context():
        score = db.session.get(Attempt, attempt["id"]).score
    for q in practice_set(officer)["questions"]:
        assert officer.post(f"/api/v1/practice/{q['id']}/answer", json={"answer": ["A"]}).status_code in (200, 400)
    after = [supervisor.get(f"/api/v1/reports/units?week={WEEK}").get_json(),
             supervisor.get(f"/api/v1/leaderboard?week={WEEK}").get_json()]
    for doc in before + after:
        doc.pop("computed_at", None)
    assert before == after
    with app.app_context():
        assert db.session.get(Attempt, attempt["id"]).score == score


def test_practice_page_answers_one_at_a_time_without_javascript(app, city, clock, auth):
    """每日一练 page: one question at a time as a plain form; after each answer its key and 解析 show and the next question follows."""
    with app.app_context():
        make_bank(db.session, BIG_BANK)
        db.session.commit()
    clock.now = local(2, 9)
    officer = signed_in(app, auth, "officer")
    today = practice_set(officer)
    for i, q in enumerate(today["questions"], 1):
        page = officer.get("/exams/practice").get_data(as_text=True)
        assert page.count('name="answer"') >= 1 and f'action="/exams/practice/{q["id"]}"' in page
        assert page.count("提交答案") == 1
        value = "忠诚" if q["type"] == "fill" else "A"
        after = officer.post(f"/exams/practice/{q['id']}", data={"answer": value}, follow_redirects=True)
        body = after.get_data(as_text=True)
        assert after.status_code == 200 and "SECRET" in body and f"今日 {i} / 5 题" in body
    assert "今日练习已完成" in officer.get("/exams/practice").get_data(as_text=True)
    home = officer.get("/home").get_data(as_text=True)
    assert "每日一练" in home and "今日已完成" in home


def test_e28_empty_practice_answer_is_refused_and_changes_nothing(app, city, clock, auth):
    """E28: an empty or malformed practice answer gets 400 and the question stays unanswered."""
    with app.app_context():
        make_bank(db.session, BIG_BANK)
        db.session.commit()
    clock.now = local(2, 9)
    officer = signed_in(app, auth, "officer")
    q = practice_set(officer)["questions"][0]
    for bad in ({"answer": []}, {"answer": [""]}, {"answer": "A"}, {}, {"answer": [["A"]]}):
        resp = officer.post(f"/api/v1/practice/{q['id']}/answer", json=bad)
        assert resp.status_code == 400 and "SECRET" not in resp.get_data(as_text=True), bad
    assert practice_set(officer)["answered"] == 0


# --- one home for the rule ---------------------------------------------------------------------

APP = Path(__file__).resolve().parent.parent / "app"


def _files_matching(pattern: str) -> set[str]:
    rx = re.compile(pattern)
    return {str(p.relative_to(APP)) for p in APP.rglob("*.py") if rx.search(p.read_text(encoding="utf-8"))}


def test_e26_the_key_rule_has_one_home():
    """E26: only app/exams/keys.py decides when keys are shown; the modules that read keys or 解析 for officers ask it, and no other module does."""
    # Whoever compares the reveal policy decides when keys are shown: keys.py alone (the admin
    # form and the blueprint validate the value, nothing more).
    assert _files_matching(r"[\"']after_submit[\"']") <= {"exams/keys.py", "exams/blueprints.py",
                                                          "exams/manage_routes.py"}
    # Explanations and keys are read by the bank's admin pages and by the two officer paths, which
    # take a KeyView from keys.py.
    readers = _files_matching(r"\.explanation\b")
    assert readers <= {"exams/bank_format.py", "exams/bank_io.py", "exams/bank_forms.py", "exams/queries.py",
                       "exams/practice.py"}
    for officer_path in ("exams/queries.py", "exams/practice.py"):
        assert "KeyView" in (APP / officer_path).read_text(encoding="utf-8")
