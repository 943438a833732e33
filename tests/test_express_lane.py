"""The express lane for heartbeats and autosaves (app/express.py; issue #7, QUALITY L1).

The lane answers only the ordinary case and hands everything else to the full application
before anything is committed. These tests prove both halves: the ordinary case is served by the
lane with the same answer, headers and stored rows as the full stack, and every case the lane
must not answer (A9–A11, A14–A16, A18, S5, S8, E2, E9, E17, A33, L10) still gets the full
stack's answer and changes nothing the full stack would not. The rest of the suite (S1–S12,
E1–E25) runs through the lane too, since the test client calls the same WSGI stack.
"""
from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, update

from app import express
from app.auth import access, decisions
from app.auth.access import Access
from app.db import WriterQueue, db
from app.models import AuthSession, User
from tests.conftest import csrf_of
from tests.factories import PASSWORD, make_weekly_exam
from tests.test_study_credit import make_item, set_policy, totals

WEEK = "2026-W11"
VOLATILE_HEADERS = {"Date"}


def lane(app):
    return app.extensions["express_lane"]


def signed_in(app, username: str):
    """A client signed in through the real form with CSRF on; returns (client, page token)."""
    client = app.test_client()
    token = csrf_of(client, "/login")
    resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client, csrf_of(client, "/home")


def beat(client, token, item_id, body=None, **headers):
    return client.post(f"/api/v1/study/items/{item_id}/heartbeat", json=body or {"inputs": 1, "scroll_pct": 10},
                       headers={"X-CSRFToken": token, **headers})


def save(client, token, attempt_id, qid, answer, **extra):
    return client.put(f"/api/v1/attempts/{attempt_id}/answers/{qid}", json={"answer": answer, **extra},
                      headers={"X-CSRFToken": token})


def headers_of(resp) -> dict:
    return {k: v for k, v in resp.headers.items() if k not in VOLATILE_HEADERS}


@pytest.fixture
def csrf_app(make_app, clock):
    """The app as deployed: CSRF checked on every write, a study policy in force (the full stack
    creates the default one on the first beat ever; the lane leaves that beat to it)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    set_policy(app, clock.now - timedelta(days=7))
    return app


@pytest.fixture
def exam(csrf_app, city, clock):
    return make_weekly_exam(csrf_app, WEEK, clock.now)


def start(client, token, exam_id):
    resp = client.post(f"/api/v1/exams/{exam_id}/attempts", headers={"X-CSRFToken": token})
    assert resp.status_code in (200, 201), resp.get_json()
    attempt = resp.get_json()["attempt"]
    q = next(q for q in attempt["questions"] if q["type"] == "single")
    return attempt["id"], q["id"], [o["key"] for o in q["options"]]


def test_l1_lane_answers_heartbeats_as_the_full_stack_does(csrf_app, city, clock):
    """L1: the lane serves ordinary heartbeats with the full stack's status, body, headers and stored totals."""
    app = csrf_app
    item = make_item(app, minutes=30)
    fast, fast_token = signed_in(app, "officer")
    full, full_token = signed_in(app, "officer2")
    start_time = clock.now
    for t in (0, 30, 60, 95, 200, 230):  # includes a gap (re-anchor, 0 credit)
        clock.now = start_time + timedelta(seconds=t)
        served = lane(app).served
        app.config["EXPRESS_LANE"] = True
        a = beat(fast, fast_token, item)
        assert lane(app).served == served + 1
        app.config["EXPRESS_LANE"] = False
        b = beat(full, full_token, item)
        assert lane(app).served == served + 1
        assert (a.status_code, a.get_json()) == (b.status_code, b.get_json()) and a.status_code == 200
        assert headers_of(a) == headers_of(b)
    mine, theirs = totals(app, city.users["officer"]), totals(app, city.users["officer2"])
    assert {k: v for k, v in mine.items()} == {k: v for k, v in theirs.items()}
    assert mine["beat_credit"] == 30 + 30 + 35 + 30  # 95 → 200 is a gap: re-anchored, 0 credit


