"""Study that looks automated (QUALITY S10–S12), the review list's scope (A16) and voiding (A31).

Beats are fed through the crediting service with a frozen, moving clock, exactly as the
heartbeat endpoint would credit them; then the weekly detector runs.
"""
from __future__ import annotations

import random
from itertools import cycle
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import AuditLog, StudyDay, StudyFlag, User
from app.study import flags, services
from app.study.cli import recheck
from app.timeutils import local_at
from tests.test_study_credit import logged_in, make_item

WEEK = "2026-W11"  # Monday 2026-03-09 … Sunday 2026-03-15
MONDAY = date(2026, 3, 9)


class Feeder:
    """Sends one officer's beats through ``services.record_heartbeat`` at chosen server times."""

    def __init__(self, app, username: str = "officer"):
        self.app = app
        self.username = username

    def run(self, beats) -> None:
        """``beats``: iterable of (when, item_id, Signals); 429s (too soon) are skipped."""
        with self.app.app_context():
            s = db.session
            user = s.scalar(select(User).where(User.username == self.username))
            for when, item_id, signals in beats:
                try:
                    services.record_heartbeat(s, user, item_id, when, signals)
                except services.TooSoon:
                    pass
            s.commit()


def detect(app, now: datetime | None = None) -> dict[str, set[str]]:
    """Run the detector for WEEK; {username: {reasons}}."""
    with app.app_context():
        s = db.session
        flags.detect_flags(s, WEEK, now or local_at(MONDAY + timedelta(days=7), 6))
        s.commit()
        found: dict[str, set[str]] = {}
        for username, reason in s.execute(select(User.username, StudyFlag.reason).join(User, User.id == StudyFlag.user_id)):
            found.setdefault(username, set()).add(reason)
        return found


def reading(start: datetime, item_id: int, seconds: int, *, step: int = 30, inputs=lambda i: 2,
            scroll=lambda i: min(100, i * 10)):
    """Beats every ``step`` seconds on one item for ``seconds``."""
    return [(start + timedelta(seconds=t), item_id, services.Signals(scroll_pct=scroll(i), inputs=inputs(i)))
            for i, t in enumerate(range(0, seconds + 1, step))]


def test_s11_night_study_on_several_days_is_flagged(app, city, clock):
    """S11: credited time mostly between 01:00 and 05:00 local on three days is flagged 'night', never voided."""
    item = make_item(app, minutes=600)
    beats = []
    for day in range(3):
        beats += reading(local_at(MONDAY + timedelta(days=day), 2), item, 40 * 60, inputs=lambda i: 1 + i % 4)
    Feeder(app).run(beats)
    with app.app_context():
        before = db.session.scalar(select(func.sum(StudyDay.seconds)))
    assert detect(app) == {"officer": {"night"}}
    with app.app_context():
        assert db.session.scalar(select(func.sum(StudyDay.seconds))) == before  # nothing taken away automatically
        assert db.session.scalar(select(StudyFlag.status)) == "open"


def test_s10_uniform_dwell_is_flagged(app, city, clock):
    """S10: ten or more consecutive items each dwelt on for the same time (±2 s) are flagged 'uniform'."""
    items = [make_item(app, minutes=3) for _ in range(12)]
    rng = random.Random(4)
    beats, at = [], local_at(MONDAY, 9)
    for item in items:
        beats += reading(at, item, 180, inputs=lambda i: rng.randint(1, 5))
        at += timedelta(seconds=210 + rng.randint(-1, 1))
    Feeder(app).run(beats)
    assert detect(app) == {"officer": {"uniform"}}


def test_s12_no_interaction_is_flagged(app, city, clock):
    """S12: a long stretch of beats with no input, or one repeated input signature, is flagged 'no_interaction'."""
    long_read = make_item(app, minutes=60)
    Feeder(app).run(reading(local_at(MONDAY, 9), long_read, 25 * 60, inputs=lambda i: 0, scroll=lambda i: 30))
    Feeder(app, "officer2").run(reading(local_at(MONDAY, 9), long_read, 25 * 60, inputs=lambda i: 3,
                                        scroll=lambda i: 50))
    assert detect(app) == {"officer": {"no_interaction"}, "officer2": {"no_interaction"}}


def test_s12_article_finished_without_scrolling_is_flagged(app, city, clock):
    """S12: a long article 'finished' while the reader never scrolled is flagged 'no_interaction'."""
    article = make_item(app, minutes=5)
    rng = random.Random(2)
    Feeder(app).run(reading(local_at(MONDAY, 10), article, 6 * 60, inputs=lambda i: rng.randint(1, 4),
                            scroll=lambda i: 0))
    assert detect(app) == {"officer": {"no_interaction"}}


def test_s12_false_positive_human_like_stream_raises_no_flag(app, city, clock):
    """S12 (false positive): varied dwell, daytime, real input and scrolling over a week raise no flag."""
    items = [make_item(app, minutes=rng_minutes) for rng_minutes in (3, 3, 4, 3, 5, 3, 3, 4, 3, 3, 3, 6, 3, 3, 4, 3)]
    rng = random.Random(2021)
    beats = []
    queue = cycle(items)
    for day in range(6):
        for hour in rng.sample([8, 9, 12, 15, 19, 21], 2):
            at = local_at(MONDAY + timedelta(days=day), hour, rng.randint(0, 40))
            for _ in range(rng.randint(3, 6)):
                item = next(queue)
                dwell = rng.randint(140, 480)
                t, i, scroll = 0, 0, rng.randint(0, 20)
                while t <= dwell:
                    quiet = rng.random() < 0.12
                    scroll = min(100, scroll + (0 if quiet else rng.randint(2, 15)))
                    beats.append((at + timedelta(seconds=t), item,
                                  services.Signals(scroll_pct=scroll, inputs=0 if quiet else rng.randint(1, 9))))
                    t += rng.randint(27, 34)
                    i += 1
                at += timedelta(seconds=t + rng.randint(5, 40))
    Feeder(app).run(beats)
    assert detect(app) == {}


