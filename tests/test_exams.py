"""The weekly exam, first question to score: QUALITY E1–E23, E25, L3–L5 (issue #4)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.exams import grants, services
from app.exams.blueprints import BlueprintError
from app.models import Attempt, AttemptQuestion, AuditLog, Exam, ExamPoolItem, Question, QuestionVersion, User
from app.timeutils import week_key
from tests.factories import make_bank, make_weekly_exam

WEEK = "2026-W11"  # Monday 2026-03-09; the clock fixture starts that Monday 10:00 Asia/Shanghai


@pytest.fixture
def exam(app, city, clock):
    return make_weekly_exam(app, WEEK, clock.now)


@pytest.fixture
def officer(app, auth):
    client = app.test_client()
    auth.login(client, "officer")
    return client


def start(client, exam_id):
    resp = client.post(f"/api/v1/exams/{exam_id}/attempts")
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()["attempt"]


def save(client, attempt_id, qid, answer, **extra):
    return client.put(f"/api/v1/attempts/{attempt_id}/answers/{qid}", json={"answer": answer, **extra})


def pass_time(clock, client, minutes=0, seconds=0):
    """Let time pass while the exam page is open: it re-syncs every few minutes, which keeps
    the session alive as a real page does."""
    total = minutes * 60 + seconds
    while total > 0:
        step = min(240, total)
        clock.advance(seconds=step)
        total -= step
        client.get("/api/v1/me")


def first_choice(q):
    return ["正确"] if q["type"] == "fill" else [q["options"][0]["key"]]


def correct_display_answer(app, attempt_id, qid):
    """The right answer in the paper's display keys (read from the database, as a grader would)."""
    with app.app_context():
        aq = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                             AttemptQuestion.question_version_id == qid))
        version = db.session.get(QuestionVersion, qid)
        if not aq.option_map:
            return [version.answer[0]]
        back = {bank: disp for disp, bank in aq.option_map.items()}
        return sorted(back[k] for k in version.answer)


def attempt_row(app, attempt_id) -> Attempt:
    with app.app_context():
        return db.session.get(Attempt, attempt_id)


def answers_of(app, attempt_id):
    with app.app_context():
        return [(r.question_version_id, r.answer) for r in db.session.scalars(
            select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id).order_by(AttemptQuestion.position))]


# --- building ---------------------------------------------------------------------------

def test_e23_window_edges_and_week_key(app, city, clock):
    """E23: Monday 08:00–Sunday 22:00 local is Monday 00:00–Sunday 14:00 UTC; the key turns at Sunday 16:00 UTC."""
    with app.app_context():
        make_bank(db.session)
        exam, _ = services.create_weekly_exam(db.session, WEEK, clock.now)
        assert exam.opens_at == datetime(2026, 3, 9, 0, 0) and exam.closes_at == datetime(2026, 3, 15, 14, 0)
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        assert not services.is_open_for(db.session, exam, officer, datetime(2026, 3, 8, 23, 59, 59))
        assert services.is_open_for(db.session, exam, officer, datetime(2026, 3, 9, 0, 0, 0))
        assert not services.is_open_for(db.session, exam, officer, datetime(2026, 3, 15, 14, 0, 0))
    assert week_key(datetime(2026, 3, 15, 15, 59, 59)) == "2026-W11"
    assert week_key(datetime(2026, 3, 15, 16, 0, 0)) == "2026-W12"


def test_l3_one_exam_per_week(app, city, clock):
    """L3: creating the week's exam again returns the same exam; the database holds one."""
    with app.app_context():
        make_bank(db.session)
        first, created = services.create_weekly_exam(db.session, WEEK, clock.now)
        again, created_again = services.create_weekly_exam(db.session, WEEK, clock.now)
        db.session.commit()
        assert created and not created_again and first.id == again.id
        assert db.session.scalar(select(func.count(Exam.id))) == 1


