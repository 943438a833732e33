"""/api/v1/forms (issue 17): the officer's forms as JSON over the pages' rules — who fills what
(queries.forms_for), drafts and submit once (services.save), what is missing
(definition.check_complete), who reads a submission (access.open_submission: 404 to everyone
else, identical to a missing id; every other reader audited and shown to the officer)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import db
from app.forms_ import access
from app.models import AuditLog, FormSubmission, Unit, User
from tests.conftest import csrf_of
from tests.factories import PASSWORD, build_city, make_form, make_user

ANSWER = "张某某律师事务所"
COMPLETE = {"marital": "已婚", "lawyer": {"value": "yes", "details": "儿子是律师"},
            "relatives": [{"c1": "王磊", "c2": "儿子", "c3": "律师", "c4": ANSWER}], "other": "无"}


@pytest.fixture
def form_id(app, city):
    """Inspectors of branch A (the officer's) and branch B; the confidential 个人有关事项报告 for the city's officers."""
    with app.app_context():
        make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector", name="督察甲")
        make_user(db.session, "inspector_b", db.session.get(Unit, city.branch_b), role="inspector")
        fid = make_form(db.session, city.users["admin"]).id
        db.session.commit()
        return fid


def _login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _stored(app, username="officer"):
    """(status, answers, version number, submitted_at) of the person's submission, or None."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        sub = db.session.scalar(select(FormSubmission).where(FormSubmission.user_id == user.id))
        if sub is None:
            return None
        return sub.status, access.own_answers(user, sub), sub.version.number, sub.submitted_at


def _count(app, action, target_id=None) -> int:
    with app.app_context():
        stmt = select(func.count(AuditLog.id)).where(AuditLog.action == action)
        if target_id is not None:
            stmt = stmt.where(AuditLog.target_id == str(target_id))
        return db.session.scalar(stmt)


def _error(resp, status, code=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def _submitted(app, form_id) -> int:
    officer = _login(app, "officer")
    resp = officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": COMPLETE})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["submission"]["id"]


def test_officer_lists_reads_drafts_and_submits(app, form_id):
    """The officer lists the form (UTC due_at, status), reads its definition, saves a draft, submits once; the list follows."""
    officer = _login(app, "officer")
    forms = officer.get("/api/v1/forms").get_json()["forms"]
    assert forms == [{"id": form_id, "title": "个人有关事项报告", "confidentiality": "confidential",
                      "due_at": "2026-03-20T10:00:00Z", "overdue": False, "closed": False, "status": "not_started",
                      "submission_id": None}]
    one = officer.get(f"/api/v1/forms/{form_id}").get_json()
    assert one["version"] == 1 and one["answers"] == {} and one["submission"] is None
    assert [f["key"] for f in one["definition"]["fields"]][:3] == ["s1", "marital", "lawyer"]

    resp = officer.put(f"/api/v1/forms/{form_id}/draft",
                       json={"answers": {"other": "草稿", "marital": "离异", "relatives": [{"c1": "王磊"}, {}]}})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    # The page's leniency: an unknown choice dropped, the empty row left out, the rest kept.
    assert body["answers"]["marital"] == "" and body["answers"]["other"] == "草稿"
    assert body["answers"]["relatives"] == [{"c1": "王磊", "c2": "", "c3": "", "c4": ""}]
    assert body["submission"]["status"] == "draft"
    assert _stored(app)[:2] == ("draft", body["answers"])
    again = officer.get(f"/api/v1/forms/{form_id}").get_json()
    assert again["answers"] == body["answers"] and again["submission"]["id"] == body["submission"]["id"]
    assert officer.get("/api/v1/forms").get_json()["forms"][0]["status"] == "draft"

    resp = officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": COMPLETE})
    assert resp.status_code == 200 and resp.get_json()["submission"]["status"] == "submitted"
    assert resp.get_json()["submission"]["submitted_at"] == "2026-03-09T02:00:00Z"
    status, answers, version, _at = _stored(app)
    assert status == "submitted" and answers["relatives"][0]["c4"] == ANSWER and version == 1
    listed = officer.get("/api/v1/forms").get_json()["forms"][0]
    assert listed["status"] == "submitted" and listed["submission_id"] == body["submission"]["id"]
    # The page agrees: the fill page now sends to the read-only submission.
    assert officer.get(f"/forms/{form_id}").status_code == 302


def test_submit_without_body_submits_the_saved_draft(app, form_id):
    """POST …/submit with no body submits the stored draft, checked by the page's check_complete."""
    officer = _login(app, "officer")
    officer.put(f"/api/v1/forms/{form_id}/draft", json={"answers": COMPLETE})
    assert officer.post(f"/api/v1/forms/{form_id}/submit").status_code == 200
    assert _stored(app)[0] == "submitted"


def test_a_second_submit_and_a_draft_after_it_change_nothing(app, form_id):
    """Submitted is read-only: a second submit and a draft save get 409 locked and leave answers, time and audit as they were."""
    sub_id = _submitted(app, form_id)
    before, audits = _stored(app), _count(app, "form.submit")
    officer = _login(app, "officer")
    changed = {**COMPLETE, "other": "改过了"}
    _error(officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": changed}), 409, "locked")
    _error(officer.post(f"/api/v1/forms/{form_id}/submit"), 409, "locked")
    _error(officer.put(f"/api/v1/forms/{form_id}/draft", json={"answers": changed}), 409, "locked")
    assert _stored(app) == before and _count(app, "form.submit") == audits == 1
    assert officer.get(f"/api/v1/forms/{form_id}").get_json()["submission"]["id"] == sub_id


def test_incomplete_submit_is_422_with_problems_and_changes_nothing(app, form_id):
    """Required fields are checked by the page's function; an incomplete submit answers 422 with each problem and keeps the draft as it was."""
    officer = _login(app, "officer")
    resp = officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": {"other": "只填了这个"}})
    err = _error(resp, 422, "incomplete")
    assert set(err["problems"]) == {"marital", "lawyer"}
    assert err["problems"]["marital"]["code"] == "required" and err["problems"]["marital"]["message"]
    assert _stored(app) is None  # not even an empty draft was left behind
    officer.put(f"/api/v1/forms/{form_id}/draft", json={"answers": {"other": "草稿"}})
    before = _stored(app)
    half = {**COMPLETE, "lawyer": {"value": "yes", "details": ""}, "other": "新的"}
    assert _error(officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": half}), 422,
                  "incomplete")["problems"] == {"lawyer": {"code": "details", "message": "选择“是”时请说明具体情况。"}}
    assert _stored(app) == before


def test_a17_extra_fields_are_ignored(app, form_id, city):
    """A17: user_id, status, submitted_at and unknown answer keys in a draft or submit body change nothing they name."""
    officer = _login(app, "officer")
    other = city.users["officer2"]
    resp = officer.put(f"/api/v1/forms/{form_id}/draft", json={
        "answers": {"other": "我的", "nosuch": "x", "status": "submitted", "user_id": other},
        "user_id": other, "status": "submitted", "submitted_at": "2020-01-01T00:00:00Z", "version": 9})
    assert resp.status_code == 200
    status, answers, version, submitted_at = _stored(app)
    assert status == "draft" and submitted_at is None and version == 1
    assert set(answers) == {"marital", "lawyer", "relatives", "other"} and answers["other"] == "我的"
    assert _stored(app, "officer2") is None
    resp = officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": COMPLETE, "user_id": other})
    assert resp.status_code == 200 and _stored(app, "officer2") is None
    with app.app_context():
        assert db.session.get(FormSubmission, resp.get_json()["submission"]["id"]).user_id == city.users["officer"]


def test_bad_json_gets_a_clear_json_error_and_changes_nothing(app, form_id):
    """A body that is not JSON, not an object, without answers, or with a value of the wrong type: 400/422 JSON, the draft unchanged."""
    officer = _login(app, "officer")
    officer.put(f"/api/v1/forms/{form_id}/draft", json={"answers": {"other": "原样"}})
    before = _stored(app)
    url = f"/api/v1/forms/{form_id}/draft"
    _error(officer.put(url, data="{not json", content_type="application/json"), 400, "bad_request")
    _error(officer.put(url, data="other=x", content_type="application/x-www-form-urlencoded"), 400, "bad_request")
    _error(officer.put(url, json=["other", "x"]), 400, "bad_request")
    _error(officer.put(url, json={"other": "x"}), 422, "invalid")
    _error(officer.put(url, json={"answers": ["x"]}), 422, "invalid")
    for key, value in (("marital", 1), ("lawyer", "yes"), ("relatives", [{"c1": 5}]), ("relatives", "王磊"),
                       ("other", {"text": "x"})):
        err = _error(officer.put(url, json={"answers": {"other": "改", key: value}}), 422, "invalid")
        assert err["field"] == key and key in err["message"]
    _error(officer.put(url, json={"answers": {"relatives": [{"c1": "x"}] * 31}}), 422, "invalid")
    _error(officer.post(f"/api/v1/forms/{form_id}/submit", data="{", content_type="application/json"), 400)
    _error(officer.post(f"/api/v1/forms/{form_id}/submit", json={"answers": {**COMPLETE, "marital": ["已婚"]}}), 422)
    assert _stored(app) == before


def test_forms_not_asked_of_the_caller_are_404_and_leaders_403(app, city, form_id):
    """A form aimed at another branch is 404 on read, draft and submit (nothing created); leaders and the office are not fillers (403)."""
    with app.app_context():
        other = make_form(db.session, city.users["admin"], target_unit_id=city.branch_b, title="乙分局表").id
        db.session.commit()
    officer = _login(app, "officer")
    assert [f["id"] for f in officer.get("/api/v1/forms").get_json()["forms"]] == [form_id]
    missing = officer.get("/api/v1/forms/999999")
    _error(missing, 404, "not_found")
    assert officer.get(f"/api/v1/forms/{other}").get_data() == missing.get_data()
    _error(officer.put(f"/api/v1/forms/{other}/draft", json={"answers": {}}), 404)
    _error(officer.post(f"/api/v1/forms/{other}/submit", json={"answers": COMPLETE}), 404)
    assert _stored(app) is None
    assert _login(app, "officer_b").get(f"/api/v1/forms/{other}").status_code == 200
    for role in ("leader", "admin"):
        _error(_login(app, role).get("/api/v1/forms"), 403, "forbidden")


@pytest.mark.parametrize("username", ["supervisor", "leader", "admin", "inspector_b", "officer2"])
def test_confidential_submission_is_404_to_everyone_else_like_a_missing_id(app, form_id, username):
    """An ordinary supervisor, a leader, an admin, another subtree's inspector and a colleague get 404 on the API, body identical to a nonexistent id; nothing audited."""
    sub_id = _submitted(app, form_id)
    client = _login(app, username)
    forbidden = client.get(f"/api/v1/forms/submissions/{sub_id}")
    missing = client.get("/api/v1/forms/submissions/999999")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.get_data() == missing.get_data() and ANSWER not in forbidden.get_data(as_text=True)
    assert forbidden.get_json()["error"]["code"] == "not_found"
    assert _count(app, "form.read") == 0


def test_inspector_of_the_subtree_reads_and_the_officer_sees_the_read(app, form_id):
    """The inspector of the officer's branch reads the answers through the API; one form.read row is written, and the officer sees it in the API and on the page."""
    sub_id = _submitted(app, form_id)
    officer = _login(app, "officer")
    own = officer.get(f"/api/v1/forms/submissions/{sub_id}").get_json()["submission"]
    assert own["reads"] == [] and own["answers"]["relatives"][0]["c4"] == ANSWER
    assert _count(app, "form.read") == 0  # the owner's own reads are not audited
    resp = _login(app, "inspector").get(f"/api/v1/forms/submissions/{sub_id}")
    assert resp.status_code == 200
    read = resp.get_json()["submission"]
    assert read["answers"]["relatives"][0]["c4"] == ANSWER and read["reads"] is None
    assert read["owner"]["name"] == "officer" and read["form"]["confidentiality"] == "confidential"
    assert _count(app, "form.read", sub_id) == 1
    reads = officer.get(f"/api/v1/forms/submissions/{sub_id}").get_json()["submission"]["reads"]
    assert [(r["reader"], r["unit"], r["how"]) for r in reads] == [("督察甲", "甲分局", "api")]
    assert reads[0]["at"].endswith("Z")
    page = officer.get(f"/forms/submissions/{sub_id}").get_data(as_text=True)
    assert "督察甲" in page and "通过接口查看" in page


def test_open_form_follows_the_same_rule(app, city):
    """On an open form the unit's supervisor may read a submission (access.may_read), the other branch's may not."""
    with app.app_context():
        fid = make_form(db.session, city.users["admin"], confidential=False, title="一般表").id
        db.session.commit()
    sub_id = _submitted(app, fid)
    assert _login(app, "supervisor").get(f"/api/v1/forms/submissions/{sub_id}").status_code == 200
    assert _login(app, "supervisor_b").get(f"/api/v1/forms/submissions/{sub_id}").status_code == 404


def test_writes_need_the_csrf_header(make_app, clock):
    """Like every /api/v1 write, draft and submit need X-CSRFToken (400 csrf_failed without it, nothing saved)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        data = build_city(db.session, clock.now)
        fid = make_form(db.session, data.users["admin"]).id
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": PASSWORD, "csrf_token": csrf_of(client, "/login")})
    _error(client.put(f"/api/v1/forms/{fid}/draft", json={"answers": {"other": "x"}}), 400, "csrf_failed")
    _error(client.post(f"/api/v1/forms/{fid}/submit", json={"answers": COMPLETE}), 400, "csrf_failed")
    assert _stored(app) is None
    resp = client.put(f"/api/v1/forms/{fid}/draft", json={"answers": {"other": "x"}},
                      headers={"X-CSRFToken": csrf_of(client)})
    assert resp.status_code == 200


def test_reopened_submission_can_be_corrected_and_submitted_again(app, form_id, clock):
    """After the reviewer reopens it (services.reopen), the draft saves again and a new submit is accepted; the reason is shown."""
    from app.forms_ import services

    sub_id = _submitted(app, form_id)
    with app.app_context():
        inspector = db.session.scalar(select(User).where(User.username == "inspector"))
        services.reopen(db.session, db.session.get(FormSubmission, sub_id), inspector, "婚姻状况填错了", clock.now)
        db.session.commit()
    officer = _login(app, "officer")
    one = officer.get(f"/api/v1/forms/{form_id}").get_json()
    assert one["form"]["status"] == "draft" and one["submission"]["reopen_reason"] == "婚姻状况填错了"
    assert officer.put(f"/api/v1/forms/{form_id}/draft", json={"answers": {**COMPLETE, "marital": "未婚"}}).status_code == 200
    assert officer.post(f"/api/v1/forms/{form_id}/submit").status_code == 200
    status, answers, _version, _at = _stored(app)
    assert status == "submitted" and answers["marital"] == "未婚"


def test_the_api_decides_nothing_itself():
    """One home per rule: app/api/forms.py reads submissions only through access.open_submission/own_answers and saves only through services."""
    from pathlib import Path

    src = (Path(__file__).resolve().parents[1] / "app" / "api" / "forms.py").read_text(encoding="utf-8")
    assert "rule.open_submission(" in src and "rule.own_answers(" in src and "services.save(" in src
    for word in ("FormSubmission", "crypto", "may_read", "check_complete(", "answers_token", "session.get("):
        assert word not in src, word


# --- races (attack report F1): the submission row is locked before its status is checked --------

def _fire(calls):
    """Run ``calls`` (callables) in threads released together by a barrier; their results in order."""
    import threading

    barrier, results, errors = threading.Barrier(len(calls)), [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as err:  # reported below; a thread's exception is otherwise lost
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return results


def test_race_concurrent_submits_and_drafts_leave_one_submit_and_its_answers(app, form_id, clock):
    """F1: two submits and six draft saves at once give one 200 submit, one form.submit row, and the winner's answers stored."""
    from app.forms_ import definition as defn, services

    officer = _login(app, "officer")
    assert officer.put(f"/api/v1/forms/{form_id}/draft", json={"answers": {"other": "草稿"}}).status_code == 200
    clients = [_login(app, "officer") for _ in range(8)]
    for round_ in range(3):  # a race may need a few tries to show; each round reopens for the next
        submits = [{**COMPLETE, "other": f"SUBMIT_{round_}_{n}"} for n in range(2)]
        calls = [lambda c=clients[n], body=submits[n]: c.post(f"/api/v1/forms/{form_id}/submit", json={"answers": body})
                 for n in range(2)]
        calls += [lambda c=clients[2 + n], n=n: c.put(f"/api/v1/forms/{form_id}/draft", json={
            "answers": {"marital": "未婚", "other": f"OVERWRITE_{round_}_{n}"}}) for n in range(6)]
        responses = _fire(calls)
        submitted = [n for n in range(2) if responses[n].status_code == 200]
        assert len(submitted) == 1, [r.status_code for r in responses]
        loser = responses[1 - submitted[0]]
        assert loser.status_code == 409 and loser.get_json()["error"]["code"] == "locked"
        for resp in responses[2:]:
            assert resp.status_code in (200, 409), resp.get_data(as_text=True)
            if resp.status_code == 409:
                assert resp.get_json()["error"]["code"] == "locked"
        assert _count(app, "form.submit") == round_ + 1
        status, answers, version, _at = _stored(app)
        with app.app_context():
            sub = db.session.scalar(select(FormSubmission))
            expected = defn.parse_json(sub.version.definition, submits[submitted[0]])
            assert status == "submitted" and answers == expected
            inspector = db.session.scalar(select(User).where(User.username == "inspector"))
            services.reopen(db.session, sub, inspector, "再核对一次", clock.now)
            db.session.commit()


def test_race_two_reopens_at_once_send_the_person_one_notice(app, form_id, clock):
    """F1: two reviewers reopening the same submission at once: one reopens, the other gets FormError not_submitted."""
    from app.forms_ import services
    from app.models import Notification

    sub_id = _submitted(app, form_id)
    with app.app_context():
        make_user(db.session, "inspector2", db.session.get(Unit, db.session.scalar(
            select(User.unit_id).where(User.username == "inspector"))), role="inspector")
        db.session.commit()

    def reopen(username):
        with app.app_context():
            reviewer = db.session.scalar(select(User).where(User.username == username))
            sub = db.session.get(FormSubmission, sub_id)
            try:
                services.reopen(db.session, sub, reviewer, f"退回 {username}", clock.now)
                db.session.commit()
                return "reopened"
            except services.FormError as err:
                db.session.rollback()
                return err.code

    assert sorted(_fire([lambda: reopen("inspector"), lambda: reopen("inspector2")])) == ["not_submitted", "reopened"]
    assert _count(app, "form.reopen") == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "form_reopened")) == 1
