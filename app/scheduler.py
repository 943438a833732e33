"""The one scheduler process (QUALITY decision 6, L3, L4).

``create_app()`` never starts it. ``flask --app wsgi scheduler`` (or the one ``make run``
starts) builds a BlockingScheduler, takes a process lock so a second copy started by mistake
exits at once, runs every job's catch-up from database state, then follows the Asia/Shanghai
calendar. Jobs live in each feature's ``jobs.py`` and register themselves in ``app.jobguard.JOBS``
(a lower module, so the features never import this one); each one is idempotent and can be run
by hand.
"""
from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text

from .db import db, is_sqlite
from .jobguard import JOBS, Job

log = logging.getLogger("scheduler")

JOB_DEFAULTS = {
    # A job missed while the scheduler was down runs once, late, rather than never
    # (APScheduler 3's default grace is 1 s, which silently drops it).
    "coalesce": True,
    "max_instances": 1,
    "misfire_grace_time": 6 * 3600,
}


class SchedulerLockHeld(RuntimeError):
    pass


class _Lock:
    """A file lock for SQLite (one host) or a PostgreSQL advisory lock (many hosts)."""

    ADVISORY_KEY = 20210308  # the campaign's launch date in Taiyuan

    def __init__(self, app: Flask):
        self.app = app
        self._fh = None
        self._conn = None

    def acquire(self) -> None:
        with self.app.app_context():
            engine = db.engine
        if is_sqlite(engine):
            path = Path(engine.url.database or "platform.db").with_suffix(".scheduler.lock")
            self._fh = open(path, "w")
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SchedulerLockHeld(f"another scheduler holds {path}") from None
            self._fh.write(str(os.getpid()))
            self._fh.flush()
        else:
            self._conn = engine.connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.ADVISORY_KEY}).scalar()
            self._conn.commit()
            if not got:
                raise SchedulerLockHeld("another scheduler holds the PostgreSQL advisory lock")

    def release(self) -> None:
        if self._fh:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
        if self._conn is not None:
            self._conn.close()


def _load_feature_jobs() -> None:
    """Import every feature's jobs module so that it registers its jobs."""
    from . import maintenance  # noqa: F401
    from .exams import jobs as exam_jobs  # noqa: F401
    from .forms_ import jobs as forms_jobs  # noqa: F401
    from .ledger import jobs as ledger_jobs  # noqa: F401
    from .reports import jobs as report_jobs  # noqa: F401
    from .study import jobs as study_jobs  # noqa: F401


def run_job(app: Flask, job: Job) -> None:
    try:
        job.func(app)
    except Exception:  # a failing job must not take the scheduler down
        log.exception("job %s failed", job.name)


def build_scheduler(app: Flask) -> BlockingScheduler:
    _load_feature_jobs()
    scheduler = BlockingScheduler(timezone="Asia/Shanghai", job_defaults=JOB_DEFAULTS)
    for job in JOBS:
        scheduler.add_job(run_job, job.trigger, args=(app, job), id=job.name, name=job.name, replace_existing=True)
    return scheduler


def catch_up(app: Flask) -> None:
    _load_feature_jobs()
    for job in JOBS:
        if job.catch_up:
            log.info("catch-up: %s", job.name)
            run_job(app, job)


def serve(app: Flask) -> None:
    lock = _Lock(app)
    lock.acquire()
    try:
        catch_up(app)
        scheduler = build_scheduler(app)
        log.info("scheduler started with %d jobs", len(JOBS))
        scheduler.start()
    finally:
        lock.release()
