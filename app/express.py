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
write that succeeds. The decisions are the full stack's own:

* the session cookie is opened with the app's own signing serializer (Flask's
  ``SecureCookieSessionInterface``), the CSRF token is checked as Flask-WTF's ``validate_csrf``
  and ``CSRFProtect.protect`` do (same serializer, salt, time limit, constant-time compare and
  HTTPS referrer rule), and Flask-Login's session protection is applied with its identifier;
* the view's declared ``@access`` rule (roles), ``session_is_live`` (revoked, idle, absolute),
  the account being active and not awaiting a password change;
* the same service functions as the views (``study.services.beat_checks``/``write_beat``,
  ``exams.services.check_answer``/``write_answer``), whose SQLAlchemy statements are compiled
  once per dialect and run on the pooled DBAPI connection (``_Conn``): the checks in a read
  (deferred) transaction, the writes in a short write transaction;
* the response carries the same headers as the full stack's (``security.response_headers``,
  ``Vary``), proved equal header by header in tests/test_express_lane.py.

Anything else — no or bad cookie, revoked or expired session, another role, a pending password
change, a CSRF failure, a changed client on a fresh session, a body that is not a JSON object, an
item or question that is not available, a beat too soon, a stale or replayed save, the A33 burst
flag, any database error — is handed to the full application *before anything is committed*
(the write transaction is rolled back), with the request body intact. The full stack then
decides and answers exactly as it always does, with its messages, audit rows and status codes.
So the lane answers only 200s that the full stack would also answer, and writes nothing the full
stack would not.

``EXPRESS_LANE = False`` (environment ``EXPRESS_LANE=0``) sends every request through the full
stack; tests compare both ways.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections import namedtuple
from dataclasses import asdict

from flask import Flask
from flask_wtf.csrf import same_origin
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import bindparam, select, update
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from .auth.services import LoginPolicy, session_is_live
from .db import writer_queue
from .models import Attempt, AuthSession, Unit, User
from .timeutils import utcnow
from .web import MAX_URL_INT  # larger ids match no route: the full stack answers 404

#: Bodies of the two requests are a few dozen bytes; anything larger takes the full stack.
MAX_BODY = 16 * 1024

_ROUTES = (
    ("POST", re.compile(r"^/api/v1/study/items/([1-9][0-9]{0,9})/heartbeat$"), "api.study_heartbeat"),
    ("PUT", re.compile(r"^/api/v1/attempts/([1-9][0-9]{0,9})/answers/([1-9][0-9]{0,9})$"), "api.attempts_save"),
)

_S, _U, _N, _A = AuthSession.__table__, User.__table__, Unit.__table__, Attempt.__table__
# Who is asking, in one statement: the session row, its user and the user's unit path.
_WHO = (select(_S.c.user_id, _S.c.revoked_at, _S.c.last_seen_at, _S.c.created_at, _U.c.role, _U.c.is_active,
               _U.c.must_change_password, _N.c.path)
        .join(_U, _U.c.id == _S.c.user_id).join(_N, _N.c.id == _U.c.unit_id)
        .where(_S.c.id == bindparam("sid")))
_TOUCH = update(_S).where(_S.c.id == bindparam("sid")).values(last_seen_at=bindparam("now"))
_ATTEMPT = select(_A.c.id, _A.c.user_id, _A.c.status, _A.c.deadline, _A.c.seq).where(_A.c.id == bindparam("aid"))


class _Decline(Exception):
    """Not the ordinary case: the full application answers this request."""


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

def _flask_login_identifier(environ) -> str:
    """Flask-Login 0.6.3's ``_create_identifier`` (utils.py) computed from the WSGI environ: the
    same bytes formatting, so it equals the ``_id`` stored at login (tests compare the two)."""
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    user_agent = environ.get("HTTP_USER_AGENT")
    if user_agent is not None:
        user_agent = user_agent.encode("utf-8")
    return hashlib.sha512(f"{address}|{user_agent}".encode("utf8")).hexdigest()


