"""``flask --app wsgi bank import|export`` (the interface contract in PRODUCT.md)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .. import audit
from ..db import db
from . import bank_format, bank_io, bank_read

bank_cli = AppGroup("bank", help="Question bank: import and export (question_bank/README.md).")


@bank_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report what would change; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the good questions even if some are bad.")
def bank_import(path: Path, dry_run: bool, skip_invalid: bool):
    """Create or update questions by id from PATH: a .yaml/.xlsx file or a directory of .yaml files.

    The whole input is checked first; every bad entry is listed as file:line: id: reason. Any
    bad entry means nothing is imported and a non-zero exit, unless --skip-invalid.
    """
    read = bank_read.read_path(path, current_app.config["IMPORT_MAX_ROWS"])
    parsed = bank_io.check_against_db(db.session, read)
    for problem in parsed.problems:
        click.echo(str(problem), err=True)
    if parsed.problems and not skip_invalid:
        raise click.ClickException(f"{parsed.skipped} bad entr{'y' if parsed.skipped == 1 else 'ies'}; "
                                   "nothing imported (use --skip-invalid to import the rest)")
    result = bank_io.import_entries(db.session, parsed.entries, dry_run=dry_run, skipped=parsed.skipped)
    if dry_run:
        db.session.rollback()
        click.echo(f"dry run, nothing written: would have {result.summary()}")
        return
    audit.record(db.session, "bank.import", actor_name="cli", target_type="path", target_id=str(path)[-64:],
                 after=result.counts())
    db.session.commit()
    click.echo(result.summary())


@bank_cli.command("export")
@click.argument("path", type=click.Path(path_type=Path))
def bank_export(path: Path):
    """Write the whole bank to PATH: a directory (one <module>.yaml each), a .yaml file or a .xlsx file."""
    if path.is_file() and path.suffix.lower() not in (*bank_format.YAML_SUFFIXES, ".xlsx"):
        raise click.ClickException(f"{path} is a file; give a .yaml or .xlsx file or a directory")
    written, count = bank_io.export_to_path(db.session, path)
    db.session.rollback()
    for target in written:
        click.echo(f"wrote {target}")
    click.echo(f"exported {count} questions")
