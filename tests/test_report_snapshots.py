"""Weekly snapshots of closed weeks (issue #5): equal to the live aggregation, and used by every view."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from app.db import db
from app.models import ReportSnapshot, ReportSnapshotUnit, User
from app.reports import queries, snapshots
from tests.test_reports import NOW, WEEK, generated_city

AFTER = NOW + timedelta(days=3)  # Monday 12:00 local: WEEK has closed


def _figures(rows):
    return [(r.unit_id, r.as_json()) for r in rows]


def test_snapshot_equals_live_aggregation(app, session):
    """Issue #5: a closed week's snapshot gives exactly the figures, ranks and trend the live query gives."""
    root = generated_city(session, 300)
    session.commit()
    live = _figures(queries.unit_rows(session, WEEK, AFTER))
    live_trend = queries.trend(session, root, [WEEK], AFTER)
    assert snapshots.take(session, WEEK, AFTER) is True
    session.commit()
    assert session.scalar(select(ReportSnapshot.target_seconds).where(ReportSnapshot.week == WEEK)) == 10 * 3600
    assert _figures(queries.unit_rows(session, WEEK, AFTER)) == live
    assert queries.trend(session, root, [WEEK], AFTER) == live_trend
    assert snapshots.take(session, WEEK, AFTER) is False  # once per week


def test_closed_weeks_read_the_snapshot_not_the_officers(app, session):
    """Issue #5: with a snapshot, a past week's table costs no aggregation over officers (a fixed, small number of queries)."""
    generated_city(session, 120)
    snapshots.take(session, WEEK, AFTER)
    session.commit()
    statements = []
    listener = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        queries.unit_rows(session, WEEK, AFTER)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    assert not any("study_days" in sql for sql in selects)


def test_history_is_frozen_and_refresh_retakes_it(app, session):
    """Issue #5: a later transfer does not rewrite a closed week; `--refresh` retakes it from the live query."""
    generated_city(session, 120)
    snapshots.take(session, WEEK, AFTER)
    session.commit()
    before = _figures(queries.unit_rows(session, WEEK, AFTER))
    session.execute(update(User).where(User.role == "officer").values(is_active=False))
    session.commit()
    assert _figures(queries.unit_rows(session, WEEK, AFTER)) == before
    assert snapshots.take(session, WEEK, AFTER, refresh=True) is True
    session.commit()
    root = next(r for r in queries.unit_rows(session, WEEK, AFTER) if r.parent_id is None)
    assert root.officers == 0


def test_open_week_is_refused_and_catch_up_takes_each_closed_week_once(app, session):
    """Issue #5: the current week is never snapshotted; the catch-up takes every closed week once."""
    generated_city(session, 60)
    session.commit()
    with pytest.raises(ValueError):
        snapshots.take(session, WEEK, NOW)
    taken = snapshots.take_missing(session, AFTER)
    assert WEEK in taken and len(taken) == snapshots.CATCH_UP_WEEKS
    assert snapshots.take_missing(session, AFTER) == []
    assert session.scalar(select(ReportSnapshotUnit.week).where(ReportSnapshotUnit.week == WEEK)) == WEEK


def test_l4_snapshot_job_runs_from_the_scheduler_catch_up(app, clock):
    """L4: the scheduler's catch-up takes the missing snapshots (and sweeps first), and a second run does nothing."""
    from app.reports.jobs import snapshot_job

    with app.app_context():
        generated_city(db.session, 60)
        db.session.commit()
    clock.now = AFTER
    taken = snapshot_job(app)
    assert WEEK in taken
    assert snapshot_job(app) == []
    with app.app_context():
        root = next(r for r in queries.unit_rows(db.session, WEEK, AFTER) if r.parent_id is None)
        assert root.exam_pending == 0  # the sweep ran before the snapshot


def test_snapshot_cli_refuses_bad_and_open_weeks_and_changes_nothing(app, session, clock):
    """Issue #5: `flask reports snapshot` names a malformed or still-open week and stores nothing."""
    generated_city(session, 30)
    session.commit()
    clock.now = NOW  # WEEK is still open
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["reports", "snapshot", "--week", "2026-11"])
    assert bad.exit_code != 0 and "YYYY-Www" in bad.output
    still_open = runner.invoke(args=["reports", "snapshot", "--week", WEEK])
    assert still_open.exit_code != 0 and "has not closed" in still_open.output
    assert runner.invoke(args=["reports", "snapshot", "--refresh"]).exit_code != 0
    assert session.scalar(select(ReportSnapshot.week)) is None
