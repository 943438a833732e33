"""Weekly snapshots of the unit figures for closed weeks (issue #5; model in app/models/reports.py).

Why: measured in ``make bench``, a dashboard's eight-week trend ran eight aggregations over all
10,028 officers, and that was most of its time (benchmarks/NOTES.md). A week's figures stop
changing once it has closed: credit only ever goes to the current day (S7), the exam closes on
Sunday evening and the sweep finishes what was left open. So each closed week is aggregated once,
by the very query that serves the live week (``queries.weekly_sums``), and stored per unit,
column by column under the names of ``figures.WeeklySums``.

"Closed" means: ``SETTLE`` after the week's end (Monday 00:00 Asia/Shanghai), and the overdue
sweep has run (the job runs it first). History is then frozen: an officer who moves to another
unit later takes only their future weeks along, and a correction made afterwards (say, a score
fixed by hand) reaches the figures through ``flask reports snapshot --week W --refresh``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from .. import audit
from ..models import ReportSnapshot, ReportSnapshotUnit
from ..timeutils import previous_weeks, week_bounds_utc, week_key
from . import queries

#: How long after a week's end its snapshot may be taken: past the exam's last deadline
#: (Sunday 22:00 plus the longest attempt plus grace) with room to spare.
SETTLE = timedelta(hours=3)
#: How many weeks back the catch-up looks for a missing snapshot.
CATCH_UP_WEEKS = 12


def is_closed(week: str, now: datetime) -> bool:
    return now >= week_bounds_utc(week)[1] + SETTLE


def exists(session: Session, week: str) -> bool:
    return session.get(ReportSnapshot, week) is not None


def take(session: Session, week: str, now: datetime, *, refresh: bool = False, actor=None) -> bool:
    """Store the week's per-unit sums; False when it already has a snapshot (and not
    ``refresh``). Refuses a week that has not closed (ValueError)."""
    if not is_closed(week, now):
        raise ValueError(f"{week} has not closed yet")
    if exists(session, week):
        if not refresh:
            return False
        session.execute(delete(ReportSnapshotUnit).where(ReportSnapshotUnit.week == week))
        session.execute(delete(ReportSnapshot).where(ReportSnapshot.week == week))
        audit.record(session, "report.snapshot_refresh", actor=actor, actor_name=None if actor else "system",
                     target_type="week", target_id=week)
    target = queries.weekly_target_seconds(session, week)
    sums = queries.weekly_sums(session, week, now, target)  # the live aggregation, verbatim
    session.add(ReportSnapshot(week=week, target_seconds=target, taken_at=now))
    session.flush()
    if sums:
        session.execute(insert(ReportSnapshotUnit), [
            {"week": week, "unit_id": unit_id, **unit_sums.as_dict()} for unit_id, unit_sums in sums.items()])
    return True


def take_missing(session: Session, now: datetime, weeks: int = CATCH_UP_WEEKS) -> list[str]:
    """Snapshot every closed week of the last ``weeks`` that has none; returns the weeks taken."""
    last = week_key(now - SETTLE - timedelta(days=7))
    candidates = [w for w in previous_weeks(last, weeks) if is_closed(w, now)]
    have = set(session.scalars(select(ReportSnapshot.week).where(ReportSnapshot.week.in_(candidates))))
    taken = []
    for week in candidates:
        if week not in have and take(session, week, now):
            taken.append(week)
    return taken
