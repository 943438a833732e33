"""Fixtures (ARCHITECTURE rule 10): real databases, real apps, frozen clocks.

Every test that uses ``app`` runs against a real SQLite file, and again against a real
PostgreSQL server when one is available: ``TEST_DATABASE_URL`` (CI sets it) or a throwaway
server started from the machine's binaries. With ``CI=true`` a missing server is an error,
never a silent skip.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from tests.factories import PASSWORD, build_city  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"


class Clock:
    """A settable clock installed as ``app.config["CLOCK"]``."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        from datetime import timedelta

        self.now = self.now + timedelta(**kwargs)
        return self.now


def _migrate(url: str) -> None:
    from alembic import command

    from app.cli import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")


# --- SQLite: migrate once into a template file, copy it per test -------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    _migrate(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


# --- PostgreSQL: a server for the session, a database per test from a migrated template ---

@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from scripts.pgserver import TempPostgres, find_bindir

    if find_bindir() is None:
        if IN_CI:
            pytest.fail("CI=true but no PostgreSQL server could be started")
        yield None
        return
    with TempPostgres() as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_server):
    if pg_server is None:
        return None
    from app.db import normalise_url

    admin = create_engine(normalise_url(pg_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS platform_template"))
        conn.execute(text("CREATE DATABASE platform_template"))
    _migrate(_with_db(pg_server, "platform_template"))
    return admin


def _with_db(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from app.db import normalise_url

    return make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A freshly migrated, empty database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "platform.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("pg_template")
    if admin is None:
        pytest.skip("no PostgreSQL server on this machine")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE platform_template'))
    yield _with_db(str(admin.url.render_as_string(hide_password=False)), name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def clock():
    return Clock(datetime(2026, 3, 9, 2, 0, 0))  # Monday 10:00 in Taiyuan


@pytest.fixture
def make_app(database_url, clock, tmp_path):
    apps = []

    def factory(**overrides):
        config = {"APP_ENV": "testing", "DATABASE_URL": database_url, "CLOCK": clock,
                  "INSTANCE_PATH": str(tmp_path)}
        config.update(overrides)
        application = create_app(config)
        apps.append(application)
        return application

    yield factory
    for application in apps:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def session(app):
    """The app's database session inside an app context (services flush, the test commits)."""
    with app.app_context():
        yield db.session


@pytest.fixture
def city(app, clock):
    """A small city: 2 systems, 3 branches, 5 stations and one account per role (see factories)."""
    with app.app_context():
        data = build_city(db.session, clock.now)
        db.session.commit()
        return data


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, app):
        self.app = app

    def login(self, client, username: str, password: str = PASSWORD, **extra):
        return client.post("/login", data={"username": username, "password": password, **extra})

    def logout(self, client):
        return client.post("/logout", headers={"X-CSRFToken": csrf_of(client)})


@pytest.fixture
def auth(app):
    return AuthActions(app)


def csrf_of(client, path: str = "/me") -> str:
    """The CSRF token a page would give its scripts (<meta name="csrf-token">)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    return match.group(1) if match else ""
