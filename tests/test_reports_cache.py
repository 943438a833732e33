"""The dashboards' minute-long cache of the city's per-unit figures (issue #7, QUALITY L8).

Reports stay SQL aggregations through the subtree helper; what is cached is the whole city's
``unit_rows`` per process, for REPORTS_CACHE_SECONDS, and the page says when it was computed.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, insert

from app.db import db
from app.models import StudyDay
from app.reports import queries
from tests.factories import make_user
from tests.test_reports import NOW, WEEK, generated_city


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
        assert second.status_code == 200 and aggregations() == uncached - 1
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