def _flag_two_units(app, city):
    """Night flags for officer (branch A) and officer_b (branch B)."""
    item = make_item(app, minutes=600)
    for username in ("officer", "officer_b"):
        beats = []
        for day in range(3):
            beats += reading(local_at(MONDAY + timedelta(days=day), 2), item, 30 * 60, inputs=lambda i: 1 + i % 3)
        Feeder(app, username).run(beats)
    detect(app)
    with app.app_context():
        return dict(db.session.execute(select(User.username, StudyFlag.id).join(User, User.id == StudyFlag.user_id)).all())


def test_a16_supervisor_sees_and_reviews_only_own_subtree(app, city, auth, clock):
    """A16: a supervisor of branch A sees no flag outside A and cannot review one (404, unchanged)."""
    ids = _flag_two_units(app, city)
    clock.now = local_at(MONDAY + timedelta(days=7), 9)
    sup_a = logged_in(app, auth, "supervisor")
    page = sup_a.get("/study/flags").get_data(as_text=True)
    assert "officer" in page and "乙一所" not in page and "officer_b" not in page
    resp = sup_a.post(f"/study/flags/{ids['officer_b']}", data={"action": "void"})
    assert resp.status_code == 404
    with app.app_context():
        assert db.session.get(StudyFlag, ids["officer_b"]).status == "open"
    leader_page = logged_in(app, auth, "leader").get("/study/flags").get_data(as_text=True)
    assert "officer_b" in leader_page and "officer" in leader_page
    assert logged_in(app, auth, "leader").post(f"/study/flags/{ids['officer']}", data={"action": "void"}).status_code == 403
    assert logged_in(app, auth, "officer").get("/study/flags").status_code == 403


def test_s10_voiding_credit_is_audited_and_totals_stay_consistent(app, city, auth, clock):
    """S10/A31: voiding a flagged week zeroes its credit, writes an audit row, and the raw log still matches the totals."""
    ids = _flag_two_units(app, city)
    clock.now = local_at(MONDAY + timedelta(days=7), 9)
    sup_a = logged_in(app, auth, "supervisor")
    resp = sup_a.post(f"/study/flags/{ids['officer']}", data={"action": "void"})
    assert resp.status_code == 302
    with app.app_context():
        s = db.session
        officer = city.users["officer"]
        assert s.get(StudyFlag, ids["officer"]).status == "voided"
        assert s.scalar(select(func.sum(StudyDay.seconds)).where(StudyDay.user_id == officer)) == 0
        assert s.scalar(select(func.sum(StudyDay.seconds)).where(StudyDay.user_id == city.users["officer_b"])) > 0
        row = s.scalar(select(AuditLog).where(AuditLog.action == "study.flag_void"))
        assert row.after["voided_seconds"] > 0 and sum(row.before["seconds_by_day"].values()) == row.after["voided_seconds"]
        assert recheck(s)[1] == []
    again = sup_a.post(f"/study/flags/{ids['officer']}", data={"action": "dismiss"})
    assert again.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action.like("study.flag_%"))) == 1


def test_detect_flags_is_idempotent_and_keeps_reviews(app, city, auth, clock):
    """Rerunning the detector adds nothing and leaves a dismissed flag dismissed."""
    ids = _flag_two_units(app, city)
    clock.now = local_at(MONDAY + timedelta(days=7), 9)
    logged_in(app, auth, "supervisor_b").post(f"/study/flags/{ids['officer_b']}", data={"action": "dismiss"})
    with app.app_context():
        assert flags.detect_flags(db.session, WEEK, clock.now) == 0
        db.session.commit()
        assert db.session.get(StudyFlag, ids["officer_b"]).status == "dismissed"
        assert db.session.scalar(select(func.count(StudyFlag.id))) == 2


@pytest.mark.parametrize("week", [WEEK])
def test_detect_flags_cli(app, city, week):
    """`flask study detect-flags --week` runs the job by hand; a bad week is refused."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["study", "detect-flags", "--week", week]).exit_code == 0
    assert runner.invoke(args=["study", "detect-flags", "--week", "2026-11"]).exit_code != 0


def test_flag_job_is_registered_and_safe_to_rerun(app, city):
    """The scheduler runs the detector daily (Asia/Shanghai); the job can run twice without harm."""
    from app.scheduler import JOBS, _load_feature_jobs

    _load_feature_jobs()
    job = next(j for j in JOBS if j.name == "study_detect_flags")
    assert str(job.trigger.timezone) == "Asia/Shanghai" and job.catch_up
    job.func(app)
    job.func(app)


def test_a16_supervisor_me_page_links_flags_with_open_count_of_own_subtree(app, city, auth, clock):
    """A16: a supervisor's 我的 page links the flag review list with the open flags of their own subtree only."""
    ids = _flag_two_units(app, city)
    clock.now = local_at(MONDAY + timedelta(days=7), 9)
    sup_a = logged_in(app, auth, "supervisor")
    page = sup_a.get("/me").get_data(as_text=True)
    assert 'id="me-study-flags" href="/study/flags"' in page and "1 条待核实" in page
    assert "2 条待核实" in logged_in(app, auth, "leader").get("/me").get_data(as_text=True)
    sup_a.post(f"/study/flags/{ids['officer']}", data={"action": "dismiss"})
    page = sup_a.get("/me").get_data(as_text=True)
    assert 'id="me-study-flags"' in page and "条待核实" not in page
    assert 'id="me-study-flags"' not in logged_in(app, auth, "officer").get("/me").get_data(as_text=True)
