"""Deadline reminders of forms (issue 17): from the local day before the deadline, then daily
while overdue and the form is open; once a day per person and kind whoever runs the job; never to
someone who submitted or whom the form does not ask; resolved by submitting; "overdue" is the
desk's rule (app/forms_/remind.py, app/notices/reminders.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db import db
from app.forms_ import queries, remind
from app.models import Campaign, CampaignStage, Form, Notification, User
from tests.factories import make_form, signed_in as _login

#: 2026-03-11 18:00 in Taiyuan; the test clock starts on Monday 2026-03-09 10:00 there.
DUE = datetime(2026, 3, 11, 10, 0)
COMPLETE = {"f_marital": "已婚", "f_lawyer": "no", "f_other": "无", "action": "submit"}
OFFICERS = ("officer", "officer2", "officer_a2", "officer_b", "officer_c")


def at(day: int, hour_local: int = 8, minute: int = 30) -> datetime:
    """UTC instant of 2026-03-<day> <hour_local>:<minute> in Asia/Shanghai."""
    return datetime(2026, 3, day, hour_local, minute) - timedelta(hours=8)




@pytest.fixture
def form_id(app, city):
    """A published form for every officer of the city, due 2026-03-11 18:00 local time."""
    with app.app_context():
        fid = make_form(db.session, city.users["admin"], due_at=DUE).id
        db.session.commit()
        return fid


def run(app, now: datetime) -> dict:
    with app.app_context():
        result = remind.remind(db.session, now)
        db.session.commit()
        return result


def notes(app, kind: str | None = None) -> list[Notification]:
    with app.app_context():
        stmt = select(Notification).where(Notification.kind.in_(("form_due", "form_overdue")))
        if kind:
            stmt = select(Notification).where(Notification.kind == kind)
        rows = db.session.scalars(stmt.order_by(Notification.id)).all()
        db.session.expunge_all()
        return rows


def test_none_before_the_window_then_the_day_before(app, city, form_id):
    """Two days before the deadline nobody is reminded; on the local day before it every officer asked gets one form_due notice linking the form."""
    assert run(app, at(9)) == {"sent": 0, "skipped": 0}
    assert run(app, at(9, 23, 59)) == {"sent": 0, "skipped": 0}
    assert notes(app) == []
    assert run(app, at(10, 0, 1))["sent"] == len(OFFICERS)
    due = notes(app, "form_due")
    assert sorted(n.user_id for n in due) == sorted(city.users[u] for u in OFFICERS)
    assert {(n.link, n.subject, n.remind_day) for n in due} == {(f"/forms/{form_id}", f"form:{form_id}", date(2026, 3, 10))}
    assert "个人有关事项报告" in due[0].body and "03-11 18:00" in due[0].body


def test_sent_once_a_day_even_if_the_job_runs_twice(app, city, form_id):
    """The scheduled job and `flask forms remind` run on the same day send nothing twice; the next local day they remind again."""
    from app.forms_ import jobs
    from app.jobguard import JOBS

    assert any(j.name == "forms_remind" for j in JOBS)
    clock = app.config["CLOCK"]
    clock.now = at(10)
    assert jobs.forms_remind_job(app) == {"sent": len(OFFICERS), "skipped": 0}
    assert jobs.forms_remind_job(app) == {"sent": 0, "skipped": len(OFFICERS)}
    clock.now = at(10, 21)
    result = app.test_cli_runner().invoke(args=["forms", "remind"])
    assert result.exit_code == 0 and "form reminders sent: 0" in result.output, result.output
    assert len(notes(app)) == len(OFFICERS)
    clock.now = at(11)  # the deadline's own day, before 18:00: still "due"
    assert jobs.forms_remind_job(app)["sent"] == len(OFFICERS)
    assert len(notes(app, "form_due")) == 2 * len(OFFICERS)


def test_daily_once_overdue_while_the_form_is_open(app, city, form_id):
    """After the deadline a form_overdue notice goes out each local day, once; the desk counts exactly those people overdue."""
    assert run(app, at(11, 18, 1))["sent"] == len(OFFICERS)
    assert run(app, at(11, 23))["sent"] == 0
    assert run(app, at(12))["sent"] == len(OFFICERS)
    assert len(notes(app, "form_overdue")) == 2 * len(OFFICERS)
    with app.app_context():
        s = db.session
        form = s.get(Form, form_id)
        admin = s.get(User, city.users["admin"])
        assert queries.status_counts(s, admin, form, at(12))["overdue"] == len(OFFICERS)
        assert queries.status_counts(s, admin, form, at(11, 17))["overdue"] == 0
        assert not queries.is_overdue(form, DUE) and queries.is_overdue(form, DUE + timedelta(seconds=1))


def test_not_sent_to_someone_who_submitted_and_resolved_on_submit(app, city, form_id):
    """An officer who submitted is never reminded; one who submits after a reminder sees it resolved, and is not reminded again."""
    clock = app.config["CLOCK"]
    assert _login(app, "officer").post(f"/forms/{form_id}", data=COMPLETE).status_code == 302
    assert run(app, at(10))["sent"] == len(OFFICERS) - 1
    assert city.users["officer"] not in {n.user_id for n in notes(app)}
    clock.now = at(10, 12)
    officer2 = _login(app, "officer2")
    officer2.post(f"/forms/{form_id}", data={"f_other": "草稿"})  # a draft is not a submission
    assert notes(app)[0].resolved_at is None
    assert officer2.post(f"/forms/{form_id}", data=COMPLETE).status_code == 302
    mine = [n for n in notes(app) if n.user_id == city.users["officer2"]]
    assert len(mine) == 1 and mine[0].resolved_at == at(10, 12)
    assert all(n.resolved_at is None for n in notes(app) if n.user_id != city.users["officer2"])
    run(app, at(12))
    overdue = {n.user_id for n in notes(app, "form_overdue")}
    assert overdue == {city.users[u] for u in ("officer_a2", "officer_b", "officer_c")}


def test_not_sent_for_a_form_whose_target_excludes_the_officer(app, city):
    """A form aimed at branch A reminds only A's officers; a form for supervisors reminds no officer."""
    with app.app_context():
        make_form(db.session, city.users["admin"], due_at=DUE, target_unit_id=city.branch_a, title="甲分局自查表")
        make_form(db.session, city.users["admin"], due_at=DUE, roles=("supervisor",), title="管理员测评")
        db.session.commit()
    run(app, at(10))
    by_user = {n.user_id for n in notes(app)}
    assert by_user == {city.users[u] for u in ("officer", "officer2", "officer_a2", "supervisor", "supervisor_b")}


def test_a_form_whose_stage_has_ended_is_closed_to_reminders(app, city):
    """Once the campaign stage a form belongs to has ended the form is no longer open: no overdue reminders."""
    with app.app_context():
        s = db.session
        campaign = Campaign(name="测试市教育整顿")
        s.add(campaign)
        s.flush()
        stage = CampaignStage(campaign_id=campaign.id, code="rectify", name="查纠整改", starts_on=date(2026, 3, 2),
                              ends_on=date(2026, 3, 12))
        s.add(stage)
        s.flush()
        make_form(s, city.users["admin"], due_at=DUE).stage_id = stage.id
        s.commit()
    assert run(app, at(12))["sent"] == len(OFFICERS)
    assert run(app, at(13)) == {"sent": 0, "skipped": 0}
