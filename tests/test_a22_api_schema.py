"""A22: a property-based run of every /api/v1 operation against its OpenAPI document.

Schemathesis (4.x) loads ``/api/v1/openapi.json`` from the real app (WSGI, a real SQLite file,
and a throwaway PostgreSQL server when one is available) and generates requests, valid and
invalid, for every operation in the document, as each role (officer, supervisor, leader,
admin) signed in with a session cookie and ``X-CSRFToken`` (CSRF on, as in production). Path
and query ids are drawn half from the generator and half from the ids that exist (the
officer's own attempt and another officer's, the paper's questions, items published or not,
units inside and outside the caller's subtree) and the edge values that once gave a 500, so the
requests reach the code behind the 404s.

Oracle, for every response:
- no 5xx, ever;
- the status code is one the document lists for the operation, the content type and the body
  match the documented schema (Schemathesis' checks), invalid input gets a 4xx;
- every error is JSON ``{"error": {"code": str, "message": str}}``;
- a refused write (4xx) changes nothing in the database (the audit log and session bookkeeping
  aside);
- no answer key or explanation reaches anybody while the exam window is open (the bank's
  explanations carry the marker ``SECRET``; no ``correct_answer``/``explanation`` field appears;
  a question of an attempt in progress carries only the documented PaperQuestion fields);
- nothing outside the caller's subtree: a supervisor's report rows and officer rows stay inside
  their branch, an officer never sees another officer's badge number or attempt.

The run is bounded and deterministic (``derandomize=True``: the same cases on every run):
``A22_MAX_EXAMPLES`` examples per operation and role (default 10), so the file finishes in well
under a minute on a 2-core machine. A longer exploration locally, with fresh random cases::

    A22_MAX_EXAMPLES=300 A22_RANDOM=1 .venv/bin/pytest tests/test_a22_api_schema.py -x -k sqlite -p no:logging

(``A22_RANDOM=1`` turns ``derandomize`` off; a failure prints the request as a curl command and
the Hypothesis seed to replay it with ``--hypothesis-seed``.) Every bug found this way gets a
plain regression test in tests/test_api.py.
"""
from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance
from sqlalchemy import text

from app.db import db
from app.exams import services as exam_services
from app.models import Base, StudyItem, Unit, User
from tests.conftest import csrf_of
from tests.factories import PASSWORD, build_city, make_bank, make_form

MAX_EXAMPLES = int(os.environ.get("A22_MAX_EXAMPLES", "10"))
DERANDOMIZE = os.environ.get("A22_RANDOM", "") != "1"
WEEK = "2026-W11"  # the clock fixture's week (Monday 2026-03-09 10:00 Asia/Shanghai)
ROLES = ("officer", "supervisor", "leader", "admin")
# Bookkeeping a refused request may write: the audit trail (access.denied) and session touches.
NOT_STATE = {"audit_log", "auth_sessions", "job_runs", "alembic_version"}
LEAK_FIELDS = re.compile(r'"(correct_answer|explanation|is_correct|answer_key)"\s*:\s*(?!null)')
ABSENT = object()
PAPER_QUESTION = {"id", "bank_id", "type", "stem", "options", "points", "answer"}