def test_l5_crash_halfway_leaves_nothing(app, city, clock):
    """L5: a failure halfway through building leaves no exam; a rerun builds one complete exam."""
    with app.app_context():
        make_bank(db.session)
        db.session.commit()
        with pytest.raises(RuntimeError):
            services.create_weekly_exam(db.session, WEEK, clock.now, fail_after=10)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Exam.id))) == 0
        assert db.session.scalar(select(func.count()).select_from(ExamPoolItem)) == 0
        exam, created = services.create_weekly_exam(db.session, WEEK, clock.now)
        db.session.commit()
        assert created and db.session.scalar(select(func.count()).select_from(ExamPoolItem)) == 35


def test_e25_unfillable_blueprint_refused(app, city, clock):
    """E25: a bank too small for the blueprint builds nothing, names the shortfall, and is audited."""
    with app.app_context():
        make_bank(db.session, {"single": 14, "multiple": 2, "truefalse": 8, "fill": 5})
        db.session.commit()
        with pytest.raises(BlueprintError) as err:
            services.create_weekly_exam(db.session, WEEK, clock.now)
        assert "多选题需要 5 道，题库只有 2 道" in str(err.value)
        db.session.rollback()
    result = app.test_cli_runner().invoke(args=["exam", "create-weekly", "--week", WEEK])
    assert result.exit_code != 0 and "多选题" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Exam.id))) == 0
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "exam.create_failed")) == 1


def test_create_weekly_cli(app, city):
    """`exam create-weekly --week --duration` builds the exam once; a second run says it exists."""
    with app.app_context():
        make_bank(db.session)
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["exam", "create-weekly", "--week", "2026-W20", "--duration", "45"])
    assert first.exit_code == 0 and "created" in first.output
    second = runner.invoke(args=["exam", "create-weekly", "--week", "2026-W20"])
    assert second.exit_code == 0 and "already exists" in second.output
    assert runner.invoke(args=["exam", "create-weekly", "--week", "2026-20"]).exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(Exam.duration_minutes).where(Exam.week == "2026-W20")) == 45


# --- taking -------------------------------------------------------------------------------

def test_contract_current_and_start(app, exam, officer):
    """GET /exams/current and POST /exams/<id>/attempts return the contract's fields."""
    cur = officer.get("/api/v1/exams/current").get_json()
    assert set(cur["exam"]) >= {"id", "title", "week", "opens_at", "closes_at", "duration_minutes", "pass_mark", "status"}
    assert cur["exam"]["status"] == "open" and cur["attempt"] is None
    att = start(officer, exam)
    assert set(att) >= {"id", "status", "deadline", "server_now", "remaining_seconds", "questions"}
    assert len(att["questions"]) == 23
    q = att["questions"][0]
    assert set(q) == {"id", "bank_id", "type", "stem", "options", "points", "answer"}
    assert officer.get("/api/v1/exams/current").get_json()["attempt"] == {"id": att["id"], "status": "in_progress"}


def test_e1_deadline_capped_by_window(app, exam, auth, clock):
    """E1: starting at Sunday 21:55 gives deadline == close and 300 seconds."""
    clock.now = datetime(2026, 3, 15, 13, 55)
    officer = app.test_client()
    auth.login(officer, "officer")
    att = start(officer, exam)
    assert att["remaining_seconds"] == 300
    assert attempt_row(app, att["id"]).deadline == datetime(2026, 3, 15, 14, 0)


def test_e2_save_after_deadline_refused(app, exam, officer, clock):
    """E2: a save after deadline + grace gets 409 and the answers are unchanged."""
    att = start(officer, exam)
    q = att["questions"][0]
    assert save(officer, att["id"], q["id"], first_choice(q)).status_code == 200
    before = answers_of(app, att["id"])
    pass_time(clock, officer, minutes=30, seconds=services.GRACE_SECONDS + 1)
    resp = save(officer, att["id"], q["id"], [q["options"][1]["key"]] if q["options"] else ["x"])
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "deadline_passed"
    assert answers_of(app, att["id"]) == before


