"""Settings for the three environments.

`create_app()` picks a class from the ``APP_ENV`` environment variable (``development`` when
unset, which is what ``make run`` serves). Values that differ per deployment come from the
environment; nothing secret lives in this file (QUALITY A7).
"""
from __future__ import annotations

import base64
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

#: Keys that appear in tutorials, in this repository's history or in our own docs. Production
#: refuses them even when they are long enough.
KNOWN_WEAK_KEYS = frozenset({
    "dev", "development key", "secret", "changeme", "change-me", "test", "testing",
    "please-change-me-to-a-long-random-string-0000",
})


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _env_bool(name: str, default: bool = False) -> bool:
    """An on/off setting; any other value refuses to start (a typo must not silently turn a
    setting off)."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in _TRUE | _FALSE:
        raise RuntimeError(f"{name}={value!r}: use 1 or 0 (true/false, yes/no, on/off)")
    return word in _TRUE


def _env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def _read_instance_secret() -> str | None:
    """The key ``make run`` generated once under instance/ (never committed)."""
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip() or None
    return None


def _read_forms_keys() -> list[str]:
    """FORMS_KEYS (comma separated, newest first), else instance/forms_keys that ``make run``
    generated once. The keys of confidential form answers and attachments (app/forms_/crypto.py)."""
    raw = os.environ.get("FORMS_KEYS")
    if raw is None:
        path = INSTANCE_DIR / "forms_keys"
        raw = path.read_text() if path.exists() else ""
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


def _valid_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):
        return False


class BaseConfig:
    APP_ENV = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY") or _read_instance_secret()
    #: Fernet keys for confidential forms, newest first: the first encrypts, all decrypt. Rotate
    #: with ``flask forms rotate-key``. Production refuses to start without one.
    FORMS_KEYS = _read_forms_keys()
    #: Cap for one photo or PDF attached to a form.
    FORMS_FILE_MAX_BYTES = 5 * 1024 * 1024
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'platform.db'}"
    #: Seconds a SQLite writer waits for the lock before giving up (QUALITY L2).
    SQLITE_BUSY_TIMEOUT_MS = 15000
    #: Seconds a web process reuses the city's per-unit figures for dashboards, leaderboard and
    #: exports; pages show when they were computed (issue #7, L8). 0 = always live.
    REPORTS_CACHE_SECONDS = int(os.environ.get("REPORTS_CACHE_SECONDS", "60"))
    #: WAL pages after which a committing connection copies the WAL back into the database
    #: (SQLite's default 1000); 0 leaves checkpoints to someone else (diagnosis only).
    SQLITE_WAL_AUTOCHECKPOINT = int(os.environ.get("SQLITE_WAL_AUTOCHECKPOINT", "1000"))

    # Sessions (QUALITY A8–A12). Remember-me cookies are not offered at all: shared station PCs.
    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    #: How often an active session's last-seen time is written (keeps GETs nearly write-free).
    SESSION_TOUCH_INTERVAL = timedelta(seconds=60)
    #: The ordinary case of heartbeats and autosaves skips Flask's dispatch (app/express.py);
    #: False sends every request through the full stack.
    EXPRESS_LANE = _env_bool("EXPRESS_LANE", True)
    #: Development and testing only: the Asia/Shanghai minute (``YYYY-MM-DD HH:MM``) the server's
    #: clock starts at when the process starts, then runs on — to walk the platform on a Thursday
    #: afternoon or after a deadline without waiting (app/clock.py). Production refuses it.
    CLOCK_AT = os.environ.get("CLOCK_AT") or None
    #: The lane's SQLite writers wait for each other on a kernel lock beside the database file
    #: (app.db.WriterQueue) instead of SQLite's sleep-and-retry busy handler.
    SQLITE_WRITER_QUEUE = _env_bool("SQLITE_WRITER_QUEUE", True)
    #: A login younger than this counts as "fresh" for sensitive admin changes (A13).
    FRESH_LOGIN_WINDOW = timedelta(minutes=15)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    #: The cookie lives exactly as long as the absolute timeout from sign-in; the server-side
    #: session decides idleness. Re-signing it on every response (Flask's default) bought
    #: nothing and cost a signature and a Set-Cookie on every heartbeat and autosave.
    SESSION_REFRESH_EACH_REQUEST = False

    # CSRF: tokens live as long as the session so that a long exam never loses its token (E24).
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]

    # Sign-in throttling (A3, A35, L12): counters in the database, shared by every worker and
    # host; no hard lock anyone can trigger. The rule is documented in
    # app/auth/services.py throttle_wait and README "Sign-in throttling".
    #: Wrong passwords for one username from one client address before that pair is paused
    #: (from that address only) for LOGIN_PAIR_WINDOW.
    LOGIN_PAIR_FAILURES = 5
    LOGIN_PAIR_WINDOW = timedelta(minutes=15)
    #: Wrong passwords for one username from all addresses within LOGIN_ACCOUNT_WINDOW after
    #: which each further one delays the username for LOGIN_ACCOUNT_DELAY (a delay, not a lock).
    LOGIN_ACCOUNT_FAILURES = 10
    LOGIN_ACCOUNT_WINDOW = timedelta(hours=1)
    LOGIN_ACCOUNT_DELAY = timedelta(minutes=1)
    #: Refused sign-ins from one address (any username) within LOGIN_ADDRESS_WINDOW after which
    #: the address is flooding: usernames that already failed from it are paused there; correct
    #: passwords of other accounts still pass (a station behind one NAT address).
    LOGIN_ADDRESS_FAILURES = 100
    LOGIN_ADDRESS_WINDOW = timedelta(minutes=15)

    # Passwords (A1, A4, A5).
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 128
    INITIAL_PASSWORD_DAYS = 7
    #: PBKDF2-HMAC-SHA256 at 100,000 iterations: ASVS 4.0.3 V2.4.3's floor (the standard this
    #: platform targets) and about 23 ms a hash here, so the exam-opening burst of ~20 sign-ins a
    #: second fits two cores beside the autosaves (QUALITY L13: "choose the KDF cost to fit 2
    #: cores"). scrypt N=2^15 cost 100 ms and the cheat sheet's minimums 0.14–0.4 s: measured in
    #: `make bench`, reasoning in README "Passwords". Raise it on bigger hosts: accounts are
    #: re-hashed at their next sign-in.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:100000"

    # Admin second factor (A20): TOTP, unless the client address is in an allowlisted network.
    ADMIN_MFA_WAIVER_NETWORKS = _env_list("ADMIN_MFA_WAIVER_NETWORKS")
    #: Number of reverse proxies in front of gunicorn; audit IPs come from ProxyFix (QUALITY).
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
    #: Networks (CIDRs, comma separated) besides loopback whose clients may read /metrics, e.g.
    #: the Prometheus server's; anyone else gets 404. The address is the client's as the app sees
    #: it, after ProxyFix when PROXY_HOPS is set.
    METRICS_NETWORKS = _env_list("METRICS_NETWORKS")

    # Weekly exams: when correct answers and explanations are shown (PRODUCT.md contract);
    # an admin's blueprint setting overrides it.
    EXAM_REVEAL_POLICY = os.environ.get("EXAM_REVEAL_POLICY", "after_close")

    # Demo data.
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "tiejun2021")

    # i18n.
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}

    # Uploads.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    IMPORT_MAX_ROWS = 20000
    #: Uploaded study videos and PDFs (server-chosen names); unset means <INSTANCE_PATH>/media.
    MEDIA_DIR = os.environ.get("MEDIA_DIR")
    #: Cap for one study video or PDF upload; only the content upload pages accept more than
    #: MAX_CONTENT_LENGTH, and only from a signed-in admin.
    STUDY_MEDIA_MAX_BYTES = 100 * 1024 * 1024
    #: Intranet hosts that may serve study videos by URL (e.g. ``https://video.ga.ty``), comma
    #: separated; added to the CSP's media-src (app/security.py). Empty: this site only.
    STUDY_MEDIA_HOSTS = _env_list("STUDY_MEDIA_HOSTS")

    SEND_FILE_MAX_AGE_DEFAULT = timedelta(days=365)
    #: Responses are compressed for phones on a weak signal (Flask-Compress; issue #7's page
    #: weight). Brotli first, gzip for old clients; static files stream through brotli once per
    #: first visit and are then cached for a year (fingerprinted names). Videos, PDFs, images
    #: and Excel files are already compressed and are left alone. BREACH: HTML carries the CSRF
    #: token, but the session cookie is SameSite=Lax, so a cross-site page cannot make the
    #: browser fetch signed-in pages it could measure.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "deflate"]
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "image/svg+xml", "text/csv", "text/plain"]
    API_PAGE_SIZE_MAX = 200
    HSTS = False

    @classmethod
    def validate(cls, config: dict) -> None:
        """Refuse to start on settings that would be unsafe; overridden per environment."""
        _check_common(config)


def _check_common(config: dict) -> None:
    bad = [i + 1 for i, key in enumerate(config.get("FORMS_KEYS") or ()) if not _valid_fernet_key(key)]
    if bad:
        raise RuntimeError(f"FORMS_KEYS: key {bad[0]} is not a Fernet key (32 url-safe base64 bytes); "
                           "make one with `flask --app wsgi forms new-key`")
    if config.get("CLOCK_AT"):
        from app.timeutils import parse_datetime_local_arg

        try:
            parse_datetime_local_arg(config["CLOCK_AT"])
        except ValueError:
            raise RuntimeError(f"CLOCK_AT: {config['CLOCK_AT']!r} is not a local minute like 2026-12-03 14:00") from None
    if config.get("EXAM_REVEAL_POLICY") not in ("after_close", "after_submit"):
        raise RuntimeError("EXAM_REVEAL_POLICY must be after_close or after_submit")
    for network in config.get("METRICS_NETWORKS") or ():
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise RuntimeError(f"METRICS_NETWORKS: {network!r} is not a network (CIDR, e.g. 10.20.0.0/16)") from None


class DevelopmentConfig(BaseConfig):
    """``make run``: embedded SQLite, demo data, plain HTTP on 127.0.0.1."""

    APP_ENV = "development"
    # On one's own machine the loopback address is the admin network.
    ADMIN_MFA_WAIVER_NETWORKS = _env_list("ADMIN_MFA_WAIVER_NETWORKS", "127.0.0.0/8,::1/128")

    @classmethod
    def validate(cls, config: dict) -> None:
        _check_common(config)
        if not config.get("SECRET_KEY"):
            raise RuntimeError(
                "SECRET_KEY is not set. Run `make run` (it writes instance/secret_key once) "
                "or export SECRET_KEY."
            )


class TestingConfig(BaseConfig):
    APP_ENV = "testing"
    TESTING = True
    # Random per test process: no key literal lives in the repository (A7).
    SECRET_KEY = secrets.token_urlsafe(32)
    FORMS_KEYS = [base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()]
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests; production cost is measured in bench
    REPORTS_CACHE_SECONDS = 0  # every change shows at once; the cache has its own tests
    ADMIN_MFA_WAIVER_NETWORKS = ["127.0.0.0/8"]


class ProductionConfig(BaseConfig):
    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    HSTS = True

    @classmethod
    def validate(cls, config: dict) -> None:
        _check_common(config)
        key = config.get("SECRET_KEY") or ""
        if len(key.encode()) < 32 or key in KNOWN_WEAK_KEYS:
            raise RuntimeError("Production needs SECRET_KEY: at least 32 random bytes, not a known value.")
        if config.get("DEBUG") or _env_bool("FLASK_DEBUG"):
            raise RuntimeError("Production refuses to start with debug on (FLASK_DEBUG).")
        if config.get("CLOCK_AT"):
            raise RuntimeError("Production refuses CLOCK_AT: its clock is the real one.")
        if not config.get("FORMS_KEYS"):
            raise RuntimeError("Production needs FORMS_KEYS (the keys of confidential forms, newest first); "
                               "make one with `flask --app wsgi forms new-key`.")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None = None) -> type[BaseConfig]:
    name = (name or os.environ.get("APP_ENV") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown APP_ENV {name!r}; use one of {', '.join(CONFIGS)}") from None