def test_l1_lane_answers_autosaves_as_the_full_stack_does(csrf_app, exam, clock):
    """L1: the lane serves ordinary autosaves with the full stack's status, body and headers, and stores the answer."""
    from app.models import AttemptQuestion

    app = csrf_app
    fast, fast_token = signed_in(app, "officer")
    full, full_token = signed_in(app, "officer2")
    fast_attempt, fast_q, options = start(fast, fast_token, exam)
    full_attempt, full_q, _ = start(full, full_token, exam)
    for seq, key in ((1, options[0]), (2, options[1]), (None, options[2])):
        clock.advance(seconds=20)
        extra = {"seq": seq} if seq else {}
        served = lane(app).served
        app.config["EXPRESS_LANE"] = True
        a = save(fast, fast_token, fast_attempt, fast_q, [key], **extra)
        assert lane(app).served == served + 1, a.get_json()
        app.config["EXPRESS_LANE"] = False
        b = save(full, full_token, full_attempt, full_q, [key], **extra)
        body_a, body_b = a.get_json(), b.get_json()
        assert a.status_code == b.status_code == 200
        assert body_a.pop("question_id") == fast_q and body_b.pop("question_id") == full_q
        assert body_a == body_b
        # The question ids differ (two papers), so the lengths may differ by a digit.
        assert int(a.headers["Content-Length"]) == len(a.get_data())
        assert {k: v for k, v in headers_of(a).items() if k != "Content-Length"} == \
               {k: v for k, v in headers_of(b).items() if k != "Content-Length"}
    with app.app_context():
        stored = db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == fast_attempt,
                                                                 AttemptQuestion.answer_seq > 0)).all()
        assert len(stored) == 1 and stored[0].answer_seq == 3 and stored[0].answered_at == clock.now


def test_a10_lane_keeps_the_session_alive(csrf_app, city, clock):
    """A10: heartbeats through the lane record activity, so a reader is not signed out after 30 minutes."""
    app = csrf_app
    item = make_item(app, minutes=120)
    client, token = signed_in(app, "officer")
    for _ in range(80):  # 40 minutes of beats and nothing else
        clock.advance(seconds=30)
        assert beat(client, token, item).status_code == 200
    assert lane(app).served >= 80
    with app.app_context():
        seen = db.session.scalar(select(AuthSession.last_seen_at).where(AuthSession.user_id == city.users["officer"],
                                                                        AuthSession.revoked_at.is_(None)))
        assert clock.now - seen <= timedelta(seconds=60)


def _revoke(app, user_id, now):
    with app.app_context():
        db.session.execute(update(AuthSession).where(AuthSession.user_id == user_id).values(revoked_at=now))
        db.session.commit()


def _set_user(app, user_id, **values):
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()


DECLINED_BEATS = {
    # name: (how to set it up, expected status, expected error code, the lane's reason)
    # Without a readable session there is no CSRF secret either: CSRFProtect answers first.
    "no cookie": (lambda app, city, client, token, clock: client.delete_cookie("session"), 400, "csrf_failed", "csrf"),
    "forged cookie": (lambda app, city, client, token, clock: client.set_cookie(
        "session", client.get_cookie("session").value[:-4] + "AAAA"), 400, "csrf_failed", "csrf"),
    "revoked session": (lambda app, city, client, token, clock: _revoke(app, city.users["officer"], clock.now),
                        401, "unauthorized", "session_ended"),
    "idle session": (lambda app, city, client, token, clock: clock.advance(minutes=31), 401, "unauthorized",
                     "session_ended"),
    "disabled account": (lambda app, city, client, token, clock: _set_user(app, city.users["officer"], is_active=False),
                         401, "unauthorized", "inactive"),
    "password change pending": (lambda app, city, client, token, clock: _set_user(
        app, city.users["officer"], must_change_password=True), 403, "password_change_required", "password_change"),
    "officer moved to supervisor": (lambda app, city, client, token, clock: _set_user(
        app, city.users["officer"], role="supervisor"), 403, "forbidden", "role"),
}


@pytest.mark.parametrize("case", sorted(DECLINED_BEATS))
def test_a9_lane_declines_who_the_full_stack_refuses(csrf_app, city, clock, case):
    """A9–A11, A14: sessions and roles the full stack refuses are refused the same way, and nothing is credited."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    assert beat(client, token, item).status_code == 200
    clock.advance(seconds=30)
    setup, status, code, reason = DECLINED_BEATS[case]
    setup(app, city, client, token, clock)
    before = totals(app, city.users["officer"])
    served = lane(app).served
    resp = beat(client, token, item)
    assert resp.status_code == status and resp.get_json()["error"]["code"] == code
    assert lane(app).served == served and lane(app).declined >= 1
    assert lane(app).declined_by == {reason: 1}  # the decision that refused it, by name
    assert totals(app, city.users["officer"]) == before


def test_a18_lane_declines_bad_csrf(csrf_app, city, clock):
    """A18: without the CSRF token, with another session's token or with a foreign HTTPS referrer, nothing is credited."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    _, other_token = signed_in(app, "officer2")
    before = totals(app, city.users["officer"])
    resp = client.post(f"/api/v1/study/items/{item}/heartbeat", json={"inputs": 1})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    assert beat(client, other_token, item).status_code == 400
    assert lane(app).declined_by == {"csrf": 2}
    https = client.post(f"/api/v1/study/items/{item}/heartbeat", json={"inputs": 1}, base_url="https://localhost",
                        headers={"X-CSRFToken": token, "Referer": "https://evil.example/"})
    assert https.status_code == 400
    assert lane(app).served == 0
    assert totals(app, city.users["officer"]) == before