def test_e2_save_within_grace_accepted(app, exam, officer, clock):
    """E2: a save a few seconds after the deadline (network latency) is still accepted."""
    att = start(officer, exam)
    q = att["questions"][0]
    pass_time(clock, officer, minutes=30, seconds=5)
    assert save(officer, att["id"], q["id"], first_choice(q)).status_code == 200


def test_e3_client_clock_fields_ignored(app, exam, officer, clock):
    """E3: client_time/elapsed/remaining are ignored; responses carry server_now, deadline, remaining."""
    att = start(officer, exam)
    q = att["questions"][0]
    resp = save(officer, att["id"], q["id"], first_choice(q), client_time="2099-01-01T00:00:00Z",
                elapsed=0, remaining=99999)
    body = resp.get_json()
    assert body["remaining_seconds"] == 1800 and body["server_now"].startswith("2026-03-09T02:00:00")
    assert attempt_row(app, att["id"]).deadline == datetime(2026, 3, 9, 2, 30)


def test_e5_sweeper_finishes_abandoned_attempts(app, exam, auth, clock):
    """E5: an abandoned attempt is finished at its deadline with its saved answers; an empty one scores 0."""
    a, b = app.test_client(), app.test_client()
    auth.login(a, "officer")
    auth.login(b, "officer2")
    att_a, att_b = start(a, exam), start(b, exam)
    q = att_a["questions"][0]
    save(a, att_a["id"], q["id"], correct_display_answer(app, att_a["id"], q["id"]))
    clock.advance(minutes=35)
    with app.app_context():
        assert services.sweep_overdue(db.session, clock.now) == 2
        db.session.commit()
    ra, rb = attempt_row(app, att_a["id"]), attempt_row(app, att_b["id"])
    assert ra.status == rb.status == "finished"
    assert ra.finished_at == ra.deadline and ra.finish_reason == "deadline"
    assert ra.score == q["points"] and rb.score == 0 and rb.passed is False


def test_e6_sweeper_twice_and_with_submit(app, exam, officer, clock):
    """E6: sweeper twice plus the officer's own submit give one finalisation, one score, one audit row."""
    att = start(officer, exam)
    pass_time(clock, officer, minutes=30, seconds=services.GRACE_SECONDS + services.SWEEP_MARGIN_SECONDS + 1)
    with app.app_context():
        assert services.sweep_overdue(db.session, clock.now) == 1
        assert services.sweep_overdue(db.session, clock.now) == 0
        db.session.commit()
    resp = officer.post(f"/api/v1/attempts/{att['id']}/submit")
    assert resp.status_code == 200 and resp.get_json()["attempt"]["status"] == "finished"
    assert attempt_row(app, att["id"]).finished_at == attempt_row(app, att["id"]).deadline
    with app.app_context():
        n = db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "attempt.finish",
                                                                     AuditLog.target_id == str(att["id"])))
    assert n == 1


def test_e6_sweeper_leaves_attempts_in_grace(app, exam, officer, clock):
    """E6: the sweeper does not take an attempt whose deadline passed less than grace + margin ago."""
    start(officer, exam)
    clock.advance(minutes=30, seconds=services.GRACE_SECONDS)
    with app.app_context():
        assert services.sweep_overdue(db.session, clock.now) == 0


