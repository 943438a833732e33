"""The express lane: the ordinary case of the two hottest writes, without Flask's dispatch.

Every reader sends a study heartbeat every 30 seconds and every examinee autosaves as they
answer; at city scale (issue #7, QUALITY L1) these two requests are most of the traffic, and on
one 2-core machine their CPU cost is the platform's capacity. Through the full stack an
authenticated write builds a request context, loads the user and the server-side session as
ORM objects (Flask-Login), runs every hook and executes its statements through SQLAlchemy's
execution machinery: about 8 ms of CPU per heartbeat on the bench machine, of which SQLite's own
work is 0.4 ms (``benchmarks/profile_hot.py``).

This WSGI middleware answers only the ordinary case of
``POST /api/v1/study/items/<id>/heartbeat`` and ``PUT /api/v1/attempts/<id>/answers/<id>``: a
signed-in officer with a live session and a valid CSRF token, a well-formed JSON body, and a
write that succeeds. It skips machinery, never decisions (ARCHITECTURE rule 13): every decision
is a call to the function the full stack calls, with settings read from the config on every
request as the full stack reads them:

* the session cookie is opened with the app's own signing serializer (Flask's
  ``SecureCookieSessionInterface``); the CSRF token is judged by ``decisions.csrf_refusal``
  (the full stack's ``CSRFProtect.protect`` is bound to it), Flask-Login's session protection by
  ``decisions.session_identifier``/``session_protection`` (bound likewise, app/auth/access.py);
* "may this session write through this rule now" is ``decisions.write_refusal``: the session
  row and its user as ``load_user`` judges them (``session_refusal``: live under the
  LoginPolicy, the claimed user, an active account), then the view's declared ``@access`` rule
  as ``enforce_access`` judges it (``access_refusal``: no pending password change, the role;
  a second factor is never read here, so admin pages are left to the full stack);
* the attempt is the caller's by ``exams.services.owned_attempt``; the checks and writes are the
  views' service functions (``study.services.beat_checks``/``write_beat``,
  ``exams.services.check_answer``/``write_answer``), whose SQLAlchemy statements are compiled
  once per dialect and run on the pooled DBAPI connection (``_Conn``): the checks in a read
  (deferred) transaction, the writes in a short write transaction;
* the response carries the same headers as the full stack's (``security.response_headers``,
  ``Vary``), proved equal header by header in tests/test_express_lane.py, which also pins the
  full stack's hooks around the two views, so a new hook fails a test until the lane asks it.

Anything else — no or bad cookie, revoked or expired session, another role, a pending password
change, a CSRF failure, a changed client on a fresh session, a body that is not a JSON object, an
item or question that is not available, a beat too soon, a stale or replayed save, the A33 burst
flag, any database error — is handed to the full application *before anything is committed*
(the write transaction is rolled back), with the request body intact. The full stack then
decides and answers exactly as it always does, with its messages, audit rows and status codes.
So the lane answers only 200s that the full stack would also answer, and writes nothing the full
stack would not.

Every request on the two routes is counted: served, declined by reason (``DECLINE_REASONS``) or
met an unexpected error, which is logged at WARNING (at most once a minute per worker, with the
number left unlogged) and handed on all the same. ``/healthz`` shows the worker's counts and
``/metrics`` all workers' (app/metrics.py).

``EXPRESS_LANE = False`` (environment ``EXPRESS_LANE=0``) sends every request through the full
stack; tests compare both ways.
"""
from __future__ import annotations

import io
import re
import time
from collections import namedtuple
from dataclasses import asdict

from flask import Flask
from itsdangerous import BadData
from sqlalchemy import bindparam, select, update
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from . import metrics
from .auth import decisions
from .db import writer_queue
from .models import AuthSession, Unit, User
from .timeutils import utcnow
from .ids import MAX_URL_INT  # larger ids match no route: the full stack answers 404

#: Bodies of the two requests are a few dozen bytes; anything larger takes the full stack.
MAX_BODY = 16 * 1024

_ROUTES = (
    ("POST", re.compile(r"^/api/v1/study/items/([1-9][0-9]{0,9})/heartbeat$"), "api.study_heartbeat"),
    ("PUT", re.compile(r"^/api/v1/attempts/([1-9][0-9]{0,9})/answers/([1-9][0-9]{0,9})$"), "api.attempts_save"),
)