def test_s5_s8_lane_declines_what_the_service_refuses(csrf_app, city, clock):
    """S5, S8, A22: a beat too soon, an item not published to the officer and a malformed body get the full stack's answers."""
    app = csrf_app
    set_policy(app, clock.now - timedelta(days=1), min_gap_seconds=5)  # the default, stated
    item = make_item(app, minutes=30)
    hidden = make_item(app, minutes=30, published=False)
    client, token = signed_in(app, "officer")
    assert beat(client, token, item).status_code == 200
    before = totals(app, city.users["officer"])
    clock.advance(seconds=2)
    too_soon = beat(client, token, item)
    assert too_soon.status_code == 429 and too_soon.headers["Retry-After"] == "5"
    clock.advance(seconds=30)
    assert beat(client, token, hidden).status_code == 404
    bad = client.post(f"/api/v1/study/items/{item}/heartbeat", data="{not json", content_type="application/json",
                      headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"
    wrong = beat(client, token, item, body={"scroll_pct": "lots"})
    assert wrong.status_code == 422
    assert lane(app).served == 1
    assert totals(app, city.users["officer"]) == before


def test_e9_e17_lane_declines_saves_the_full_stack_refuses(csrf_app, exam, clock):
    """E2, E9, E17, A16: stale, replayed, invalid, foreign and late saves get the full stack's answers; nothing else is stored."""
    app = csrf_app
    client, token = signed_in(app, "officer")
    other, other_token = signed_in(app, "officer2")
    attempt, qid, options = start(client, token, exam)
    their_attempt, their_q, _ = start(other, other_token, exam)
    assert save(client, token, attempt, qid, [options[0]], seq=5).status_code == 200
    served = lane(app).served
    replay = save(client, token, attempt, qid, [options[0]], seq=5)
    assert replay.status_code == 200 and replay.get_json()["seq"] == 5
    stale = save(client, token, attempt, qid, [options[1]], seq=4)
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale"
    assert save(client, token, attempt, qid, ["Z"], seq=6).status_code == 400
    assert save(client, token, attempt, qid, "A", seq=6).status_code == 400
    assert save(client, token, their_attempt, their_q, [options[0]], seq=6).status_code == 404
    assert save(client, token, attempt, 999_999, [options[0]], seq=6).status_code == 400
    no_answer = client.put(f"/api/v1/attempts/{attempt}/answers/{qid}", json={"seq": 6}, headers={"X-CSRFToken": token})
    assert no_answer.status_code == 400
    assert lane(app).served == served
    for _ in range(15):  # an hour with the page open (its re-sync keeps the session alive)
        clock.advance(minutes=4)
        client.get("/api/v1/me")
    late = save(client, token, attempt, qid, [options[1]], seq=7)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "deadline_passed"
    with app.app_context():
        from app.models import Attempt

        assert db.session.get(Attempt, attempt).seq == 5


def test_l10_lane_hands_a_refused_write_to_the_full_stack(csrf_app, city, clock, database_url):
    """L10: when the database refuses writes (read-only), the lane commits nothing and the answer is 503 JSON."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    assert beat(client, token, item).status_code == 200
    clock.advance(seconds=30)
    before = totals(app, city.users["officer"])
    with app.app_context():
        engine = db.engine
        engine.dispose()
        statement = ("PRAGMA query_only = ON" if database_url.startswith("sqlite")
                     else "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")

        def read_only(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute(statement)
            cur.close()
            if not database_url.startswith("sqlite"):
                dbapi_conn.commit()

        event.listen(engine, "connect", read_only)
    try:
        resp = beat(client, token, item)
        assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "unavailable"
        assert lane(app).served == 1
    finally:
        event.remove(engine, "connect", read_only)
        engine.dispose()
    assert totals(app, city.users["officer"]) == before


def test_a33_lane_leaves_the_burst_flag_to_the_full_stack(csrf_app, exam, clock):
    """A33: the save that completes a burst is handed on, so the flag and its audit row are written once."""
    from app.models import Attempt, AuditLog

    app = csrf_app
    client, token = signed_in(app, "officer")
    attempt, qid, options = start(client, token, exam)
    for i in range(50):
        assert save(client, token, attempt, qid, [options[i % 2]], seq=i + 1).status_code == 200
    assert lane(app).served == 49
    with app.app_context():
        assert db.session.get(Attempt, attempt).flagged == "too_fast"
        assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "attempt.flagged")) is not None


def _queue_is_free(path: str) -> bool:
    """True when nobody holds the writer queue's flock (a fresh open file asks without waiting)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock taken here


def test_l2_lane_holds_the_writer_queue_only_inside_its_write(csrf_app, city, clock, database_url):
    """L2: on SQLite the lane's writers queue on app.db.WriterQueue only inside their write transaction: it is free after a served beat and after one declined in the write phase."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the writer queue is for SQLite files (PostgreSQL has row locks)")
    app = csrf_app
    queue = lane(app)._settings()["writers"]
    assert queue is not None and queue.path.endswith("-writers.lock")
    set_policy(app, clock.now - timedelta(days=1), min_gap_seconds=5)
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    acquired = []
    real_acquire = queue.acquire

    def spy():
        real_acquire()
        acquired.append(_queue_is_free(queue.path))  # held by the lane right now: not free

    queue.acquire = spy
    assert beat(client, token, item).status_code == 200
    assert _queue_is_free(queue.path)
    clock.advance(seconds=2)
    assert beat(client, token, item).status_code == 429  # TooSoon inside the write: declined, rolled back
    assert _queue_is_free(queue.path)
    assert acquired == [False, False] and lane(app).served == 1


def test_l2_writer_queue_wakes_the_next_writer_and_dies_with_its_holder(tmp_path):
    """L2, L4: a second process waits on the writer queue while the first holds it, gets it once the first lets go, and a holder killed with -9 leaves no stale lock."""
    database = str(tmp_path / "app.db")
    holder_code = ("import sys, time; from app.db import WriterQueue; q = WriterQueue(sys.argv[1]); q.acquire(); "
                   "print('held', flush=True); line = sys.stdin.readline(); q.release(); print('released', flush=True); "
                   "time.sleep(30)")
    for ending in ("release", "kill -9"):
        holder = subprocess.Popen([sys.executable, "-c", holder_code, database], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[1]))
        try:
            assert holder.stdout.readline().strip() == "held"
            queue, got = WriterQueue(database), threading.Event()

            def wait_turn(q=queue, event=got):
                q.acquire()
                event.set()

            waiter = threading.Thread(target=wait_turn, daemon=True)
            waiter.start()
            assert not got.wait(0.3), "the queue let a second writer in while the first held it"
            t0 = time.monotonic()
            if ending == "release":
                holder.stdin.write("go\n")
                holder.stdin.flush()
            else:
                holder.kill()
            assert got.wait(5), ending
            assert time.monotonic() - t0 < 2
            queue.release()
            assert _queue_is_free(queue.path)
        finally:
            holder.kill()
            holder.wait()


# --- rule 13: the lane asks the full stack's decisions ----------------------------------------

#: Every hook the full stack runs around the two views (the app's and the api blueprint's), by
#: qualified name, with what the lane does for it. A hook not listed here fails the test below.
FULL_STACK_HOOKS = {
    "before_request": {
        "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect":
            "decisions.csrf_refusal (csrf.protect is access.csrf_protect, which asks it)",
        "app.web.init_app.<locals>._request_id": "nothing to decide: a request id for the logs",
        "app.auth.access.enforce_access":
            "decisions.write_refusal: load_user's session_refusal, then enforce_access's access_refusal",
    },
    "after_request": {
        "flask_login.login_manager.LoginManager._update_remember_cookie": "nothing: no remember cookie is ever issued",
        "flask_compress.flask_compress.Compress.after_request":
            "nothing: the two answers are under COMPRESS_MIN_SIZE; Vary is sent as the full stack sends it",
        "app.security.init_app.<locals>._headers": "security.response_headers (compared header by header above)",
    },
    "url_value_preprocessor": {},
}
#: The two views' decorators: only @access, whose rule the lane asks through write_refusal.
LANE_VIEWS = {
    "api.study_heartbeat": ("app.api.study.study_heartbeat", Access(frozenset({"officer"}))),
    "api.attempts_save": ("app.api.exams.attempts_save", Access(frozenset({"officer"}))),
}


def _hooks(app):
    registries = (("before_request", app.before_request_funcs), ("after_request", app.after_request_funcs),
                  ("url_value_preprocessor", app.url_value_preprocessors))
    for kind, registry in registries:
        for scope in (None, "api"):
            for hook in registry.get(scope, ()):
                yield kind, f"{hook.__module__}.{hook.__qualname__}"


def test_rule13_every_full_stack_hook_and_decorator_has_a_lane_decision(csrf_app):
    """Rule 13: the full stack's hooks and the two views' decorators are the reviewed list above, so a new check fails here until the lane asks it."""
    app = csrf_app
    seen = {kind: set() for kind in FULL_STACK_HOOKS}
    for kind, name in _hooks(app):
        assert name in FULL_STACK_HOOKS[kind], \
            f"{kind} hook {name}: add the lane's decision for {name} in app/express.py, then add {name} here"
        seen[kind].add(name)
    assert seen == {kind: set(names) for kind, names in FULL_STACK_HOOKS.items()}, "a listed hook is gone: unlist it"
    for endpoint, (qualified, rule) in LANE_VIEWS.items():
        view = app.view_functions[endpoint]
        extra = sorted(set(vars(view)) - {"access"})
        assert not extra and f"{view.__module__}.{view.__qualname__}" == qualified, \
            f"{endpoint} is decorated with {extra or view}: add the lane's decision for it in app/express.py, then add it here"
        assert view.access == rule, \
            f"{endpoint}'s @access changed: add the lane's decision for {view.access} in app/express.py, then add it here"
    # The user loader is load_user (whose decision is session_refusal); no other way to sign in.
    manager = app.login_manager
    assert manager._user_callback is access.load_user and manager._request_callback is None


def test_rule13_session_and_csrf_decisions_have_one_home():
    """Rule 13: no module but app/auth/decisions.py judges a session's liveness, a role rule, a client fingerprint or a CSRF token (a second copy drifts)."""
    root = Path(express.__file__).resolve().parent
    home = {"app/auth/decisions.py"}
    marks = {"session_is_live(": home | {"app/auth/services.py"}, "wtf-csrf-token": home, "compare_digest": home,
             "sha512": home, ".roles": home}
    copies = {}
    for path in root.rglob("*.py"):
        name = path.relative_to(root.parent).as_posix()
        text = path.read_text(encoding="utf-8")
        for mark, allowed in marks.items():
            if mark in text and name not in allowed:
                copies.setdefault(mark, []).append(name)
    assert not copies, f"a second copy of a decision (call app.auth.decisions instead): {copies}"


def test_rule13_every_decline_reason_is_named_for_operators():
    """Rule 13: every reason the lane declines with, its decisions' included, is listed in DECLINE_REASONS (what /healthz and /metrics show)."""
    import re

    source = Path(express.__file__).read_text()
    raised = set(re.findall(r'_Decline\("([a-z_]+)"', source)) | set(re.findall(r'_declined\("([a-z_]+)"\)', source))
    raised |= set(re.findall(r'"([a-z_]+)" if closed else "([a-z_]+)"', source)[0])
    # "not_signed_in" cannot reach the lane: without a session row session_refusal answers first.
    raised |= (set(decisions.SESSION_REASONS) | set(decisions.ACCESS_REASONS)) - {"not_signed_in"}
    assert raised == set(express.DECLINE_REASONS)


def test_rule13_signals_around_the_two_views_have_no_receivers(csrf_app):
    """Rule 13: the lane sends no signals, so none of those the full stack sends around the two views may carry a check."""
    import flask
    import flask_login.signals as login_signals

    for signal in (flask.request_started, flask.request_finished, flask.got_request_exception,
                   login_signals.user_accessed, login_signals.session_protected):
        assert not signal.receivers, \
            f"{signal.name} has receivers: add the lane's decision for {signal.name} in app/express.py, then add it here"


def test_rule13_csrf_and_session_protection_of_the_full_stack_ask_decisions(csrf_app):
    """Rule 13: Flask-WTF's protect and Flask-Login's identifier and session protection are bound to app/auth/decisions.py, byte for byte as the libraries' own."""
    from flask import session
    from flask_login.utils import _create_identifier
    from flask_wtf.csrf import generate_csrf, validate_csrf
    from wtforms import ValidationError

    app = csrf_app
    assert app.extensions["csrf"].protect is access.csrf_protect
    assert app.login_manager._session_identifier_generator is access.request_identifier
    assert app.login_manager._session_protection_failed is access.session_protection_failed
    for headers in ({}, {"User-Agent": "Mozilla/5.0 (Linux; Android 14) 微信"},
                    {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "User-Agent": "curl/8"}):
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"}):
            assert access.request_identifier() == _create_identifier()
    with app.test_request_context("/"):
        token = generate_csrf()
        stored = session["csrf_token"]
        with app.test_request_context("/"):
            other = generate_csrf()
        for candidate in (token, other, token[:-2] + "xx", "", None):
            try:
                validate_csrf(candidate)
                library = None
            except ValidationError as err:
                library = err.args[0]
            assert decisions.csrf_refusal(candidate, stored, app.config, app.secret_key, secure=False, referrer=None,
                                          host="localhost") == library


def test_a9_lane_reads_the_login_policy_on_every_request(csrf_app, city, clock):
    """A9, A10: a shorter SESSION_IDLE_TIMEOUT set while the app runs ends an idle session on the lane at once, as in the full stack."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    assert beat(client, token, item).status_code == 200
    clock.advance(minutes=3)
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(minutes=2)
    before = totals(app, city.users["officer"])
    resp = beat(client, token, item)
    assert resp.status_code == 401 and lane(app).declined_by == {"session_ended": 1}
    assert totals(app, city.users["officer"]) == before


def test_a9_lane_leaves_hosts_and_bodies_flask_refuses_to_the_full_stack(csrf_app, city, clock):
    """A9: a Host outside TRUSTED_HOSTS (400) and a body over MAX_CONTENT_LENGTH (413) get Flask's answers, not the lane's."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    app.config["TRUSTED_HOSTS"] = ["platform.example"]
    assert beat(client, token, item).status_code == 400
    app.config["TRUSTED_HOSTS"], app.config["MAX_CONTENT_LENGTH"] = None, 16
    assert beat(client, token, item).status_code == 413
    assert lane(app).served == 0 and lane(app).declined_by == {"untrusted_host": 1, "not_ordinary": 1}


def test_a9_lane_serves_a_changed_client_once_flask_login_marked_the_session(csrf_app, city, clock):
    """A9: a beat from another address on a fresh session is handed to the full stack, which marks it not fresh; later beats are served."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    moved = {"REMOTE_ADDR": "198.51.100.20"}
    clock.advance(seconds=30)
    first = client.post(f"/api/v1/study/items/{item}/heartbeat", json={"inputs": 1}, headers={"X-CSRFToken": token},
                        environ_base=moved)
    assert first.status_code == 200 and "Set-Cookie" in first.headers  # _fresh = False, a new cookie
    assert lane(app).served == 0 and lane(app).declined_by == {"session_protection": 1}
    clock.advance(seconds=30)
    again = client.post(f"/api/v1/study/items/{item}/heartbeat", json={"inputs": 1}, headers={"X-CSRFToken": token},
                        environ_base=moved)
    assert again.status_code == 200 and lane(app).served == 1


def test_l10_lane_error_is_logged_at_warning_once_a_minute_and_counted(csrf_app, city, clock, database_url, caplog):
    """L10: an unexpected error in the lane is counted, logged at WARNING at most once a minute with the number unlogged, and the full stack answers."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    with app.app_context():
        engine = db.engine
        engine.dispose()
        statement = ("PRAGMA query_only = ON" if database_url.startswith("sqlite")
                     else "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")

        def read_only(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute(statement)
            cur.close()
            if not database_url.startswith("sqlite"):
                dbapi_conn.commit()

        event.listen(engine, "connect", read_only)
    try:
        with caplog.at_level(logging.WARNING, logger=app.logger.name):
            for _ in range(3):
                clock.advance(seconds=30)
                assert beat(client, token, item).status_code == 503
            lane(app)._warned_at -= express.WARNING_INTERVAL  # a minute later
            clock.advance(seconds=30)
            assert beat(client, token, item).status_code == 503
    finally:
        event.remove(engine, "connect", read_only)
        engine.dispose()
    warnings = [r for r in caplog.records if r.name == app.logger.name and "express lane" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    assert "(0 more" in warnings[0].getMessage() and "(2 more" in warnings[1].getMessage()
    assert warnings[0].exc_info is not None
    assert (lane(app).errors, lane(app).served) == (4, 0)
