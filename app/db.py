"""Engine and session handling; SQLite pragmas and transaction modes.

SQLite rules (QUALITY decision 10, L2): every connection runs in WAL mode with an explicit
busy timeout and ``synchronous=NORMAL``; transactions that may write start with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing with "database is
locked" when a deferred reader tries to upgrade; reads (GET requests, reports) use a plain
deferred ``BEGIN`` and never block writers.

``db.session`` is one session per application context. Inside a request, GET/HEAD/OPTIONS get
a read session and every other method a write session; the CLI and jobs get write sessions.
Services flush, the request, command or job commits once (ARCHITECTURE house rule 4).

``db.reader`` is the context's read session. For a GET it *is* ``db.session``; for a write
request it is a second, deferred session, so that the checks that precede the writes (who is
signed in, is the item visible, is the attempt open) run before ``BEGIN IMMEDIATE``. SQLite has
one write lock for the whole file: what runs between BEGIN IMMEDIATE and COMMIT is the ceiling
on write throughput for every worker together (issue #7, benchmarks/NOTES.md). Anything whose
value decides *what* is written must still be read, or re-checked, inside the write transaction.
"""
from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str, busy_timeout_ms: int = 15000, wal_autocheckpoint: int = 1000, **kwargs) -> Engine:
    """An engine with the platform's connection rules applied."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True, **kwargs)

    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (the pysqlite recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal" and make_url(url).database not in (None, "", ":memory:"):
            raise RuntimeError(f"SQLite refused WAL mode (got {mode!r}); is the file on local disk?")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class WriterQueue:
    """An exclusive ``flock`` beside a SQLite file that a writer holds from just before its
    ``BEGIN IMMEDIATE`` until just after its COMMIT or ROLLBACK.

    Why: SQLite's own write lock is the one that matters (correctness never depends on this
    queue), but a writer that finds it taken *sleeps and retries* (the busy handler waits 1, 2,
    5, 10… ms), while the holder of the lock on the express lane needs about 0.3 ms. At the exam
    peak, waiting writers overslept the lock most of the time: py-spy showed a third of a web
    worker's time inside BEGIN IMMEDIATE. Blocked in ``flock``, the next writer is woken by the
    kernel the moment the holder lets go. Measured with benchmarks/ab.py (the same city, both
    settings alternating in one run): heartbeats +31 %, p99 35.7 → 26.4 ms; autosaves +10 %.

    Only the express lane (app/express.py) takes it, because only there are BEGIN, COMMIT,
    ROLLBACK and the connection's return explicit calls, so the lock cannot outlive its
    transaction; the full stack's rarer writes still queue on SQLite's lock alone. The kernel
    drops the lock when a process dies, so no stale lock survives a ``kill -9``. Threads of one
    process take a ``threading.Lock`` first (flock is per open file, not per thread), and a
    forked child opens the file afresh.
    """

    def __init__(self, database_path: str):
        self.path = f"{database_path}-writers.lock"
        self._fd = None
        self._pid = None
        self._threads = threading.Lock()

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if self._pid != os.getpid():
                self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def writer_queue(engine: Engine, enabled: bool = True) -> WriterQueue | None:
    """The engine's WriterQueue: None unless ``enabled`` and the database is a SQLite file."""
    database = engine.url.database if is_sqlite(engine) else None
    if not enabled or database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return WriterQueue(os.path.abspath(database))


@dataclass
class _State:
    engine: Engine
    write_factory: sessionmaker
    read_factory: sessionmaker


class Database:
    """Unbound until ``init_app``; several apps (tests) may share the object safely."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000),
                             app.config.get("SQLITE_WAL_AUTOCHECKPOINT", 1000))
        read_bind = engine.execution_options(sqlite_begin="DEFERRED") if is_sqlite(engine) else engine
        app.extensions["db"] = _State(
            engine=engine,
            write_factory=sessionmaker(bind=engine, expire_on_commit=False),
            read_factory=sessionmaker(bind=read_bind, expire_on_commit=False),
        )
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def _state() -> _State:
        return current_app.extensions["db"]

    @property
    def engine(self) -> Engine:
        return self._state().engine

    @property
    def session(self) -> Session:
        """The application context's session, created on first use."""
        sess = g.get("_db_session")
        if sess is None:
            state = self._state()
            reading = has_request_context() and request.method in READ_METHODS
            sess = (state.read_factory if reading else state.write_factory)()
            g._db_session = sess
        return sess

    @property
    def reader(self) -> Session:
        """The context's read session (see the module docstring); never write through it."""
        if not has_request_context() or request.method in READ_METHODS:
            return self.session
        sess = g.get("_db_reader")
        if sess is None:
            sess = g._db_reader = self._state().read_factory()
        return sess

    def adopt(self, *objects) -> None:
        """Move objects loaded through ``reader`` into ``session`` without a query, so that
        changes to them are written by the request's commit. No-op when they are the same."""
        reader = self.reader
        if reader is self.session:
            return
        for obj in objects:
            if obj in reader:
                reader.expunge(obj)
        reader.rollback()  # ends the read snapshot (it wrote nothing); expunged objects keep their values
        for obj in objects:
            self.session.add(obj)

    def new_read_session(self) -> Session:
        """A separate read-only session (deferred BEGIN: takes no write lock), e.g. to check a
        password — deliberately slow — before the request's write transaction begins."""
        return self._state().read_factory()

    def new_write_session(self) -> Session:
        """A separate short write session (e.g. to record a failed login while the request's
        own session is being rolled back). The caller commits and closes it."""
        return self._state().write_factory()

    @staticmethod
    def _teardown(exc: BaseException | None) -> None:
        reader = g.pop("_db_reader", None)
        if reader is not None:
            reader.close()
        sess = g.pop("_db_session", None)
        if sess is not None:
            if exc is not None:
                sess.rollback()
            sess.close()


db = Database()
