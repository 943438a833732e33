"""``flask reports …``: weekly snapshots of the unit figures by hand."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import clock
from ..db import db
from ..cliparams import WEEK
from . import snapshots

reports_cli = AppGroup("reports", help="Unit figures: weekly snapshots of closed weeks.")


@reports_cli.command("snapshot")
@click.option("--week", type=WEEK, help="One ISO week (YYYY-Www); default: every closed week of the last 12 without one.")
@click.option("--refresh", is_flag=True, help="Retake the week's snapshot (after a correction).")
def snapshot(week: str | None, refresh: bool):
    """Store the per-unit sums of closed weeks, as the scheduler does every Monday."""
    now = clock.now()
    if week is None:
        if refresh:
            raise click.UsageError("--refresh needs --week")
        taken = snapshots.take_missing(db.session, now)
        db.session.commit()
        click.echo(f"snapshots taken: {', '.join(taken)}" if taken else "every closed week already has its snapshot")
        return
    try:
        done = snapshots.take(db.session, week, now, refresh=refresh)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()
    click.echo(f"{week}: {'snapshot taken' if done else 'already has a snapshot (use --refresh to retake)'}")