class ExpressLane:
    """WSGI middleware around the Flask application's ``wsgi_app`` (see the module docstring)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        #: Requests answered here, and requests handed to the full stack (tests and the bench read them).
        self.served = 0
        self.declined = 0
        self._setup = None

    def _settings(self):
        """Values read once from the configured app (after every extension was initialised)."""
        if self._setup is None:
            from .security import response_headers

            app = self.app
            cfg = app.config
            self._setup = {
                "cookie": cfg["SESSION_COOKIE_NAME"],
                "session": app.session_interface.get_signing_serializer(app),
                "max_age": int(app.permanent_session_lifetime.total_seconds()),
                "csrf": URLSafeTimedSerializer(cfg.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token"),
                "csrf_field": cfg.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
                "csrf_headers": ["HTTP_" + h.upper().replace("-", "_") for h in cfg.get("WTF_CSRF_HEADERS", [])],
                "protection": cfg.get("SESSION_PROTECTION", app.login_manager.session_protection),
                "headers": response_headers(app) + [("Vary", "Accept-Encoding, Cookie")],
                "policy": LoginPolicy.from_config(cfg),
                "writers": writer_queue(app.extensions["db"].engine, cfg.get("SQLITE_WRITER_QUEUE", True)),
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
            return self.wsgi_app(environ, start_response)
        if length <= 0 or length > MAX_BODY:
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        try:
            answer = self._serve(environ, route, body)
        except _Decline:
            answer = None
        except Exception:  # noqa: BLE001 - the full stack meets the same fault and answers it (503, L10)
            self.app.logger.debug("express lane handed a request on after an error", exc_info=True)
            answer = None
        if answer is None:
            self.declined += 1
            environ["wsgi.input"] = io.BytesIO(body)  # the full stack reads the body afresh
            return self.wsgi_app(environ, start_response)
        self.served += 1
        start_response("200 OK", answer[1])
        return [answer[0]]

    def _session(self, environ, cfg) -> dict:
        """The signed session cookie's contents after the full stack's CSRF and session-protection
        checks; _Decline whenever one of them would not pass quietly."""
        app = self.app
        raw = parse_cookie(environ).get(cfg["cookie"])
        if not raw:
            raise _Decline
        try:
            data = cfg["session"].loads(raw, max_age=cfg["max_age"])
        except BadData:
            raise _Decline from None
        if not isinstance(data, dict) or not data.get("sid") or not data.get("_user_id"):
            raise _Decline
        if app.config.get("WTF_CSRF_ENABLED") and app.config.get("WTF_CSRF_CHECK_DEFAULT", True):
            token = next((environ[h] for h in cfg["csrf_headers"] if environ.get(h)), None)
            stored = data.get(cfg["csrf_field"])
            if not token or not stored:
                raise _Decline
            try:
                value = cfg["csrf"].loads(token, max_age=app.config.get("WTF_CSRF_TIME_LIMIT"))
            except BadData:
                raise _Decline from None
            if not isinstance(value, str) or not hmac.compare_digest(stored, value):
                raise _Decline
            if environ.get("wsgi.url_scheme") == "https" and app.config.get("WTF_CSRF_SSL_STRICT", True):
                referrer = environ.get("HTTP_REFERER")
                if not referrer or not same_origin(referrer, f"https://{get_host(environ)}/"):
                    raise _Decline
        mode = cfg["protection"]
        if mode in ("basic", "strong") and data.get("_id") != _flask_login_identifier(environ):
            # "basic" marks the session not fresh (a new cookie); "strong" ends it: the full stack does both.
            if mode == "strong" or data.get("_fresh") is not False:
                raise _Decline
        return data

    def _serve(self, environ, route, body: bytes):
        """``(body, headers)`` of the ordinary case after COMMIT; raises _Decline (or any error)
        with nothing written otherwise."""
        endpoint, ids = route
        if any(i > MAX_URL_INT for i in ids):
            raise _Decline
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Decline
        app = self.app
        rule = getattr(app.view_functions.get(endpoint), "access", None)
        if rule is None or rule.public or rule.mfa:
            raise _Decline
        cfg = self._settings()
        data = self._session(environ, cfg)
        try:
            payload = app.json.loads(body)  # the full stack's parser: too deep a body is declined (A36)
        except ValueError:
            raise _Decline from None
        if not isinstance(payload, dict):
            raise _Decline
        clock = app.config.get("CLOCK")
        now = clock() if clock else utcnow()
        conn = _Conn(app.extensions["db"].engine, cfg["writers"])
        try:
            result = self._run(conn, cfg, rule, data, endpoint, ids, payload, now)
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

    def _run(self, conn: _Conn, cfg, rule, data: dict, endpoint: str, ids: list[int], payload: dict, now) -> dict:
        """Checks in a read transaction, then the writes in a write transaction; returns the JSON
        body after COMMIT, or raises (the caller rolls back)."""
        sid = data["sid"]
        conn.begin(write=False)
        who = conn.execute(_WHO, {"sid": sid}).first()
        if (who is None or not session_is_live(who, now, cfg["policy"]) or str(who.user_id) != str(data["_user_id"])
                or not who.is_active or who.must_change_password or who.role not in rule.roles):
            raise _Decline
        touch = now - who.last_seen_at >= self.app.config["SESSION_TOUCH_INTERVAL"]
        if endpoint == "api.study_heartbeat":
            from .study import services as study

            try:
                signals = study.Signals.parse(payload)
                item, policy = study.beat_checks(conn, who.path, ids[0], now)
            except (ValueError, study.NotAvailable):
                raise _Decline from None
            if policy is None:
                raise _Decline  # the full stack creates the default policy first
            conn.commit()  # ends the read snapshot
            conn.begin(write=True)
            try:
                result = asdict(study.write_beat(conn, who.user_id, item, policy, now, signals))
            except study.TooSoon:
                raise _Decline from None
        else:
            from .exams import queries as exam_queries, services as exams

            if "answer" not in payload:
                raise _Decline
            attempt = conn.execute(_ATTEMPT, {"aid": ids[0]}).first()
            if attempt is None or attempt.user_id != who.user_id:
                raise _Decline
            seq = payload.get("seq")
            try:
                position, stored = exams.check_answer(conn, attempt, ids[1], payload["answer"], seq, now)
            except exams.ExamError:
                raise _Decline from None
            conn.commit()
            conn.begin(write=True)
            applied, row = exams.write_answer(conn, attempt.id, position, stored, seq, now)
            if not applied or exams.needs_burst_flag(row):
                raise _Decline  # replay, stale, finished, or A33's flag with its audit row
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
