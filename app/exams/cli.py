"""``flask --app wsgi exam …``: the scheduled exam jobs, by hand."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..db import db
from .. import clock
from ..cliparams import WEEK
from ..timeutils import week_key
from . import services
from .blueprints import BlueprintError

exam_cli = AppGroup("exam", help="Weekly exams.")


@exam_cli.command("create-weekly")
@click.option("--week", type=WEEK, help="ISO week YYYY-Www (default: this week in Asia/Shanghai).")
@click.option("--duration", type=click.IntRange(5, 180), help="Minutes per sitting (default: the blueprint's).")
def create_weekly(week: str | None, duration: int | None):
    """Build a week's exam unless it exists (exits non-zero naming any shortfall of the bank)."""
    now = clock.now()
    week = week or week_key(now)
    try:
        exam, created = services.create_weekly_exam(db.session, week, now, duration=duration)
    except BlueprintError as err:
        from .. import audit

        db.session.rollback()
        audit.record(db.session, "exam.create_failed", actor_name="cli", target_type="week", target_id=week,
                     detail="; ".join(err.reasons))
        db.session.commit()
        raise click.ClickException("题库无法满足组卷规则：" + "；".join(err.reasons)) from None
    db.session.commit()
    click.echo(f"{'created' if created else 'already exists'}: exam {exam.id} for {week} "
               f"({exam.duration_minutes} min)")


@exam_cli.command("sweep")
def sweep():
    """Finish attempts whose deadline has passed."""
    n = services.sweep_overdue(db.session, clock.now())
    db.session.commit()
    click.echo(f"finished {n} overdue attempt(s)")


@exam_cli.command("remind")
def remind():
    """Send this week's mid-week reminder if it is due and not sent yet."""
    from .jobs import send_reminders

    n = send_reminders(db.session, clock.now())
    db.session.commit()
    click.echo(f"reminded {n} officer(s)")