def test_e7_double_submit_same_result(app, exam, officer):
    """E7: a second submit returns the same result with 200, and there is one graded row."""
    att = start(officer, exam)
    first = officer.post(f"/api/v1/attempts/{att['id']}/submit").get_json()
    second = officer.post(f"/api/v1/attempts/{att['id']}/submit")
    assert second.status_code == 200 and second.get_json() == first
    with app.app_context():
        assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_e8_two_starts_one_attempt(app, exam, auth):
    """E8: two devices pressing start get the same attempt."""
    a, b = app.test_client(), app.test_client()
    auth.login(a, "officer")
    auth.login(b, "officer")
    first = a.post(f"/api/v1/exams/{exam}/attempts")
    second = b.post(f"/api/v1/exams/{exam}/attempts")
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["attempt"]["id"] == second.get_json()["attempt"]["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_e9_stale_save_is_rejected(app, exam, officer):
    """E9: saves with seq 5, 3, 5, 6 leave the state of seq 6 and produce exactly one 409."""
    att = start(officer, exam)
    q = next(q for q in att["questions"] if q["type"] == "single")
    keys = [o["key"] for o in q["options"]]
    statuses = [save(officer, att["id"], q["id"], [k], seq=s).status_code
                for s, k in ((5, keys[0]), (3, keys[1]), (5, keys[0]), (6, keys[2]))]
    assert statuses == [200, 409, 200, 200]
    stored = dict(answers_of(app, att["id"]))[q["id"]]
    assert stored == [keys[2]] and attempt_row(app, att["id"]).seq == 6


def test_e9_save_without_seq_gets_next_number(app, exam, officer):
    """E9: a bare {"answer": [...]} save takes the next sequence number from the server."""
    att = start(officer, exam)
    q = att["questions"][0]
    assert save(officer, att["id"], q["id"], first_choice(q)).get_json()["seq"] == 1
    assert save(officer, att["id"], q["id"], first_choice(q)).get_json()["seq"] == 2


def test_e10_e13_writes_after_finish_refused(app, exam, officer):
    """E10/E13: after submit every save gets 409 and the result never changes."""
    att = start(officer, exam)
    q = att["questions"][0]
    result = officer.post(f"/api/v1/attempts/{att['id']}/submit").get_json()
    before = answers_of(app, att["id"])
    resp = save(officer, att["id"], q["id"], first_choice(q), seq=99)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "finished"
    assert answers_of(app, att["id"]) == before
    assert officer.post(f"/api/v1/attempts/{att['id']}/submit").get_json() == result


def test_e14_no_key_reaches_the_browser_during_attempt(app, exam, officer):
    """E14: no response during an attempt holds a key, correctness, or explanation text."""
    att = start(officer, exam)
    bodies = [json.dumps(att, ensure_ascii=False)]
    q = att["questions"][0]
    for resp in (officer.get(f"/api/v1/attempts/{att['id']}"), officer.get(f"/exams/attempts/{att['id']}"),
                 officer.get("/exams/"), officer.get("/home"), officer.get("/static/js/exam.js"),
                 save(officer, att["id"], q["id"], first_choice(q))):
        assert resp.status_code == 200
        bodies.append(resp.get_data(as_text=True))
    assert "exam-q" in bodies[2]  # the taking page really rendered the paper
    for body in bodies:
        assert "SECRET" not in body  # every explanation in the test bank contains it
        for field in ("is_correct", "correct_answer", "explanation", "points_awarded"):
            assert f'"{field}"' not in body and f"'{field}'" not in body


def test_e14_option_order_says_nothing(app, exam, auth):
    """E14: across papers the correct option lands on every display key, not on a fixed one."""
    seen = set()
    for name in ("officer", "officer2", "officer_a2", "officer_b", "officer_c"):
        c = app.test_client()
        auth.login(c, name)
        att = start(c, exam)
        for q in att["questions"]:
            if q["type"] == "single":
                seen.update(correct_display_answer(app, att["id"], q["id"]))
    assert seen == {"A", "B", "C", "D"}


@pytest.mark.parametrize("policy", ["after_close", "after_submit"])
def test_e15_reveal_policy(make_app, city, clock, auth, policy):
    """E15: after_close reveals nothing before the close; after_submit shows only one's own paper."""
    app = make_app(EXAM_REVEAL_POLICY=policy)
    with app.app_context():
        make_bank(db.session)
        exam_id = services.create_weekly_exam(db.session, WEEK, clock.now)[0].id
        db.session.commit()
    c, other = app.test_client(), app.test_client()
    auth.login(c, "officer")
    auth.login(other, "officer2")
    att = start(c, exam_id)
    start(other, exam_id)
    results = c.post(f"/api/v1/attempts/{att['id']}/submit").get_json()["attempt"]["results"]
    page = c.get(f"/exams/attempts/{att['id']}").get_data(as_text=True)
    if policy == "after_close":
        assert results is None and "SECRET" not in page
        assert "SECRET" not in other.get(f"/api/v1/attempts/{att['id']}").get_data(as_text=True)
        clock.now = datetime(2026, 3, 15, 14, 1)  # after the close and its grace (app/exams/keys.py)
        auth.login(c, "officer")
        auth.login(other, "officer2")
        results = c.get(f"/api/v1/attempts/{att['id']}").get_json()["attempt"]["results"]
    assert len(results) == 23 and all("explanation" in r and "correct_answer" in r for r in results)
    assert other.get(f"/api/v1/attempts/{att['id']}").status_code == 404


def test_e16_forged_score_fields_ignored(app, exam, officer):
    """E16: score/isCorrect/totalScore in requests are ignored; the score is recomputed."""
    att = start(officer, exam)
    q = att["questions"][0]
    save(officer, att["id"], q["id"], first_choice(q), score=100, isCorrect=True, totalScore=100)
    resp = officer.post(f"/api/v1/attempts/{att['id']}/submit", json={"score": 100, "passed": True, "totalScore": 100})
    assert resp.get_json()["attempt"]["score"] < 100
    with app.app_context():
        a = db.session.get(Attempt, att["id"])
        score = a.score
        a.score = None
        db.session.flush()
        services._grade(db.session, [a.id])
        assert db.session.get(Attempt, att["id"]).score == score


@pytest.mark.parametrize("bad", ["foreign-option", "two-on-single", "not-a-list", "too-long-fill", "other-question"])
def test_e17_invalid_answers_refused(app, exam, officer, bad):
    """E17: foreign options, several on single choice, malformed or overlong answers, and questions
    not in the paper get 400 and store nothing."""
    att = start(officer, exam)
    single = next(q for q in att["questions"] if q["type"] == "single")
    fill = next(q for q in att["questions"] if q["type"] == "fill")
    qid, answer = {
        "foreign-option": (single["id"], ["Z"]),
        "two-on-single": (single["id"], [single["options"][0]["key"], single["options"][1]["key"]]),
        "not-a-list": (single["id"], "A"),
        "too-long-fill": (fill["id"], ["长" * 201]),
        "other-question": (999999, ["A"]),
    }[bad]
    before = answers_of(app, att["id"])
    assert save(officer, att["id"], qid, answer).status_code == 400
    assert answers_of(app, att["id"]) == before and attempt_row(app, att["id"]).seq == 0


def test_e17_fill_is_normalised(app, exam, officer):
    """E17: a fill answer matches after trimming and full-width → half-width normalisation."""
    att = start(officer, exam)
    fill = next(q for q in att["questions"] if q["type"] == "fill")
    save(officer, att["id"], fill["id"], ["  忠　诚 "])
    results = officer.post(f"/api/v1/attempts/{att['id']}/submit")
    with app.app_context():
        row = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == att["id"],
                                                              AttemptQuestion.question_version_id == fill["id"]))
    assert results.status_code == 200 and row.is_correct


