"""Schema: Alembic revisions equal the models (ARCHITECTURE rule 9)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import make_engine
from app.models import Base


def test_upgrade_to_head_matches_models(database_url):
    """An empty database upgraded to head has exactly the models' schema (no pending diff)."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_constraints_are_named(database_url):
    """Every unique, foreign-key and check constraint has a name."""
    engine = make_engine(database_url)
    insp = inspect(engine)
    for table in Base.metadata.tables:
        for fk in insp.get_foreign_keys(table):
            assert fk["name"], table
        for uq in insp.get_unique_constraints(table):
            assert uq["name"], table
    engine.dispose()


def test_sqlite_pragmas(tmp_path):
    """L2: SQLite connections run in WAL with a busy timeout and synchronous=NORMAL."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=12000)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 12000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_migration_0016_keeps_reasons_and_drops_them_from_notices(database_url):
    """F5: 0015 → 0016 keeps every submission (a legacy plain reason stays readable, no token yet) and replaces the reason in sent notices; downgrade refuses while a sealed reason exists."""
    from datetime import datetime

    import pytest
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.cli import alembic_config
    from app.forms_.services import REOPENED_BODY
    from app.models import Notification
    from tests.factories import bare_form

    cfg = alembic_config(database_url)
    cfg.attributes["skip_logging"] = True
    command.downgrade(cfg, "0015")
    engine = make_engine(database_url)
    with Session(engine) as session:
        user, form, version = bare_form(session)
        session.execute(text("INSERT INTO form_submissions (form_id, version_id, user_id, status, answers_token, "
                             "reopened_at, reopen_reason, updated_at) "
                             "VALUES (:f, :v, :u, 'draft', 'tok', :at, 'OLD-REASON', :at)"),
                        {"f": form.id, "v": version.id, "u": user.id, "at": datetime(2026, 3, 9)})
        session.add_all([Notification(user_id=user.id, kind="form_reopened", title="表单退回修改：t", body="OLD-REASON"),
                         Notification(user_id=user.id, kind="task_returned", title="x", body="kept")])
        session.commit()
    command.upgrade(cfg, "0016")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT reopen_reason, reopen_reason_token FROM form_submissions")).all() == [
            ("OLD-REASON", "")]
        bodies = dict(conn.execute(text("SELECT kind, body FROM notifications")).all())
        assert bodies == {"form_reopened": REOPENED_BODY, "task_returned": "kept"}
        conn.execute(text("UPDATE form_submissions SET reopen_reason = '', reopen_reason_token = 'sealed'"))
    with pytest.raises(RuntimeError, match="sealed reopen reasons"):
        command.downgrade(cfg, "0015")
    with engine.begin() as conn:
        conn.execute(text("UPDATE form_submissions SET reopen_reason_token = ''"))
    command.downgrade(cfg, "0015")
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM form_submissions")).scalar() == 1
    engine.dispose()
