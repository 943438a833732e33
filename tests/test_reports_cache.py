"""The dashboards' minute-long cache (issue #7, QUALITY L8).

Reports stay SQL aggregations through the subtree helper; what is cached, for
REPORTS_CACHE_SECONDS, is the whole city's ``unit_rows`` per process and the dashboard's rendered
body per caller's view (unit, week, filter, role, scope, language), and the page says when its
figures were computed.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from sqlalchemy import event, insert

from app.db import db
from app.models import StudyDay
from app.reports import queries
from tests.factories import make_user
from tests.test_reports import NOW, WEEK, generated_city
from tests.test_study_credit import logged_in


def _body(response) -> str:
    """The page without what belongs to the session (its CSRF token)."""
    return re.sub(r'(name="csrf[-_]token" (?:type="hidden" )?(?:content|value)=")[^"]+"', r"\1…", response.get_data(as_text=True))


def _tokens(html: str) -> tuple[str, str]:
    """(the page's <meta> CSRF token, the token of its form that posts to /reports/remind)."""
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    form = re.search(r'<form method="post" action="/reports/remind[^"]*"[^>]*>\s*<input type="hidden" name="csrf_token" '
                     r'value="([^"]+)"', html).group(1)
    return meta, form


def _add_study(app, user_id, seconds):
    with app.app_context():
        db.session.execute(insert(StudyDay), [{"user_id": user_id, "day": NOW.date() - timedelta(days=3), "seconds": seconds}])
        db.session.commit()


def test_l8_dashboard_reuses_the_city_figures_within_the_cache_age(make_app, clock):
    """L8: within REPORTS_CACHE_SECONDS a dashboard runs no aggregation over officers, shows its "as of" time, then refreshes."""
    app = make_app(REPORTS_CACHE_SECONDS=60)
    with app.app_context():
        root = generated_city(db.session, 80, seed=3, prefix="K")
        chief = make_user(db.session, "chief", root, "leader")
        db.session.commit()
        chief_id = chief.id
    clock.now = NOW
    client = app.test_client()
    client.post("/login", data={"username": "chief", "password": "correct horse battery staple"})
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    def aggregations() -> int:
        """Statements that group study days by officer: the city's aggregation for the week, and
        (in this test, which has no snapshots) the trend's one per earlier week."""
        return sum(1 for s in statements if "study_days" in s and "GROUP BY study_days.user_id" in s)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        first = client.get(f"/reports/?week={WEEK}")
        assert first.status_code == 200
        uncached = aggregations()
        assert uncached >= 1
        assert "数据更新于 12:00:00" in first.get_data(as_text=True)
        statements.clear()
        clock.advance(seconds=30)
        second = client.get(f"/reports/?week={WEEK}")
        # The body comes from the fragment cache: not even the trend's queries run.
        assert second.status_code == 200 and aggregations() == 0
        assert not any("snapshot" in s or "study_days" in s for s in statements), statements
        assert _body(second) == _body(first)
        assert "数据更新于 12:00:00" in second.get_data(as_text=True)
        statements.clear()
        clock.advance(seconds=31)
        third = client.get(f"/reports/?week={WEEK}")
        assert aggregations() == uncached and "数据更新于 12:01:01" in third.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert chief_id


def test_l8_cached_figures_are_the_live_figures_of_their_time(make_app, clock):
    """L8: a cached result equals the live aggregation at the time it was computed, and callers cannot alter it."""
    app = make_app(REPORTS_CACHE_SECONDS=60)
    with app.app_context():
        root = generated_city(db.session, 60, seed=5, prefix="M")
        db.session.commit()
        root_id = root.id
        session = db.session
        live = [r.as_json() for r in queries.unit_rows(session, WEEK, NOW)]
        rows, at = queries.cached_unit_rows(session, WEEK, NOW, None, 60)
        assert at == NOW and [r.as_json() for r in rows] == live
        rows[0].composite_score = -1  # a caller scribbling on its copy
        rows[0].extra["x"] = 1
        again, at2 = queries.cached_unit_rows(session, WEEK, NOW + timedelta(seconds=10), None, 60)
        assert at2 == NOW and [r.as_json() for r in again] == live and again[0].extra == {}
    # A new officer with a full week of study after the cached time shows only once the cache
    # is older than its age.
    with app.app_context():
        from app.models import Unit

        officer = make_user(db.session, "newcomer", db.session.get(Unit, root_id), "officer").id
        db.session.commit()
    _add_study(app, officer, 36_000)
    with app.app_context():
        stale, _ = queries.cached_unit_rows(db.session, WEEK, NOW + timedelta(seconds=20), None, 60)
        assert [r.as_json() for r in stale] == live
        fresh, at3 = queries.cached_unit_rows(db.session, WEEK, NOW + timedelta(seconds=61), None, 60)
        assert at3 == NOW + timedelta(seconds=61)
        assert [r.as_json() for r in fresh] == [r.as_json() for r in queries.unit_rows(db.session, WEEK, NOW)]
        assert [r.as_json() for r in fresh] != live
        off, at4 = queries.cached_unit_rows(db.session, WEEK, NOW + timedelta(seconds=62), None, 0)
        assert at4 == NOW + timedelta(seconds=62)


@pytest.fixture
def app(make_app):
    """The conftest ``app`` with the cache on (the ``city`` and ``auth`` fixtures bind to it)."""
    return make_app(REPORTS_CACHE_SECONDS=60)


@pytest.fixture(autouse=True)
def _report_week(clock):
    """Every test here looks at WEEK from NOW (the small city is built at that time too)."""
    clock.now = NOW


def test_l8_a16_cached_dashboard_never_crosses_scope(app, city, auth):
    """L8/A16: a body cached for the leader is never served outside a supervisor's subtree, and each scope gets its own breadcrumb."""
    leader, sup = logged_in(app, auth, "leader"), logged_in(app, auth, "supervisor")
    other = leader.get(f"/reports/?week={WEEK}&unit={city.branch_b}")
    assert other.status_code == 200 and "乙分局" in other.get_data(as_text=True)
    assert sup.get(f"/reports/?week={WEEK}&unit={city.branch_b}").status_code == 403
    as_leader = leader.get(f"/reports/?week={WEEK}&unit={city.branch_a}").get_data(as_text=True)
    as_sup = sup.get(f"/reports/?week={WEEK}&unit={city.branch_a}").get_data(as_text=True)
    crumbs = lambda html: re.search(r'<nav class="report-crumbs".*?</nav>', html, re.S).group(0)  # noqa: E731
    assert "测试市政法系统" in crumbs(as_leader) and "测试市政法系统" not in crumbs(as_sup)
    assert "甲分局" in crumbs(as_sup)


def test_l8_cached_dashboard_remind_form_carries_each_callers_own_token(app, city, auth):
    """L8/A18: two supervisors share a cached filtered body; 一键提醒 opens an uncached confirmation whose form posts that session's own CSRF token."""
    with app.app_context():
        from app.models import Unit

        make_user(db.session, "deputy", db.session.get(Unit, city.branch_a), "supervisor")
        db.session.commit()
    first, second = logged_in(app, auth, "supervisor"), logged_in(app, auth, "deputy")
    url = f"/reports/?week={WEEK}&only=exam_not_taken"
    one, two = first.get(url), second.get(url)
    assert _body(one) == _body(two)  # the same cached body
    assert 'form="remind-form"' in one.get_data(as_text=True)
    remind_form = re.search(r'<form id="remind-form".*?</form>', one.get_data(as_text=True), re.S).group(0)
    assert 'method="get"' in remind_form and "csrf_token" not in remind_form  # it only opens the confirmation
    confirm = f"/reports/remind?week={WEEK}&only=exam_not_taken"
    (meta1, form1), (meta2, form2) = _tokens(first.get(confirm).get_data(as_text=True)), \
        _tokens(second.get(confirm).get_data(as_text=True))
    assert form1 == meta1 and form2 == meta2 and meta1 != meta2
    leader = logged_in(app, auth, "leader").get(url).get_data(as_text=True)
    assert 'form="remind-form"' not in leader and 'id="remind-form"' not in leader  # leaders only read


def test_l8_cached_dashboard_is_per_language(app, city, auth):
    """L8: the English dashboard is cached apart from the Chinese one."""
    client = logged_in(app, auth, "supervisor")
    zh = client.get(f"/reports/?week={WEEK}").get_data(as_text=True)
    client.set_cookie("lang", "en")
    en = client.get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "近 8 周趋势" in zh and "近 8 周趋势" not in en