def test_e18_no_second_attempt_after_finish(app, exam, officer):
    """E18: a start after finishing returns the finished attempt and creates nothing."""
    att = start(officer, exam)
    officer.post(f"/api/v1/attempts/{att['id']}/submit")
    again = start(officer, exam)
    assert again["id"] == att["id"] and again["status"] == "finished"
    with app.app_context():
        assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_e19_paper_fixed_by_seed(app, exam, auth):
    """E19: a reload shows the same paper, two officers get different ones, the seed rebuilds it."""
    a, b = app.test_client(), app.test_client()
    auth.login(a, "officer")
    auth.login(b, "officer2")
    first = start(a, exam)
    reload = a.get(f"/api/v1/attempts/{first['id']}").get_json()["attempt"]
    assert [(q["id"], [o["text"] for o in q["options"]]) for q in first["questions"]] == \
           [(q["id"], [o["text"] for o in q["options"]]) for q in reload["questions"]]
    other = start(b, exam)
    assert [q["id"] for q in first["questions"]] != [q["id"] for q in other["questions"]]
    with app.app_context():
        row = db.session.get(Attempt, first["id"])
        rebuilt = services.build_paper(db.session, row.exam, row.seed, frozenset())
    assert [p.question_version_id for p in rebuilt] == [q["id"] for q in first["questions"]]


