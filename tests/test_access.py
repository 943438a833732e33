"""Access control: QUALITY A14 (route map), A15 (fail closed), A16 (scope), A19 (GET is safe)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.db import db
from app.models import Base

ALL = {"officer", "supervisor", "leader", "admin", "inspector"}
STAFF = {"supervisor", "leader", "admin"}

#: endpoint -> roles allowed ("public" for everyone). Reviewed by hand: a new route fails the
#: meta-test until it is added here.
POLICY = {
    "auth.login": "public",
    "auth.set_language": "public",
    "main.healthz": "public",
    "main.metrics": "public",  # public to the access gate; 404 unless loopback or METRICS_NETWORKS
    "api.openapi": "public",
    "auth.logout": ALL,
    "auth.change_password": ALL,
    "auth.mfa": {"admin"},
    "main.index": ALL,
    "main.me": ALL,
    "main.home": {"officer"},
    "study.index": {"officer"},
    "study.module": {"officer"},
    "study.item": {"officer"},
    "study.item_media": {"officer"},
    "study.history": {"officer"},
    "study.flag_list": STAFF,
    "study.flag_review": {"supervisor", "admin"},
    "content.index": {"admin"},
    "content.new": {"admin"},
    "content.edit": {"admin"},
    "content.preview": {"admin"},
    "content.publish": {"admin"},
    "content.item_media": {"admin"},
    "content.policy": {"admin"},
    "api.study_items": {"officer"},
    "api.study_heartbeat": {"officer"},
    "api.study_progress": {"officer"},
    "exams.index": {"officer"},
    "exams.start": {"officer"},
    "exams.attempt": {"officer"},
    "exams.mistakes": {"officer"},
    "notices.index": ALL,
    "notices.mark_read": ALL,
    "notices.show": ALL,
    "notices.open": ALL,
    "notices.compose": {"supervisor", "admin"},
    "notices.sent": {"supervisor", "admin"},
    "notices.receipts": {"supervisor", "admin"},
    "audit.index": {"admin"},
    "audit.export": {"admin"},
    "reports.dashboard": STAFF,
    "reports.units_xlsx": STAFF,
    "reports.units_csv": STAFF,
    "reports.officers_export": STAFF,
    "reports.printable": STAFF,
    "campaign_report.page": STAFF,
    "campaign_report.workbook": STAFF,
    "reports.remind": {"supervisor", "admin"},
    "reports.weights": {"admin"},
    "reports.leaderboard": ALL,
    "officers.show": STAFF,
    "api.report_units": STAFF,
    "api.report_officers": STAFF,
    "api.leaderboard": ALL,
    "exam_admin.index": {"admin"},
    "exam_admin.blueprint": {"admin"},
    "exam_admin.item_analysis": {"admin"},
    "exam_admin.grants": {"supervisor", "admin"},
    "exams.practice": {"officer"},
    "exams.practice_answer": {"officer"},
    "api.practice_today": {"officer"},
    "api.practice_answer": {"officer"},
    "api.exams_current": {"officer"},
    "api.attempts_start": {"officer"},
    "api.attempts_get": {"officer"},
    "api.attempts_save": {"officer"},
    "api.attempts_submit": {"officer"},
    "main.desk": STAFF,
    "api.me": ALL,
    "admin.index": {"admin"},
    "admin.users": {"admin"},
    "admin.user_new": {"admin"},
    "admin.user_edit": {"admin"},
    "admin.user_reset": {"admin"},
    "admin.user_import": {"admin"},
    "admin.user_import_template": {"admin"},
    "admin.units": {"admin"},
    "admin.unit_edit": {"admin"},
    "bank.index": {"admin"},
    "bank.detail": {"admin"},
    "bank.edit": {"admin"},
    "bank.retire": {"admin"},
    "bank.upload": {"admin"},
    "bank.template": {"admin"},
    "bank.export_yaml": {"admin"},
    "bank.export_xlsx": {"admin"},
    "tasks.index": {"officer"},
    "tasks.task": {"officer"},
    "tasks.photo": {"officer", "supervisor", "admin"},
    "tasks.review_list": {"supervisor", "admin"},
    "tasks.review": {"supervisor", "admin"},
    "tasks.manage": {"supervisor", "admin"},
    "tasks.stages": {"admin"},
    "tasks.edit": {"supervisor", "admin"},
    "tasks.delete": {"supervisor", "admin"},
    "tasks.withdraw": {"supervisor", "admin"},
    "tasks.restore": {"supervisor", "admin"},
    "tasks.events": {"supervisor", "admin"},
    "tasks.attendance": {"supervisor", "admin"},
    # Forms (issue 17). Submissions and their files admit everyone signed in: app/forms_/access.py
    # then answers 404 to whoever may not read one (tests/test_forms_access.py).
    "forms.index": {"officer", "supervisor", "inspector"},
    "forms.fill": {"officer", "supervisor", "inspector"},
    "forms.autosave": {"officer", "supervisor", "inspector"},
    "forms.submission": ALL,
    "forms.file": ALL,
    "forms.reopen": {"supervisor", "inspector", "admin"},
    "forms.desk": STAFF | {"inspector"},
    "forms.desk_form": STAFF | {"inspector"},
    "forms.export_xlsx": STAFF | {"inspector"},
    "forms.survey_results": STAFF | {"inspector"},  # aggregates only (app/forms_/survey.py)
    "forms.survey_results_xlsx": STAFF | {"inspector"},
    "forms.manage": {"admin"},
    "forms.new": {"admin"},
    "forms.edit": {"admin"},
    "forms.add_field": {"admin"},
    "forms.edit_field": {"admin"},
    "forms.move_field": {"admin"},
    "forms.delete_field": {"admin"},
    "forms.publish": {"admin"},
    "api.forms_list": {"officer", "supervisor", "inspector"},
    "api.forms_get": {"officer", "supervisor", "inspector"},
    "api.forms_draft": {"officer", "supervisor", "inspector"},
    "api.forms_submit": {"officer", "supervisor", "inspector"},
    "api.forms_submission": ALL,
    "ledger.index": ALL,  # the 纪检督察 reads the ledger of their subtree (never writes)
    "ledger.new": {"supervisor", "admin"},
    "ledger.item": ALL,  # the 纪检督察 reads the ledger of their subtree (never writes)
    "ledger.evidence_post": {"officer", "supervisor"},
    "ledger.review": {"supervisor", "admin"},
    "ledger.file": ALL,  # the 纪检督察 reads the ledger of their subtree (never writes)
    "ledger.export": STAFF | {"inspector"},
    "talks.index": ALL,
    "talks.new": {"supervisor", "inspector"},
    "talks.show": ALL,
    "orders.index": STAFF | {"inspector"},
    "orders.new": {"admin"},
    "orders.show": STAFF | {"inspector"},
    "orders.respond": {"supervisor"},
    "orders.file": STAFF | {"inspector"},
}
#: Writes on one's own account that every role, the read-only leader included, may make.
SELF_SERVICE = {"auth.logout", "auth.change_password", "auth.set_language", "auth.login", "notices.mark_read",
                "notices.open"}


def rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def fill(rule, city, unit_id: int | None = None) -> str:
    """A concrete URL for a rule; ``unit_id`` defaults to branch A (pass one in the caller's scope
    when the object-level check is not what is being tested)."""
    values = {"user_id": city.users["officer_b"], "unit_id": unit_id or city.branch_a, "code": "en", "exam_id": 1,
              "attempt_id": 1, "question_id": 1, "item_id": 1, "flag_id": 1, "fmt": "xlsx",
              "task_id": 1, "submission_id": 1, "index": 0, "form_id": 1, "file_id": 1, "order_id": 1, "talk_id": 1, "notice_id": 1, "announcement_id": 1}
    return rule.build(values, append_unknown=False)[1]


def test_a14_every_route_has_a_reviewed_policy(app):
    """A14: every endpoint declares a policy, and it equals the reviewed table."""
    for rule, _method in rules(app):
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "access", None)
        assert declared is not None, f"{rule.endpoint} has no access policy"
        assert rule.endpoint in POLICY, f"{rule.endpoint} missing from the reviewed table"
        expected = POLICY[rule.endpoint]
        if expected == "public":
            assert declared.public, rule.endpoint
        else:
            assert set(declared.roles) == expected, rule.endpoint


def test_a14_leader_is_read_only(app):
    """A14: no write endpoint admits the leader except self-service on their own account."""
    for rule, method in rules(app):
        if method in {"POST", "PUT", "PATCH", "DELETE"} and rule.endpoint not in SELF_SERVICE:
            assert "leader" not in POLICY[rule.endpoint], rule.endpoint


@pytest.mark.parametrize("role", ["anonymous", "officer", "supervisor_b", "leader", "admin"])
def test_a14_route_map_enforced(app, city, auth, role):
    """A14: anonymous gets 401/302 to login off the allowlist; other roles get 403 where not allowed."""
    client = app.test_client()
    role_name = {"supervisor_b": "supervisor"}.get(role, role)
    if role != "anonymous":
        auth.login(client, role)
    for rule, method in rules(app):
        if rule.endpoint in ("auth.logout",):
            continue  # would end the session the loop relies on
        path = fill(rule, city, city.branch_b if role == "supervisor_b" else None)
        resp = client.open(path, method=method, data={})
        allowed = POLICY[rule.endpoint]
        where = f"{role} {method} {path}"
        if allowed == "public":
            assert resp.status_code not in (401, 403), where
        elif role == "anonymous":
            assert resp.status_code in (401, 302), where
            if resp.status_code == 302:
                assert "/login" in resp.headers["Location"], where
        elif role_name in allowed:
            assert resp.status_code not in (401, 403), where
        else:
            assert resp.status_code == 403, where


def test_a15_view_without_policy_is_refused(make_app, city, auth):
    """A15: a view that forgot to declare a policy is refused, not served."""
    application = make_app()
    application.add_url_rule("/forgotten", "forgotten", lambda: "secret rows")
    client = application.test_client()
    auth.login(client, "admin")
    resp = client.get("/forgotten")
    assert resp.status_code == 403 and "secret rows" not in resp.get_data(as_text=True)


def test_a15_scope_failure_fails_closed(app, city, auth, monkeypatch):
    """A15: if the scope helper breaks inside a report, the answer is an error with no rows."""
    import app.reports.routes as routes

    def broken(*args, **kwargs):
        raise RuntimeError("scope helper failed")

    monkeypatch.setattr(routes, "scope_root", broken)
    client = app.test_client()
    auth.login(client, "leader")
    resp = client.get("/reports/")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "甲分局" not in body and "乙分局" not in body and "Traceback" not in body


def test_a16_supervisor_desk_shows_only_own_subtree(app, city, auth):
    """A16: a supervisor's desk lists only units in their own subtree."""
    client = app.test_client()
    auth.login(client, "supervisor_b")
    body = client.get("/desk", follow_redirects=True).get_data(as_text=True)
    assert "乙一所" in body
    assert "甲一所" not in body and "丙一庭" not in body