@pytest.fixture
def world(make_app, clock):
    """A small city with a bank, this week's exam, study items, and two officers' attempts."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        city = build_city(db.session, clock.now)
        make_bank(db.session)
        exam, _ = exam_services.create_weekly_exam(db.session, WEEK, clock.now)
        items = []
        for n, (published, target) in enumerate(((True, None), (False, None), (True, city.branch_b))):
            item = StudyItem(slug=f"a22-{n}", module="theory", kind="article", title=f"A22 内容 {n}",
                             body_html="<p>正文</p>", credited_minutes=30, required=True, stage="study",
                             target_unit_id=target, is_published=published)
            db.session.add(item)
            items.append(item)
        form_id = make_form(db.session, city.users["admin"]).id  # confidential, for the city's officers
        db.session.commit()
        exam_id, item_ids = exam.id, [i.id for i in items]
        units = {u.id: u.path for u in db.session.query(Unit)}
        badges = {u.username: u.badge_no for u in db.session.query(User)}
    attempts = {}
    for username in ("officer", "officer2"):
        client = _login(app, username)
        resp = client.post(f"/api/v1/exams/{exam_id}/attempts", headers={"X-CSRFToken": csrf_of(client)})
        assert resp.status_code == 201, resp.get_json()
        attempts[username] = resp.get_json()["attempt"]
    # The officer's draft and officer2's confidential submission (readable by neither role here
    # but its owner: the run asks for both ids as everybody).
    submissions = {}
    for username, action in (("officer", "draft"), ("officer2", "submit")):
        client = _login(app, username)
        call = client.put if action == "draft" else client.post
        resp = call(f"/api/v1/forms/{form_id}/{action}", headers={"X-CSRFToken": csrf_of(client)},
                    json={"answers": {"marital": "已婚", "lawyer": {"value": "no", "details": ""}, "other": "A22"}})
        assert resp.status_code == 200, resp.get_json()
        submissions[username] = resp.get_json()["submission"]["id"]
    return {"app": app, "city": city, "exam_id": exam_id, "item_ids": item_ids, "units": units,
            "badges": badges, "attempts": attempts, "form_id": form_id, "submissions": submissions}


def _login(app, username):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_of(client, "/login")})
    assert resp.status_code == 302
    return client


def _state(app) -> str:
    """A digest of every table that holds data (not bookkeeping)."""
    digest = hashlib.sha256()
    with app.app_context():
        with db.engine.connect() as conn:
            for name in sorted(Base.metadata.tables):
                if name in NOT_STATE:
                    continue
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()  # noqa: S608 (table names from metadata)
                digest.update(name.encode())
                digest.update(json.dumps(sorted(map(repr, rows))).encode())
    return digest.hexdigest()


def _order(operation) -> tuple:
    """Submitting ends the attempt and heartbeats move the clock: those run last."""
    path = operation.path
    return (path.endswith("/submit"), "heartbeat" in path, path, operation.method)


def _known(world) -> dict:
    """Ids that exist, per parameter name, mixed into the generated ones."""
    own = world["attempts"]["officer"]
    other = world["attempts"]["officer2"]
    units = sorted(world["units"])
    return {
        "exam_id": [world["exam_id"], world["exam_id"] + 1],
        "attempt_id": [own["id"], other["id"]],
        "question_id": [q["id"] for q in own["questions"]] + [max(q["id"] for q in own["questions"]) + 100],
        "item_id": world["item_ids"],
        "form_id": [world["form_id"], world["form_id"] + 1],
        "submission_id": [world["submissions"]["officer"], world["submissions"]["officer2"]],
        "unit_id": units,
        "unit": units + ["\u00b2", "99999999999999999999"],
        # ... and the edge values that once were 500s (date overflow, Unicode digits, INTEGER overflow)
        "week": [WEEK, "2026-W10", "2026-W53", "2021-W14", "0001-W01", "9999-W52"],
        "day": ["2026-03-09", "2026-03-01", "2021-04-12", "0001-01-01", "9999-12-31"],
    }


def _error_shape(resp) -> None:
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    assert isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str), body


def _no_key_during_attempt(case, resp) -> None:
    assert "SECRET" not in resp.text, f"explanation leaked by {case.method} {case.path}"
    assert not LEAK_FIELDS.search(resp.text), f"answer key leaked by {case.method} {case.path}"
    body = resp.json() if resp.status_code < 300 and resp.text.startswith("{") else {}
    attempt = body.get("attempt") if isinstance(body, dict) else None
    if isinstance(attempt, dict) and attempt.get("status") == "in_progress":
        assert attempt.get("results") is None, attempt.get("results")
        for question in attempt.get("questions", []):
            assert set(question) <= PAPER_QUESTION, set(question) - PAPER_QUESTION
            assert all(set(option) == {"key", "text"} for option in question["options"]), question


def _subtree_checks(world, role, case, resp) -> None:
    city, body_text = world["city"], resp.text
    if role == "officer":
        for username, badge in world["badges"].items():
            if username != "officer" and badge:
                assert badge not in body_text, f"{case.path}: another person's badge {badge}"
        if (case.path_parameters or {}).get("attempt_id") == world["attempts"]["officer2"]["id"]:
            assert resp.status_code >= 400, f"{case.method} {case.path}: another officer's attempt"
        if (case.path_parameters or {}).get("submission_id") == world["submissions"]["officer2"]:
            assert resp.status_code == 404, f"{case.method} {case.path}: another officer's confidential answers"
    if role != "officer" and (case.path_parameters or {}).get("submission_id") in world["submissions"].values():
        # An admin without the second factor is stopped before the rule is even asked (403 mfa_required).
        refused = (404, 403) if role == "admin" else (404,)
        assert resp.status_code in refused, f"{role} {case.method} {case.path}: a confidential submission"
    if role == "supervisor" and resp.status_code == 200 and case.path.startswith("/reports/"):
        root = world["units"][city.branch_a]
        body = resp.json()
        for row in body.get("rows", []):
            assert world["units"][row["unit_id"]].startswith(root), row
        for row in body.get("officers", []):
            assert world["units"][row["unit_id"]].startswith(root), row
        for name in ("officer_b", "officer_c", "乙一所", "丙一庭"):
            assert name not in body_text, name


@pytest.mark.parametrize("role", ROLES)
def test_a22_every_operation_conforms(world, role):
    """A22: generated requests per role: no 5xx, spec-conformant bodies and statuses, no leak."""
    app = world["app"]
    client = _login(app, role)
    # identity: the WSGI transport reads bodies as sent, and Flask-Compress would gzip/brotli them.
    headers = {"X-CSRFToken": csrf_of(client), "Accept-Encoding": "identity"}
    cookie = client.get_cookie("session").value
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Unknown query parameters are ignored by design (like any web API): not a negative case.
    schema.config.generation.update(allow_extra_parameters=False)

    @schema.auth()
    class SessionCookie:
        """The document's security scheme, the session cookie, as signed in (CSRF header beside it)."""

        def get(self, case, context):
            return cookie

        def set(self, case, data, context):
            case.cookies = {**(case.cookies or {}), "session": data}

    known = _known(world)
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=_order)
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]
    # Schemathesis leaves out the document's own path (GET /openapi.json).
    assert len(operations) == sum(len(ops) for path, ops in documented.items() if path != "/openapi.json") >= 12
    clock = app.config["CLOCK"]

    for operation in operations:
        strategies = [operation.as_strategy(GenerationMode.POSITIVE, auth_storage=schema.auth)]
        if operation.path_parameters or operation.query or operation.body:
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, auth_storage=schema.auth))
        cases = st.one_of(*strategies)
        query_names = [p.name for p in operation.query]

        @settings(max_examples=MAX_EXAMPLES, derandomize=DERANDOMIZE, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=True)
        @given(case=cases, data=st.data())
        def run(case, data):
            if case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE:
                for name in list(case.path_parameters or {}):
                    if name in known:
                        case.path_parameters[name] = data.draw(
                            st.one_of(st.just(case.path_parameters[name]), st.sampled_from(known[name])))
                for name in query_names:  # optional ones too, which the generator often leaves out
                    if name in known:
                        generated = (case.query or {}).get(name, ABSENT)
                        value = data.draw(st.one_of(st.just(generated), st.sampled_from(known[name])))
                        if value is not ABSENT:
                            case.query = {**(case.query or {}), name: value}
            if "heartbeat" in case.path:
                clock.advance(seconds=31)
            before = _state(app) if case.method != "GET" else None  # writes: the spot check that costs
            resp = case.call(headers=headers)
            assert resp.status_code < 500, f"{case.method} {case.formatted_path} {case.query}: {resp.text[:500]}"
            # Without a session a write fails the CSRF check first (400 csrf_failed, as documented),
            # so Schemathesis' no-auth probe applies to reads only; tests/test_csrf.py covers writes.
            # Schema-valid input may still be refused on meaning (an option key not in the question,
            # week 0000-W00): 400/422 as documented, so "positive data acceptance" does not apply.
            excluded = [positive_data_acceptance] + ([ignored_auth] if case.method != "GET" else [])
            case.validate_response(resp, headers=headers, excluded_checks=excluded,
                                   transport_kwargs={"headers": headers})
            if resp.status_code >= 400:
                _error_shape(resp)
                assert before is None or _state(app) == before, f"a {resp.status_code} changed the database"
            _no_key_during_attempt(case, resp)
            _subtree_checks(world, role, case, resp)

        run()