def test_e20_resume_on_another_device(app, exam, auth, clock):
    """E20: the same attempt resumes elsewhere with its deadline, saved answers and current seq."""
    phone, pc = app.test_client(), app.test_client()
    auth.login(phone, "officer")
    att = start(phone, exam)
    q = att["questions"][0]
    save(phone, att["id"], q["id"], first_choice(q), seq=4)
    clock.advance(minutes=3)
    auth.login(pc, "officer")
    resumed = start(pc, exam)
    assert resumed["id"] == att["id"] and resumed["seq"] == 4
    assert resumed["deadline"] == att["deadline"] and resumed["remaining_seconds"] == 1800 - 180
    assert resumed["questions"][0]["answer"] == first_choice(q)
    assert save(phone, att["id"], q["id"], first_choice(q), seq=3).status_code == 409


def test_e21_not_open_not_listed(app, city, clock, auth):
    """E21: before it opens the exam is not listed and cannot be started; nothing leaks."""
    clock.now = datetime(2026, 3, 8, 23, 0)  # Monday 07:00 local
    with app.app_context():
        make_bank(db.session)
        exam_id = services.create_weekly_exam(db.session, WEEK, clock.now)[0].id
        db.session.commit()
    c = app.test_client()
    auth.login(c, "officer")
    assert c.get("/api/v1/exams/current").get_json() == {"exam": None, "attempt": None}
    resp = c.post(f"/api/v1/exams/{exam_id}/attempts")
    assert resp.status_code == 404 and "题目" not in resp.get_data(as_text=True)


def test_e21_non_officers_and_strangers(app, exam, officer, auth):
    """E21/A16: staff get 403 on exam endpoints; another officer's attempt is 404 for everything."""
    att = start(officer, exam)
    sup = app.test_client()
    auth.login(sup, "supervisor")
    assert sup.post(f"/api/v1/exams/{exam}/attempts").status_code == 403
    thief = app.test_client()
    auth.login(thief, "officer_b")
    q = att["questions"][0]
    before = answers_of(app, att["id"])
    assert thief.get(f"/api/v1/attempts/{att['id']}").status_code == 404
    assert save(thief, att["id"], q["id"], first_choice(q)).status_code == 404
    assert thief.post(f"/api/v1/attempts/{att['id']}/submit").status_code == 404
    assert thief.get(f"/exams/attempts/{att['id']}").status_code == 404
    assert answers_of(app, att["id"]) == before and attempt_row(app, att["id"]).status == "in_progress"


def test_e22_graded_against_served_version(app, exam, officer):
    """E22: editing a question's key during the week does not change the grade of a served paper."""
    att = start(officer, exam)
    q = next(q for q in att["questions"] if q["type"] == "single")
    right = correct_display_answer(app, att["id"], q["id"])
    save(officer, att["id"], q["id"], right)
    with app.app_context():
        v1 = db.session.get(QuestionVersion, q["id"])
        question = db.session.get(Question, v1.question_id)
        v2 = QuestionVersion(question_id=question.id, version=2, stem=v1.stem, options=v1.options, answer=["D"]
                             if v1.answer != ["D"] else ["A"], explanation="改过的解析")
        db.session.add(v2)
        db.session.flush()
        question.current_version_id = v2.id
        db.session.commit()
    officer.post(f"/api/v1/attempts/{att['id']}/submit")
    with app.app_context():
        row = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == att["id"],
                                                              AttemptQuestion.question_version_id == q["id"]))
    assert row.is_correct and row.points_awarded == q["points"]


