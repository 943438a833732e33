"""Browser fixtures (QUALITY §6 item 6): the real app under gunicorn, driven by Debian's Chromium.

These tests never use the ``app``/``database_url`` fixtures of ``tests/conftest.py`` (those are
parametrised over SQLite and PostgreSQL); they start their own server on a fresh SQLite file
loaded with ``seed demo``, exactly as ``make run`` does.
"""
from __future__ import annotations

import base64
import os
import secrets
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.prefix) / "bin"
SCREENS = ROOT / "tests" / "artifacts" / "screens"
IN_CI = os.environ.get("CI", "").lower() == "true"

DEMO_PASSWORD = "tiejun2021"
VIEWPORT = {"width": 360, "height": 640}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary(name: str) -> str:
    path = BIN / name
    if not path.exists():  # e.g. a venv run through a symlinked interpreter
        path = Path(sys.executable).parent / name
    return str(path)


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
                last = resp.status
        except (urllib.error.URLError, ConnectionError, OSError) as err:
            last = err
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {STARTUP_TIMEOUT:.0f}s (last: {last}):\n"
                       f"{log.read_text(errors='replace')}")


#: Facts about the running live server that tests may need (the SQLite file behind it).
LIVE: dict = {}


@pytest.fixture(scope="session")
def live_db(live_server) -> Path:
    """The live server's SQLite file, for tests that must set up a state the UI cannot reach
    quickly (e.g. a deadline that has already passed)."""
    return LIVE["db"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of gunicorn (2 workers) serving a freshly migrated and seeded SQLite database.

    The database and gunicorn.log stay in pytest's temporary directory (the last few runs are kept).
    """
    tmp = tmp_path_factory.mktemp("e2e")
    LIVE["db"] = tmp / "e2e.db"
    alphabet = string.ascii_letters + string.digits
    env = dict(os.environ)
    env.update(
        APP_ENV="development",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(48)),
        # The key of confidential forms, as `make run` writes to instance/forms_keys.
        FORMS_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        DATABASE_URL=f"sqlite:///{tmp / 'e2e.db'}",
        DEMO_PASSWORD=DEMO_PASSWORD,
        INSTANCE_PATH=str(tmp / "instance"),  # never touch the checkout's instance/
        # The flows check that a supervisor's action moves the unit's figure at once; the
        # minute-long dashboard cache has its own tests (tests/test_reports_cache.py).
        REPORTS_CACHE_SECONDS="0",
    )
    env.pop("FLASK_DEBUG", None)
    flask = [_binary("flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["seed", "demo"]):
        done = subprocess.run(flask + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    port = _free_port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    log = tmp / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([_binary("gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2", "wsgi:app"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + "/login", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        message = f"no Chromium at {executable} (install Debian's chromium or set CHROMIUM_PATH)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screens() -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


@dataclass
class PageLog:
    """What a page did: console errors, uncaught exceptions, requests, failed requests."""

    base: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")

    def _on_failed(self, req) -> None:
        # ERR_ABORTED is the browser dropping a late load (often the favicon) because the test
        # navigated on; a missing or blocked file shows up as an HTTP status or another error.
        if "ERR_ABORTED" not in (req.failure or ""):
            self.failed.append(f"{req.url} ({req.failure})")

    def _on_response(self, resp) -> None:
        if urlsplit(resp.url).path.startswith("/static/") and resp.status >= 400:
            self.failed.append(f"{resp.url} (HTTP {resp.status})")

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.base).netloc
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != own]

    def assert_clean(self) -> None:
        """No console error (CSP violations are console errors), no script error, no failed
        static file, no request to another host."""
        assert self.console_errors == [], "console errors / CSP violations"
        assert self.page_errors == [], "uncaught page errors"
        static_failures = [f for f in self.failed if "/static/" in f]
        assert static_failures == [], "failed requests for the app's own static files"
        assert self.foreign_requests() == [], "requests to hosts other than the live server"


@pytest.fixture
def page_log(live_server) -> PageLog:
    return PageLog(live_server)


@pytest.fixture
def page(browser, page_log):
    """A fresh 360×640 zh-CN phone page (its own cookies), with page_log listening."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=page_log.base)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    page_log.attach(pg)
    yield pg
    context.close()


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait for the page it leads to."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.fixture
def log_in():
    return login
