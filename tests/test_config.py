"""Configuration safety: QUALITY A6, A7, A30 and the factory rule (ARCHITECTURE rule 1)."""
from __future__ import annotations

import base64
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.db import db
from app.models import User
from app.preflight import UnsafeDeployment, production_preflight

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = secrets.token_urlsafe(40)
FORMS_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@pytest.mark.parametrize("key", [None, "", "short", "dev", "development key", "x" * 31])
def test_a7_production_refuses_weak_secret(database_url, monkeypatch, key):
    """A7: production refuses a missing, short or known SECRET_KEY."""
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": key, "DATABASE_URL": database_url})


def test_a30_production_refuses_debug(database_url, monkeypatch):
    """A30: production refuses to start with FLASK_DEBUG=1."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="debug"):
        create_app({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": database_url})


def test_a7_no_secret_literal_in_repository():
    """A7: no secret-key string literal is committed anywhere in the repository."""
    files = subprocess.run(["git", "ls-files", "*.py", "*.cfg", "*.ini", "*.toml", "*.env"], cwd=ROOT,
                           capture_output=True, text=True).stdout.split()
    pattern = re.compile(r"SECRET_KEY\s*=\s*['\"][^'\"]+['\"]")
    # A tracked file deleted in the working tree (not yet committed) has nothing left to check.
    offenders = [f for f in files if (ROOT / f).exists() and pattern.search((ROOT / f).read_text(encoding="utf-8"))]
    assert offenders == []


def test_a6_migration_creates_no_users(app):
    """A6: `db upgrade` alone creates no account at all."""
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_a6_production_refuses_active_demo_accounts(database_url, runner_for):
    """A6: production refuses to start while any demo account is active, and starts once they are off."""
    runner_for("seed", "demo")
    prod = create_app({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": database_url,
                       "FORMS_KEYS": [FORMS_KEY]})
    with pytest.raises(UnsafeDeployment):
        production_preflight(prod)
    runner_for("users", "disable-demo")
    production_preflight(prod)


def test_a6_first_admin_from_cli(app, runner_for, city):
    """A6: the first city admin comes from the CLI with a one-time random password that must be changed."""
    result = runner_for("users", "create-admin", "--username", "chief")
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password: (\S+)", result.output).group(1)
    client = app.test_client()
    client.post("/login", data={"username": "chief", "password": password})
    assert client.get("/admin/").headers["Location"].endswith("/account/password")


def test_factory_does_not_touch_the_database(tmp_path):
    """ARCHITECTURE rule 1: creating an app neither creates nor opens the database file."""
    path = tmp_path / "untouched.db"
    create_app({"APP_ENV": "testing", "DATABASE_URL": f"sqlite:///{path}"})
    assert not path.exists()


@pytest.fixture
def runner_for(make_app):
    application = make_app()

    def run(*args):
        return application.test_cli_runner().invoke(args=list(args))

    return run


@pytest.mark.parametrize("value, outcome", [("0", "off"), ("off", "off"), ("1", "on"), ("yes", "on"),
                                            ("maybe", "refused"), ("O", "refused")])
def test_on_off_settings_refuse_anything_but_on_or_off(value, outcome):
    """An on/off setting (SQLITE_WRITER_QUEUE here) given a typo refuses to start with its name, instead of silently meaning off."""
    done = subprocess.run([sys.executable, "-c", "import config; print('on' if config.BaseConfig.SQLITE_WRITER_QUEUE else 'off')"],
                          cwd=ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "SQLITE_WRITER_QUEUE": value})
    if outcome == "refused":
        assert done.returncode != 0 and f"SQLITE_WRITER_QUEUE={value!r}: use 1 or 0" in done.stderr
    else:
        assert done.returncode == 0 and done.stdout.strip() == outcome, done.stderr


def test_clock_at_starts_the_development_clock_at_a_local_minute_and_runs_on(database_url):
    """CLOCK_AT (development only) makes every "now" start at that Asia/Shanghai minute, shifted from the real clock (not frozen)."""
    from datetime import datetime

    from app import clock
    from app.timeutils import utcnow

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": database_url, "CLOCK_AT": "2026-12-03 14:00"})
    with app.app_context():
        first = clock.now()
        assert datetime(2026, 12, 3, 5, 59, 59) <= first <= datetime(2026, 12, 3, 6, 0, 2)  # 14:00 in Shanghai
        # A shift of the real clock: the distance to it stays the same from call to call.
        assert abs((clock.now() - utcnow()) - (first - utcnow())).total_seconds() <= 1


@pytest.mark.parametrize("value", ["2026-12-03", "tomorrow", "2026-13-01 10:00", "2026-12-03 24:00"])
def test_clock_at_refuses_a_value_that_is_not_a_local_minute(database_url, value):
    """A mistyped CLOCK_AT refuses to start and names the setting, instead of running on the real clock."""
    with pytest.raises(RuntimeError, match="CLOCK_AT"):
        create_app({"APP_ENV": "testing", "DATABASE_URL": database_url, "CLOCK_AT": value})


def test_production_refuses_clock_at(database_url):
    """Production's clock is the real one: CLOCK_AT refuses to start."""
    with pytest.raises(RuntimeError, match="CLOCK_AT"):
        create_app({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": database_url,
                    "FORMS_KEYS": [FORMS_KEY], "CLOCK_AT": "2026-12-03 14:00"})
