"""Command line: ``flask --app wsgi <command>`` (the interface contract in PRODUCT.md)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from .db import db, is_sqlite
from . import clock

BASE_DIR = Path(__file__).resolve().parent.parent

db_cli = AppGroup("db", help="Database schema (Alembic).")
seed_cli = AppGroup("seed", help="Demo and synthetic data.")
users_cli = AppGroup("users", help="Accounts.")


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(BASE_DIR / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(BASE_DIR / "migrations"))
    cfg.attributes["database_url"] = url or current_app.config["DATABASE_URL"]
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    """Migrate the database to REVISION (default: head)."""
    from alembic import command

    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), revision)
    click.echo(f"database at {revision}")


@db_cli.command("is-empty")
def db_is_empty():
    """Exit 0 when the database holds no units yet (used by `make run` to seed once)."""
    from .models import Unit

    sys.exit(0 if not db.session.scalar(select(func.count(Unit.id))) else 1)


def _print_demo_accounts() -> None:
    pw = current_app.config["DEMO_PASSWORD"]
    click.echo("Demo accounts (password: %s):" % pw)
    for name, desc in (("admin", "教育整顿办 city admin"), ("leader", "领导 city-wide, read-only"),
                       ("supervisor", "单位管理员 of 小店分局"), ("officer", "干警, 坞城派出所"),
                       ("inspector", "纪检督察 of 小店分局 (reads confidential 查纠整改 forms)"),
                       ("wucheng", "单位管理员 of 坞城派出所 (整改台账)")):
        click.echo(f"  {name:<11} {desc}")


@seed_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@click.option("--weeks", default=4, show_default=True, help="Weeks of history to generate.")
def seed_demo(if_empty: bool, weeks: int):
    """Taiyuan's units, named officers and the four demo accounts."""
    from .seed.services import SeedError, database_is_empty, seed_demo as run

    if if_empty and not database_is_empty(db.session):
        click.echo("database already has data; demo not loaded again")
        return
    try:
        result = run(db.session, clock.now(), demo_password=current_app.config["DEMO_PASSWORD"],
                     hash_method=current_app.config["PASSWORD_HASH_METHOD"], weeks=weeks)
    except SeedError as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()
    click.echo(f"demo loaded: {result['units']} units, {result['officers']} officers")
    _print_demo_accounts()