_S, _U, _N = AuthSession.__table__, User.__table__, Unit.__table__
# Who is asking, in one statement: the session row (``user_id`` is the session's), its user
# (``id``, what owned_attempt compares) and the user's unit path.
_WHO = (select(_S.c.user_id, _S.c.revoked_at, _S.c.last_seen_at, _S.c.created_at, _U.c.id, _U.c.role,
               _U.c.is_active, _U.c.must_change_password, _N.c.path)
        .join(_U, _U.c.id == _S.c.user_id).join(_N, _N.c.id == _U.c.unit_id)
        .where(_S.c.id == bindparam("sid")))
_TOUCH = update(_S).where(_S.c.id == bindparam("sid")).values(last_seen_at=bindparam("now"))

#: Why the lane handed a request to the full stack: the ``reason`` of /healthz's ``declined`` and
#: of /metrics' ``platform_express_requests_total{outcome="declined"}``.
DECLINE_REASONS = {
    "not_ordinary": "not the ordinary request: no or too large a body (MAX_BODY, MAX_CONTENT_LENGTH), not JSON, "
                    "an id past the routes' range, a view without a signed-in rule",
    "untrusted_host": "a Host outside TRUSTED_HOSTS (Flask answers 400)",
    "bad_body": "the body is not a JSON object of the expected fields (the full stack answers 400/422)",
    "csrf": "no CSRF token, or one not valid for this session (decisions.csrf_refusal)",
    "no_session": "no signed-in session in the cookie, or none in the database (decisions.session_refusal)",
    "session_protection": "another client on a fresh session: Flask-Login marks or ends it "
                          "(decisions.session_protection)",
    "session_ended": "the session was revoked, idle or too old (decisions.session_refusal)",
    "other_user": "the session belongs to another user than the cookie claims (decisions.session_refusal)",
    "inactive": "the account is disabled (decisions.session_refusal)",
    "password_change": "a password change is pending (decisions.access_refusal)",
    "role": "the view's @access rule does not list the caller's role (decisions.access_refusal)",
    "mfa": "an admin page that needs a second factor (decisions.access_refusal)",
    "not_available": "heartbeat: the item is not published to this officer",
    "no_policy": "heartbeat: no study policy yet (the full stack creates the default one)",
    "too_soon": "heartbeat: sooner than the policy's minimum gap (429)",
    "not_owner": "autosave: not the caller's attempt (owned_attempt: 404)",
    "attempt_closed": "autosave: the attempt is finished or past its deadline (409)",
    "bad_answer": "autosave: the question is not in the paper, or the answer or seq is malformed (400)",
    "stale_seq": "autosave: the conditional write did not apply: a stale or replayed seq, or the attempt closed "
                 "meanwhile",
    "burst_flag": "autosave: the save that completes an A33 burst (the full stack flags and audits it)",
}
#: The lane never reads a second factor (admin pages are left to the full stack).
_NO_SECOND_FACTOR = lambda: False  # noqa: E731
#: An unexpected error is logged at WARNING at most this often per worker (seconds).
WARNING_INTERVAL = 60.0


