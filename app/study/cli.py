"""``flask --app wsgi study …``: checks and jobs of the study feature, runnable by hand."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import db
from ..models import StudyBeat, StudyDay
from .. import clock
from ..cliparams import DAY, WEEK
from ..timeutils import week_key

study_cli = AppGroup("study", help="Study time: checks and jobs.")


def recheck(session: Session, day: date | None = None) -> tuple[int, list[tuple[int, date, int, int]]]:
    """Recompute per-officer daily totals from the raw beats and compare them with StudyDay.

    Only officer-days that have raw beats are compared: synthetic history from ``seed city``
    and ``seed demo`` is written as daily totals without beats (see ``app.seed.study_demo``).
    Returns (officer-days checked, [(user_id, day, from beats, stored)] that differ).
    """
    beats = (select(StudyBeat.user_id, StudyBeat.day, func.sum(StudyBeat.credited_seconds).label("seconds"))
             .group_by(StudyBeat.user_id, StudyBeat.day))
    if day is not None:
        beats = beats.where(StudyBeat.day == day)
    beats = beats.subquery()
    rows = session.execute(
        select(beats.c.user_id, beats.c.day, beats.c.seconds, func.coalesce(StudyDay.seconds, 0))
        .outerjoin(StudyDay, (StudyDay.user_id == beats.c.user_id) & (StudyDay.day == beats.c.day))
        .order_by(beats.c.day, beats.c.user_id)).all()
    return len(rows), [(u, d, int(b), int(s)) for u, d, b, s in rows if int(b) != int(s)]


@study_cli.command("recheck")
@click.option("--day", type=DAY, help="Only this local day (YYYY-MM-DD).")
def recheck_command(day: date | None):
    """Recompute daily totals from the raw heartbeats; exit 1 on any mismatch."""
    checked, bad = recheck(db.session, day)
    db.session.rollback()
    for user_id, d, from_beats, stored in bad[:200]:
        click.echo(f"mismatch: user {user_id} day {d}: beats {from_beats} s, stored {stored} s", err=True)
    click.echo(f"checked {checked} officer-days with raw beats, {len(bad)} mismatch(es)")
    if bad:
        raise SystemExit(1)


@study_cli.command("detect-flags")
@click.option("--week", type=WEEK, help="ISO week YYYY-Www (default: this week).")
def detect_flags_command(week: str | None):
    """Flag study that looks automated, for supervisors to review (idempotent)."""
    from .flags import detect_flags

    now = clock.now()
    week = week or week_key(now)
    added = detect_flags(db.session, week, now)
    db.session.commit()
    click.echo(f"{week}: {added} new flag(s)")