def test_full_marks_when_every_answer_is_the_key(app, exam, officer):
    """Answering every question with the bank's key scores 100 and passes."""
    att = start(officer, exam)
    for q in att["questions"]:
        assert save(officer, att["id"], q["id"], correct_display_answer(app, att["id"], q["id"])).status_code == 200
    result = officer.post(f"/api/v1/attempts/{att['id']}/submit").get_json()["attempt"]
    assert result["score"] == 100 and result["passed"] is True


def test_submit_carries_last_answers(app, exam, officer):
    """E13: the answers sent with the submit are stored before grading."""
    att = start(officer, exam)
    q = att["questions"][0]
    right = correct_display_answer(app, att["id"], q["id"])
    result = officer.post(f"/api/v1/attempts/{att['id']}/submit",
                          json={"answers": [{"question_id": q["id"], "answer": right, "seq": 1}]}).get_json()
    assert result["attempt"]["score"] == q["points"]


def test_session_survives_address_change(app, exam, officer):
    """A 4G↔Wi-Fi handover (new client address) keeps the session and the save succeeds."""
    att = start(officer, exam)
    q = att["questions"][0]
    resp = officer.put(f"/api/v1/attempts/{att['id']}/answers/{q['id']}", json={"answer": first_choice(q)},
                       environ_overrides={"REMOTE_ADDR": "10.20.30.40"})
    assert resp.status_code == 200


# --- grants, reminders, scheduler catch-up ---------------------------------------------------

def test_extra_time_grant_extends_deadline_and_is_audited(app, exam, officer, clock):
    """Extra time granted by a supervisor moves the deadline and writes an audit row."""
    att = start(officer, exam)
    with app.app_context():
        e = db.session.get(Exam, exam)
        off = db.session.scalar(select(User).where(User.username == "officer"))
        sup = db.session.scalar(select(User).where(User.username == "supervisor"))
        grants.grant(db.session, e, off, "extra_time", 10, "出警", sup, clock.now)
        db.session.commit()
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "exam.grant_extra_time")) == 1
    assert attempt_row(app, att["id"]).deadline == clock.now + timedelta(minutes=40)


def test_makeup_grant_opens_after_close(app, exam, auth, clock):
    """A make-up lets an officer who was on duty start after the window closed."""
    clock.now = datetime(2026, 3, 15, 15, 0)  # after Sunday 22:00 local
    c = app.test_client()
    auth.login(c, "officer_b")
    assert c.post(f"/api/v1/exams/{exam}/attempts").status_code == 404
    with app.app_context():
        e = db.session.get(Exam, exam)
        off = db.session.scalar(select(User).where(User.username == "officer_b"))
        sup = db.session.scalar(select(User).where(User.username == "supervisor_b"))
        # Granted before the close: once a week's keys are out, no make-up can be granted (E27).
        grants.grant(db.session, e, off, "makeup", 0, "值班", sup, datetime(2026, 3, 15, 13, 0))
        db.session.commit()
    att = start(c, exam)
    assert att["remaining_seconds"] == 1800


def test_midweek_reminder_once(app, exam, officer, clock):
    """The mid-week reminder reaches officers without an attempt, once per week."""
    from app.exams.jobs import send_reminders
    from app.models import Notification

    start(officer, exam)
    with app.app_context():
        assert send_reminders(db.session, clock.now) == 0  # Monday: too early
        clock.now = datetime(2026, 3, 11, 5, 0)  # Wednesday 13:00 local
        sent = send_reminders(db.session, clock.now)
        again = send_reminders(db.session, clock.now)
        db.session.commit()
        notified = set(db.session.scalars(select(Notification.user_id)))
        officer_id = db.session.scalar(select(User.id).where(User.username == "officer"))
    assert sent == 4 and again == 0 and officer_id not in notified


