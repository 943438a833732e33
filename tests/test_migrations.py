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
