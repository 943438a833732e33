"""The /api/v1 contract and its OpenAPI document."""
from __future__ import annotations

import re


def test_openapi_matches_routes(app, client):
    """The OpenAPI document lists exactly the /api/v1 routes, with their methods."""
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    actual = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            actual |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == actual


def test_me_contract(client, city, auth):
    """GET /me returns id, username, name, role and unit {id, name, path}."""
    auth.login(client, "supervisor")
    me = client.get("/api/v1/me").get_json()
    assert set(me) >= {"id", "username", "name", "role", "unit"}
    assert set(me["unit"]) == {"id", "name", "path"}
    assert me["role"] == "supervisor" and me["unit"]["id"] == city.branch_a


# --- Regressions found by the Schemathesis run (tests/test_a22_api_schema.py) -------------

HUGE = "99999999999999999999"  # past every INTEGER column: was OverflowError, a 500


def _api_error(resp, status: int, code: str | None = None) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body["error"]) >= {"code", "message"}
    if code:
        assert body["error"]["code"] == code


def test_a22_out_of_range_path_ids_are_404(app, client, city, auth):
    """A22: a path id past the INTEGER range (or 0) is a JSON 404, never a 500."""
    auth.login(client, "officer")
    for path in (f"/api/v1/attempts/{HUGE}", "/api/v1/attempts/2147483648", "/api/v1/attempts/0"):
        _api_error(client.get(path), 404)
    _api_error(client.post(f"/api/v1/exams/{HUGE}/attempts"), 404)
    _api_error(client.put(f"/api/v1/attempts/1/answers/{HUGE}", json={"answer": ["A"]}), 404)
    _api_error(client.post(f"/api/v1/study/items/{HUGE}/heartbeat", json={}), 404)
    auth.login(client, "supervisor")
    _api_error(client.get(f"/api/v1/reports/units/{HUGE}/officers"), 404)
    assert client.get("/api/v1/reports/units/2147483647/officers").status_code == 403  # in range: not in scope


def test_a22_weeks_outside_2000_2099_get_422(client, city, auth):
    """A22: week=0001-W01 or 9999-W52 gets 422 invalid_week (was a date overflow, a 500)."""
    auth.login(client, "supervisor")
    for week in ("0001-W01", "9999-W52", "1999-W52", "2100-W01"):
        for path in ("/api/v1/reports/units", f"/api/v1/reports/units/{city.branch_a}/officers", "/api/v1/leaderboard"):
            _api_error(client.get(f"{path}?week={week}"), 422, "invalid_week")
    assert client.get("/api/v1/leaderboard?week=2099-W52").status_code == 200


def test_a22_unit_query_is_an_ascii_id(client, city, auth):
    """A22: unit=² (a Unicode digit) or a huge number gets 422 invalid_unit, not a 500."""
    auth.login(client, "supervisor")
    for raw in ("%C2%B2", "%D9%A3", HUGE, "2147483648", "-1", "1.0"):
        _api_error(client.get(f"/api/v1/reports/units?unit={raw}"), 422, "invalid_unit")
    assert client.get(f"/api/v1/reports/units?unit={city.branch_a}").status_code == 200
    assert client.get("/api/v1/reports/units?unit=").status_code == 200  # empty: the caller's own


def test_a22_study_progress_far_days_get_422(client, city, auth):
    """A22: day=0001-01-01 or 9999-12-31 gets 422 (was a date overflow, a 500)."""
    auth.login(client, "officer")
    for day in ("0001-01-01", "0999-12-31", "9999-12-31", "2100-01-01"):
        _api_error(client.get(f"/api/v1/study/progress?day={day}"), 422, "invalid")
    assert client.get("/api/v1/study/progress?day=2021-04-12").status_code == 200


def test_a22_submit_with_a_bad_question_id_is_400_and_keeps_the_attempt(app, client, city, auth, clock):
    """A22: a submit body not as documented (not a JSON object, a bad answers[] item) gets 400, submits nothing."""
    from app.db import db
    from app.exams import services
    from tests.factories import make_bank

    with app.app_context():
        make_bank(db.session)
        exam, _ = services.create_weekly_exam(db.session, "2026-W11", clock.now)
        db.session.commit()
        exam_id = exam.id
    auth.login(client, "officer")
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts").get_json()["attempt"]
    for bad in ("abc", None, [], 10**30, 1.5, True, 0):
        resp = client.post(f"/api/v1/attempts/{attempt['id']}/submit",
                           json={"answers": [{"question_id": bad, "answer": ["A"]}]})
        _api_error(resp, 400, "invalid_answer")
    resp = client.post(f"/api/v1/attempts/{attempt['id']}/submit", data='{"answers": [{"question_id": Infinity}]}',
                       content_type="application/json")
    _api_error(resp, 400, "invalid_answer")
    for raw in ("@\u00e9not json", "[]", "null", '"answers"'):  # was taken as no body: the attempt was submitted
        resp = client.post(f"/api/v1/attempts/{attempt['id']}/submit", data=raw, content_type="application/json")
        _api_error(resp, 400, "invalid_answer")
    assert client.get(f"/api/v1/attempts/{attempt['id']}").get_json()["attempt"]["status"] == "in_progress"
    # A finished attempt ignores a resent body, but not a malformed one (it was a 200).
    assert client.post(f"/api/v1/attempts/{attempt['id']}/submit").status_code == 200
    qid = attempt["questions"][0]["id"]
    for item in ({"question_id": qid, "answer": [None]}, {"question_id": qid, "answer": "A"},
                 {"question_id": qid, "answer": ["A"], "seq": "1"}):
        _api_error(client.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": [item]}), 400, "invalid_answer")
    resend = {"answers": [{"question_id": qid, "answer": ["A"], "seq": 1}]}
    assert client.post(f"/api/v1/attempts/{attempt['id']}/submit", json=resend).status_code == 200