def test_l4_catch_up_builds_current_week_once(app, city, clock):
    """L4: after a downtime across Monday 08:00 the catch-up builds this week's exam once, not past weeks."""
    from app.exams.jobs import ensure_weekly_exam

    with app.app_context():
        make_bank(db.session)
        clock.now = datetime(2026, 3, 23, 2, 0)  # two weeks later, Monday 10:00 local
        assert ensure_weekly_exam(db.session, clock.now) == "created"
        assert ensure_weekly_exam(db.session, clock.now) == "exists"
        db.session.commit()
        assert list(db.session.scalars(select(Exam.week))) == ["2026-W13"]


def test_admin_exam_pages_render(app, exam, officer, auth):
    """The exam admin pages (list, blueprint, item analysis, grants) render for the admin, in both languages."""
    att = start(officer, exam)
    officer.post(f"/api/v1/attempts/{att['id']}/submit")
    admin = app.test_client()
    auth.login(admin, "admin")
    for lang in ("zh_Hans_CN", "en"):
        admin.set_cookie("lang", lang)
        for path in ("/admin/exams/", "/admin/exams/blueprint", f"/admin/exams/{exam}/analysis", "/admin/exams/grants"):
            assert admin.get(path).status_code == 200, (lang, path)


def test_blueprint_change_validated_and_audited(app, exam, auth):
    """A blueprint whose points do not add up to 100 is refused; a valid one is stored as a new audited version."""
    admin = app.test_client()
    auth.login(admin, "admin")
    form = {"rule-0-type": "single", "rule-0-count": "10", "rule-1-type": "truefalse", "rule-1-count": "5",
            "points-single": "5", "points-multiple": "0", "points-truefalse": "4", "points-fill": "0",
            "duration_minutes": "20", "pass_mark": "60", "opens_day": "0", "opens_hour": "8", "closes_day": "6",
            "closes_hour": "22", "avoid_recent_weeks": "2"}
    bad = admin.post("/admin/exams/blueprint", data=form)
    assert bad.status_code == 422 and "合计应为 100 分" in bad.get_data(as_text=True)
    form["points-single"] = "8"  # 10×8 + 5×4 = 100
    assert admin.post("/admin/exams/blueprint", data=form).status_code == 302
    with app.app_context():
        from app.exams.blueprints import active_blueprint

        bp = active_blueprint(db.session)
        assert bp.duration_minutes == 20 and bp.pass_mark == 60
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "exam.blueprint")) == 1


@pytest.mark.parametrize("saves, flagged", [(49, False), (50, True)])
def test_a33_inhumanly_fast_answering_is_flagged(app, exam, officer, saves, flagged):
    """A33: 50 answer saves within 3 seconds flag the attempt (once, audited); 49 do not."""
    att = start(officer, exam)
    q = next(q for q in att["questions"] if q["type"] == "single")
    for i in range(saves):
        assert save(officer, att["id"], q["id"], [q["options"][i % 4]["key"]]).status_code == 200
    assert (attempt_row(app, att["id"]).flagged == "too_fast") is flagged
    with app.app_context():
        n = db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "attempt.flagged"))
    assert n == (1 if flagged else 0)


def test_a33_human_pace_is_not_flagged(app, exam, officer, clock):
    """A33: the same number of saves at a human pace (one every few seconds) raises no flag."""
    att = start(officer, exam)
    q = next(q for q in att["questions"] if q["type"] == "single")
    for i in range(60):
        clock.advance(seconds=2)
        save(officer, att["id"], q["id"], [q["options"][i % 4]["key"]])
    assert attempt_row(app, att["id"]).flagged is None
