"""``flask ledger daily``: the ledger's daily job by hand (overdue reminders, 督办令 escalation)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import clock
from ..db import db
from .services import escalate_orders, remind_overdue

ledger_cli = AppGroup("ledger", help="Rectification ledger (整改台账) and 督办令.")


@ledger_cli.command("daily")
def daily():
    """Remind the people responsible for overdue items (once a day) and escalate unanswered 督办令,
    as the scheduler does every morning at 08:30; running it again sends nothing twice."""
    now = clock.now()
    reminded, escalated = remind_overdue(db.session, now), escalate_orders(db.session, now)
    db.session.commit()
    click.echo(f"overdue reminders sent: {reminded}; units escalated: {escalated}")