class _Decline(Exception):
    """Not the ordinary case: the full application answers this request."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- statements on the DBAPI connection ----------------------------------------------------

class _Prepared:
    """A SQLAlchemy statement compiled once for a dialect, with its bind and result processors
    (the types' own ``bind_processor``/``result_processor``, so values are converted exactly as
    SQLAlchemy converts them)."""

    def __init__(self, stmt, dialect, keys: list[str]):
        # As Connection.execute compiles it: the given parameter names are the column keys
        # (an INSERT without .values() lists exactly those columns).
        compiled = stmt.compile(dialect=dialect, column_keys=keys)
        self.compiled = compiled
        self.sql = compiled.string
        self.positional = compiled.positional
        self.order = list(compiled.positiontup or ())
        self.binds = {name: bp.type.dialect_impl(dialect).bind_processor(dialect) for name, bp in compiled.binds.items()}
        self.dialect = dialect
        self.columns = list(getattr(stmt, "exported_columns", ()) or ())
        self.row = namedtuple("Row", [c.key for c in self.columns], rename=True) if self.columns else None
        self.results = None  # from the first cursor description: some drivers' processors need the column's type code

    def parameters(self, params: dict):
        values = self.compiled.construct_params(params)
        for name, proc in self.binds.items():
            if proc is not None and values.get(name) is not None:
                values[name] = proc(values[name])
        return tuple(values[name] for name in self.order) if self.positional else values

    def make_rows(self, cursor) -> list:
        if self.row is None:
            return []
        raw_rows = cursor.fetchall()
        if self.results is None:
            codes = [d[1] for d in cursor.description]
            self.results = [c.type.dialect_impl(self.dialect).result_processor(self.dialect, code)
                            for c, code in zip(self.columns, codes)]
        return [self.row(*(proc(v) if proc is not None else v for proc, v in zip(self.results, raw)))
                for raw in raw_rows]


class _Result:
    __slots__ = ("rows", "rowcount")

    def __init__(self, rows, rowcount):
        self.rows, self.rowcount = rows, rowcount

    def first(self):
        return self.rows[0] if self.rows else None

    def one(self):
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]


class _Conn:
    """What the services need of a Connection (``execute(stmt, params)`` → ``first``/``one``/
    ``rowcount``, and ``dialect``), on the pool's DBAPI connection, with explicit transactions:
    ``begin(write=False)`` is a deferred BEGIN on SQLite, ``begin(write=True)`` BEGIN IMMEDIATE
    (QUALITY L2); on PostgreSQL the driver opens the transaction itself."""

    _prepared: dict = {}

    def __init__(self, engine, queue=None):
        self.dialect = engine.dialect
        self.sqlite = engine.dialect.name == "sqlite"
        self.fairy = engine.raw_connection()
        self.dbapi = self.fairy.driver_connection
        self.cursor = self.dbapi.cursor()
        self.queue = queue
        self.locked = False

    def begin(self, write: bool) -> None:
        if self.sqlite:
            if write and self.queue is not None:
                self.queue.acquire()  # app.db.WriterQueue: woken as soon as the last writer commits
                self.locked = True
            self.cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _unlock(self) -> None:
        if self.locked:
            self.locked = False
            self.queue.release()

    def commit(self) -> None:
        try:
            self.dbapi.commit() if not self.sqlite else self.cursor.execute("COMMIT")
        finally:
            self._unlock()

    def rollback(self) -> None:
        try:
            if self.sqlite:
                if self.dbapi.in_transaction:
                    self.cursor.execute("ROLLBACK")
            else:
                self.dbapi.rollback()
        finally:
            self._unlock()

    def execute(self, stmt, params: dict | None = None) -> _Result:
        params = params or {}
        keys = sorted(params)
        key = (id(stmt), self.dialect.name, tuple(keys))
        prepared = self._prepared.get(key)
        if prepared is None or prepared[0] is not stmt:  # statements are module constants; ids are not reused
            prepared = self._prepared[key] = (stmt, _Prepared(stmt, self.dialect, keys))
        prep = prepared[1]
        self.cursor.execute(prep.sql, prep.parameters(params))
        rows = prep.make_rows(self.cursor)
        return _Result(rows, self.cursor.rowcount)

    def close(self) -> None:
        try:
            self.cursor.close()
        finally:
            self.fairy.close()  # back to the pool (which rolls back anything left open)
            self._unlock()


# --- the middleware ------------------------------------------------------------------------

class ExpressLane:
    """WSGI middleware around the Flask application's ``wsgi_app`` (see the module docstring)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        #: Requests on the two routes answered here, handed on (in all, and by reason), and
        #: handed on after an unexpected error: this worker's share, shown by /healthz.
        self.served = 0
        self.declined = 0
        self.declined_by: dict[str, int] = {}
        self.errors = 0
        self._warned_at: float | None = None
        self._unlogged = 0
        self._setup = None

    def counts(self) -> dict:
        """This worker's counts, as /healthz shows them."""
        return {"enabled": bool(self.app.config.get("EXPRESS_LANE", True)), "served": self.served,
                "declined": dict(self.declined_by), "errors": self.errors}

    def _settings(self):
        """Machinery built once from the configured app, no decision: the session cookie's
        signing serializer (Flask's own, with SECRET_KEY_FALLBACKS), the response headers (as
        ``security.init_app`` builds them once) and the SQLite writer queue of the engine."""
        if self._setup is None:
            from .security import response_headers

            app = self.app
            self._setup = {
                "session": app.session_interface.get_signing_serializer(app),
                "headers": response_headers(app) + [("Vary", "Accept-Encoding, Cookie")],
                "writers": writer_queue(app.extensions["db"].engine, app.config.get("SQLITE_WRITER_QUEUE", True)),
            }
        return self._setup

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        route = None
        if method in ("POST", "PUT") and self.app.config.get("EXPRESS_LANE", True):
            path = environ.get("PATH_INFO", "")
            for want, pattern, endpoint in _ROUTES:
                if want == method:
                    match = pattern.match(path)
                    if match:
                        route = (endpoint, [int(x) for x in match.groups()])
                        break
        if route is None:
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        limit = self.app.config.get("MAX_CONTENT_LENGTH")  # Flask answers 413 past it
        if length <= 0 or length > MAX_BODY or (limit is not None and length > limit):
            self._declined("not_ordinary")
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        try:
            answer = self._serve(environ, route, body)
        except _Decline as decline:
            self._declined(decline.reason)
        except Exception as error:  # noqa: BLE001 - the full stack meets the same fault and answers it (503, L10)
            self._failed(error)
        else:
            self.served += 1
            metrics.count_express("served")
            environ[metrics.ENDPOINT_KEY] = route[0]
            start_response("200 OK", answer[1])
            return [answer[0]]
        environ["wsgi.input"] = io.BytesIO(body)  # the full stack reads the body afresh
        return self.wsgi_app(environ, start_response)

    def _declined(self, reason: str) -> None:
        self.declined += 1
        self.declined_by[reason] = self.declined_by.get(reason, 0) + 1
        metrics.count_express("declined", reason)

    def _failed(self, error: Exception) -> None:
        """Count an unexpected error; log it at WARNING unless one was logged in the last minute."""
        self.errors += 1
        metrics.count_express("error", type(error).__name__)
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < WARNING_INTERVAL:
            self._unlogged += 1
            return
        self.app.logger.warning("express lane handed a request to the full stack after an error "
                                "(%d more since the last one logged)", self._unlogged, exc_info=error)
        self._warned_at, self._unlogged = now, 0

    def _session(self, environ, config, serializer) -> dict:
        """The signed session cookie's contents, once the full stack's CSRF and session-protection
        decisions let them pass quietly; _Decline otherwise."""
        app = self.app
        data = None
        raw = parse_cookie(environ).get(config["SESSION_COOKIE_NAME"])
        if raw:
            try:  # as Flask's SecureCookieSessionInterface.open_session: a bad cookie is an empty session
                data = serializer.loads(raw, max_age=int(app.permanent_session_lifetime.total_seconds()))
            except BadData:
                data = None
        if not isinstance(data, dict):
            data = {}
        # Flask-WTF's hook runs first in the full stack. Here on every POST and PUT, exemptions
        # and WTF_CSRF_METHODS aside: never looser than the full stack.
        if config.get("WTF_CSRF_ENABLED") and config.get("WTF_CSRF_CHECK_DEFAULT", True):
            token = None
            for header in config["WTF_CSRF_HEADERS"]:
                token = environ.get("HTTP_" + header.upper().replace("-", "_"))
                if token:
                    break
            secure = environ.get("wsgi.url_scheme") == "https"
            if decisions.csrf_refusal(token, data.get(config["WTF_CSRF_FIELD_NAME"]), config, app.secret_key,
                                      secure=secure, referrer=environ.get("HTTP_REFERER"),
                                      host=get_host(environ) if secure else "") is not None:
                raise _Decline("csrf")
        if not data.get("sid") or not data.get("_user_id"):
            raise _Decline("no_session")
        identifier = decisions.session_identifier(environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR")),
                                                  environ.get("HTTP_USER_AGENT"))
        mode = config.get("SESSION_PROTECTION", app.login_manager.session_protection)
        # "signal": Flask-Login only sends session_protected (the lane skips signals, see the
        # pin in tests/test_express_lane.py); "mark" and "end" change the session: handed on.
        if decisions.session_protection(data, identifier, mode) not in ("pass", "signal"):
            raise _Decline("session_protection")
        return data

    def _serve(self, environ, route, body: bytes):
        """``(body, headers)`` of the ordinary case after COMMIT; raises _Decline (or any error)
        with nothing written otherwise."""
        endpoint, ids = route
        if any(i > MAX_URL_INT for i in ids):
            raise _Decline("not_ordinary")
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Decline("not_ordinary")
        app = self.app
        config = app.config
        rule = getattr(app.view_functions.get(endpoint), "access", None)
        if rule is None or rule.public:
            raise _Decline("not_ordinary")
        trusted = config.get("TRUSTED_HOSTS")
        if trusted is not None:  # Flask checks the Host of every request against it (400)
            try:
                get_host(environ, trusted)
            except SecurityError:
                raise _Decline("untrusted_host") from None
        cfg = self._settings()
        data = self._session(environ, config, cfg["session"])
        try:
            payload = app.json.loads(body)  # the full stack's parser: too deep a body is declined (A36)
        except ValueError:
            raise _Decline("bad_body") from None
        if not isinstance(payload, dict):
            raise _Decline("bad_body")
        clock = config.get("CLOCK")
        now = clock() if clock else utcnow()
        conn = _Conn(app.extensions["db"].engine, cfg["writers"])
        try:
            result = self._run(conn, config, rule, data, endpoint, ids, payload, now)
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()
        # As Flask's DefaultJSONProvider.response: compact unless debugging, a trailing newline.
        provider = app.json
        pretty = (getattr(provider, "compact", None) is None and app.debug) or getattr(provider, "compact", None) is False
        text = (provider.dumps(result, **({"indent": 2} if pretty else {"separators": (",", ":")})) + "\n").encode()
        return text, [("Content-Type", "application/json"), ("Content-Length", str(len(text))), *cfg["headers"]]

    def _run(self, conn: _Conn, config, rule, data: dict, endpoint: str, ids: list[int], payload: dict, now) -> dict:
        """Checks in a read transaction, then the writes in a write transaction; returns the JSON
        body after COMMIT, or raises (the caller rolls back)."""
        sid = data["sid"]
        conn.begin(write=False)
        who = conn.execute(_WHO, {"sid": sid}).first()
        refusal = decisions.write_refusal(rule, who, who, data["_user_id"], now, config, _NO_SECOND_FACTOR)
        if refusal is not None:
            raise _Decline(refusal)
        touch = now - who.last_seen_at >= config["SESSION_TOUCH_INTERVAL"]
        if endpoint == "api.study_heartbeat":
            from .study import services as study

            try:
                signals = study.Signals.parse(payload)
            except ValueError:
                raise _Decline("bad_body") from None
            try:
                item, policy = study.beat_checks(conn, who.path, ids[0], now)
            except study.NotAvailable:
                raise _Decline("not_available") from None
            if policy is None:
                raise _Decline("no_policy")  # the full stack creates the default policy first
            conn.commit()  # ends the read snapshot
            conn.begin(write=True)
            try:
                result = asdict(study.write_beat(conn, who.id, item, policy, now, signals))
            except study.TooSoon:
                raise _Decline("too_soon") from None
        else:
            from .exams import queries as exam_queries, services as exams

            if "answer" not in payload:
                raise _Decline("bad_body")
            try:
                attempt = exams.owned_attempt(conn, ids[0], who)
            except exams.ExamError:
                raise _Decline("not_owner") from None
            seq = payload.get("seq")
            try:
                position, stored = exams.check_answer(conn, attempt, ids[1], payload["answer"], seq, now)
            except exams.ExamError as err:
                closed = err.code in ("finished", "deadline_passed")
                raise _Decline("attempt_closed" if closed else "bad_answer") from None
            conn.commit()
            conn.begin(write=True)
            applied, row = exams.write_answer(conn, attempt.id, position, stored, seq, now)
            if not applied:
                raise _Decline("stale_seq")  # replay, stale, or finished meanwhile: the full stack judges it
            if exams.needs_burst_flag(row):
                raise _Decline("burst_flag")  # A33's flag with its audit row
            result = {"saved": True, "question_id": ids[1], "seq": row.seq, "server_now": exam_queries.iso(now),
                      "deadline": exam_queries.iso(row.deadline),
                      "remaining_seconds": max(0, int((row.deadline - now).total_seconds()))}
        if touch:
            conn.execute(_TOUCH, {"sid": sid, "now": now})  # heartbeats and autosaves keep a session alive (A10)
        conn.commit()  # the 200 is sent only after COMMIT (E11)
        return result


def init_app(app: Flask) -> None:
    """Install the lane directly around Flask's ``wsgi_app`` (inside ProxyFix, which sets the
    client address and scheme the CSRF and session checks read)."""
    lane = ExpressLane(app, app.wsgi_app)
    app.extensions["express_lane"] = lane
    app.wsgi_app = lane