@seed_cli.command("city")
@click.option("--officers", default=10028, show_default=True, type=click.IntRange(1, 200000))
@click.option("--weeks", default=1, show_default=True, type=click.IntRange(0, 52))
def seed_city(officers: int, weeks: int):
    """Synthetic full-scale city: officers officer00001… with the demo password."""
    from .seed.services import SeedError, seed_city as run

    started = time.perf_counter()
    try:
        result = run(db.session, clock.now(), officers=officers, weeks=weeks,
                     demo_password=current_app.config["DEMO_PASSWORD"],
                     hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    except SeedError as err:
        raise click.ClickException(str(err)) from None
    db.session.commit()
    click.echo(f"city loaded: {result['units']} units, {result['officers']} officers "
               f"in {time.perf_counter() - started:.1f}s")


@seed_cli.command("accounts")
def seed_accounts():
    """Print the demo accounts."""
    _print_demo_accounts()


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--update", is_flag=True, help="Also change existing accounts (name, unit, role, phone); without it they are skipped.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows even if some rows are bad.")
@click.option("--dry-run", is_flag=True, help="Print the preview only; change nothing.")
@click.option("--passwords-out", type=click.Path(dir_okay=False), help="Write new accounts' initial passwords here (.xlsx).")
def users_import(path: str, update: bool, skip_invalid: bool, dry_run: bool, passwords_out: str | None):
    """Create accounts from an Excel file (警号, 姓名, 单位编码, 角色, 手机号); change existing ones only with --update."""
    from . import audit
    from .admin.imports import build_plan, credentials_workbook, parse_workbook
    from .admin.services import import_accounts

    report = parse_workbook(Path(path).read_bytes(), db.session, current_app.config["IMPORT_MAX_ROWS"])
    plan = build_plan(db.session, report)
    for row, reason in plan.errors:
        click.echo(f"{path}: row {row}: {reason}", err=True)
    if report.fatal:
        raise click.ClickException("nothing imported")
    click.echo(f"preview: new {len(plan.new)}, changed {len(plan.changed)}, unchanged {len(plan.unchanged)}, "
               f"bad rows {len(plan.errors)}, template rows ignored {len(plan.ignored)}")
    for planned in plan.changed:
        fields = "; ".join(f"{c.field} {_shown(plan, c.field, c.old)} -> {_shown(plan, c.field, c.new)}"
                           for c in planned.changes)
        verdict = "will update" if update else "skipped (use --update)"
        click.echo(f"  row {planned.row.row}: {planned.row.badge_no}: {fields} - {verdict}")
    if plan.errors and not skip_invalid:
        raise click.ClickException(f"{len(plan.errors)} bad row(s); nothing imported (use --skip-invalid to import the rest)")
    if dry_run:
        click.echo("dry run: nothing changed")
        return
    outcome = import_accounts(db.session, clock.now(), plan, update_existing=update, issue_passwords=True,
                              actor_name="cli")
    audit.record(db.session, "user.import", actor_name="cli", target_type="file", target_id=Path(path).name[:64],
                 after={"created": len(outcome.created), "updated": len(outcome.updated), "skipped": len(plan.errors)})
    db.session.commit()
    if outcome.credentials:
        out = Path(passwords_out or Path(path).with_name(Path(path).stem + "-initial-passwords.xlsx"))
        out.write_bytes(credentials_workbook([(u.username, u.name, u.unit.name, pw) for u, pw in outcome.credentials]))
        out.chmod(0o600)
        click.echo(f"initial passwords of new accounts written to {out} (hand them over, then delete the file)")
    click.echo(f"created {len(outcome.created)}, updated {len(outcome.updated)}, unchanged {len(plan.unchanged)}, "
               f"skipped {outcome.not_updated} existing (use --update), skipped {len(plan.errors)} bad row(s)")


def _shown(plan, field: str, value) -> str:
    if value is None or value == "":
        return "(empty)"
    return plan.unit_label(value) if field == "unit" else str(value)


@users_cli.command("disable-demo")
def users_disable_demo():
    """Disable every demo account (needed before production starts)."""
    from . import audit
    from .seed.services import deactivate_demo_accounts

    n = deactivate_demo_accounts(db.session)
    audit.record(db.session, "user.disable_demo", actor_name="cli", detail=f"{n} accounts")
    db.session.commit()
    click.echo(f"disabled {n} demo account(s)")


@users_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", default="教育整顿办管理员", show_default=True)
@click.option("--unit", "unit_code", help="Unit code (default: the city root).")
def users_create_admin(username: str, name: str, unit_code: str | None):
    """Create a city admin with a one-time random password (QUALITY A6)."""
    from . import audit
    from .admin.services import initial_password_for
    from .models import Unit, User

    if db.session.scalar(select(User.id).where(User.username == username)):
        raise click.ClickException(f"user {username!r} already exists")
    stmt = select(Unit).where(Unit.code == unit_code) if unit_code else select(Unit).where(Unit.parent_id.is_(None))
    unit = db.session.scalars(stmt.order_by(Unit.id)).first()
    if unit is None:
        raise click.ClickException("no such unit; create the unit tree first (admin pages or seed)")
    user = User(username=username, name=name, role="admin", unit_id=unit.id, password_hash="!")
    db.session.add(user)
    db.session.flush()
    password = initial_password_for(db.session, clock.now())(user)
    audit.record(db.session, "user.create", actor_name="cli", target=user, after={"role": "admin"})
    db.session.commit()
    click.echo(f"admin {username} created. One-time password: {password}")
    click.echo("It must be changed at first login, and expires in "
               f"{current_app.config['INITIAL_PASSWORD_DAYS']} days.")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str):
    """Consistent copy of the live database: SQLite online backup (VACUUM INTO) or pg_dump."""
    import subprocess

    target = Path(path)
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    engine = db.engine
    if is_sqlite(engine):
        import sqlite3

        raw = engine.raw_connection()
        try:
            dest = sqlite3.connect(str(target))
            with dest:
                raw.driver_connection.backup(dest)  # the online backup API: consistent under load
            dest.close()
        finally:
            raw.close()
    else:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", "--file", str(target), url], check=True)
    click.echo(f"backup written to {target}")


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the scheduler (exactly one per deployment)."""
    import logging

    from .preflight import production_preflight
    from .scheduler import SchedulerLockHeld, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    production_preflight(app)
    try:
        serve(app)
    except SchedulerLockHeld as err:
        raise click.ClickException(f"{err}; not starting a second scheduler") from None


def init_app(app: Flask) -> None:
    from .exams.bank_cli import bank_cli
    from .exams.cli import exam_cli
    from .forms_.cli import forms_cli
    from .ledger.cli import ledger_cli
    from .reports.cli import reports_cli
    from .study.cli import study_cli

    for group in (db_cli, seed_cli, users_cli, exam_cli):
        app.cli.add_command(group)
    app.cli.add_command(bank_cli)
    app.cli.add_command(study_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(forms_cli)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(backup)
    app.cli.add_command(scheduler)