def test_a16_scope_helper(app, city):
    """A16: the scope helper gives supervisors their subtree, leaders the city, officers nothing."""
    from app.auth.scope import unit_in_scope, visible_unit_ids
    from app.models import User

    with app.app_context():
        s = db.session
        sup = s.get(User, city.users["supervisor"])
        officer = s.get(User, city.users["officer"])
        leader = s.get(User, city.users["leader"])
        visible = set(s.scalars(visible_unit_ids(s, sup)))
        assert {city.branch_a, city.station_a1, city.station_a2} == visible
        assert not unit_in_scope(s, sup, city.branch_b) and not unit_in_scope(s, sup, city.root)
        assert list(s.scalars(visible_unit_ids(s, officer))) == []
        assert unit_in_scope(s, leader, city.station_b1)


def _row_counts(app) -> dict:
    with app.app_context():
        conn = db.session.connection()
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                  for t in Base.metadata.sorted_tables if t.name != "audit_log"}
        db.session.rollback()
        return counts


@pytest.mark.parametrize("role", ["anonymous", "officer", "supervisor", "leader", "admin"])
def test_a19_get_never_changes_state(app, city, auth, role):
    """A19: GET requests leave every table's row count unchanged (refusals are only audited)."""
    client = app.test_client()
    if role != "anonymous":
        auth.login(client, role)
    before = _row_counts(app)
    for rule, method in rules(app):
        if method == "GET":
            client.get(fill(rule, city))
    assert _row_counts(app) == before
