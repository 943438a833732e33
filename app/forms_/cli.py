"""``flask forms …``: the keys of confidential forms (FORMS_KEYS) and the deadline reminders."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from config import INSTANCE_DIR

from .. import clock
from ..db import db
from . import crypto, remind as reminding

forms_cli = AppGroup("forms", help="Forms (查纠整改): encryption keys and deadline reminders.")


def _instance_keys_file() -> Path:
    return Path(current_app.config.get("INSTANCE_PATH") or INSTANCE_DIR) / "forms_keys"


def _write_keys(path: Path, keys: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(".forms_keys.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(",".join(keys) + "\n")
    os.replace(partial, path)


@forms_cli.command("new-key")
def new_key():
    """Print a new random key (for FORMS_KEYS)."""
    click.echo(crypto.new_key())


@forms_cli.command("rotate-key")
def rotate_key():
    """Generate a new key, re-encrypt every answer and attachment under it, then drop the old keys.

    With keys from instance/forms_keys the file is rewritten: first "new,old…" (so a crash
    midway leaves every token readable), then "new" alone once the database has committed.
    With FORMS_KEYS from the environment it prints the value to set."""
    try:
        old = crypto.keys_of(current_app.config)
    except crypto.KeysMissing as err:
        raise click.ClickException(str(err)) from None
    key = crypto.new_key()
    from_env = "FORMS_KEYS" in os.environ
    path = _instance_keys_file()
    if not from_env:
        _write_keys(path, [key] + old)
    count = crypto.rotate_all(db.session, [key] + old)
    db.session.commit()
    if from_env:
        click.echo(f"re-encrypted {count} item(s). Set FORMS_KEYS={key} on every web, scheduler and CLI host "
                   "and restart; the old key(s) no longer open anything.")
    else:
        _write_keys(path, [key])
        click.echo(f"re-encrypted {count} item(s); {path} now holds the new key only. Restart the web server.")


@forms_cli.command("remind")
def remind():
    """Remind everyone who has not submitted a form due tomorrow, due today or overdue (while the
    form is open), as the scheduler does every morning at 08:30; at most once a day per person
    and kind, so running it again sends nothing twice."""
    result = reminding.remind(db.session, clock.now())
    db.session.commit()
    click.echo(f"form reminders sent: {result['sent']}; already reminded today: {result['skipped']}")
