"""一键提醒 that cannot hurt (issue #16): a confirmation with the count, at most one reminder of a
kind per officer per local day whoever sends it (a database key), and reminders resolved when
the officer does the thing.

The clock starts Monday 2026-03-09 10:00 Asia/Shanghai (week 2026-W11). Branch A (the
supervisor's) has three officers: officer, officer2 (station A1) and officer_a2 (station A2).
"""
from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.db import db
from app.models import Notification, StudyDay, User
from app.notices import reminders
from tests.factories import make_weekly_exam
from tests.test_study_credit import beat, make_item

WEEK = "2026-W11"
BRANCH_A = ("officer", "officer2", "officer_a2")
EVERY_OFFICER = BRANCH_A + ("officer_b", "officer_c")


def client_of(app, auth, username):
    client = app.test_client()
    assert auth.login(client, username).status_code == 302
    return client


def remind(client, only="exam_not_taken", **args):
    """The confirmation's POST, followed to the dashboard; returns the page."""
    query = "&".join(f"{k}={v}" for k, v in {"only": only, **args}.items())
    resp = client.post(f"/reports/remind?{query}", follow_redirects=True)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def notices(app, kind=None) -> list[Notification]:
    with app.app_context():
        stmt = select(Notification).order_by(Notification.id)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def per_officer(app, city, kind="exam_reminder") -> dict[str, int]:
    names = {uid: name for name, uid in city.users.items()}
    counts: dict[str, int] = {}
    for n in notices(app, kind):
        counts[names[n.user_id]] = counts.get(names[n.user_id], 0) + 1
    return counts


# --- the confirmation -------------------------------------------------------------------------

def test_remind_button_opens_a_confirmation_that_counts_and_sends_nothing(app, city, auth):
    """一键提醒 leads to a GET confirmation: "将向 3 名干警发送「本周测试还未参加」提醒", nothing stored."""
    sup = client_of(app, auth, "supervisor")
    dash = sup.get(f"/reports/?week={WEEK}&only=exam_not_taken").get_data(as_text=True)
    assert 'form="remind-form"' in dash and '<form id="remind-form" method="get" action="/reports/remind"' in dash
    page = sup.get(f"/reports/remind?week={WEEK}&unit={city.branch_a}&only=exam_not_taken")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "将向 3 名干警发送「本周测试还未参加」提醒" in html and "确认发送（3 人）" in html
    assert "请在周日 22:00 前完成本周测试。" in html  # what the officers will read
    assert notices(app) == []


def test_confirm_post_sends_once_and_flashes_the_count(app, city, auth):
    """Only the confirmation's POST sends: one notice per filtered officer, the flash says how many."""
    page = remind(client_of(app, auth, "supervisor"))
    assert "已向 3 名干警发送提醒。" in page
    assert per_officer(app, city) == {name: 1 for name in BRANCH_A}
    row = notices(app)[0]
    assert row.title == "本周测试还未参加" and row.subject == WEEK and row.remind_day == date(2026, 3, 9)


def test_double_remind_leaves_one_notice_per_officer(app, city, auth):
    """Two 一键提醒 POSTs the same day: one notice per officer; the second flash says all were skipped."""
    sup = client_of(app, auth, "supervisor")
    remind(sup)
    again = remind(sup)
    assert "已向 0 名干警发送提醒，3 人今天已提醒过，未重复发送。" in again
    assert per_officer(app, city) == {name: 1 for name in BRANCH_A}
    confirm = sup.get("/reports/remind?only=exam_not_taken").get_data(as_text=True)
    assert "这 3 名干警今天都已收到过「本周测试还未参加」提醒" in confirm and "确认发送" not in confirm


def test_confirmation_counts_those_reminded_today_by_someone_else(app, city, auth):
    """The admin's confirmation for the city counts the supervisor's three as skipped; sending adds two."""
    remind(client_of(app, auth, "supervisor"))
    admin = client_of(app, auth, "admin")
    confirm = admin.get("/reports/remind?only=exam_not_taken").get_data(as_text=True)
    assert "将向 2 名干警发送「本周测试还未参加」提醒" in confirm and "另有 3 人今天已收到过这条提醒，将跳过。" in confirm
    assert "已向 2 名干警发送提醒，3 人今天已提醒过" in remind(admin)
    assert per_officer(app, city) == {name: 1 for name in EVERY_OFFICER}


def test_kinds_are_separate_and_a_new_local_day_allows_another(app, city, auth, clock):
    """Once a day per kind: a study reminder still goes out; after local midnight (16:00 UTC) the exam one may again."""
    clock.now = datetime(2026, 3, 10, 2, 0)  # Tuesday 10:00: from Tuesday officers can be behind the study pace
    sup = client_of(app, auth, "supervisor")
    remind(sup)
    assert "已向 3 名干警发送提醒。" in remind(sup, only="target_not_met")
    clock.now = datetime(2026, 3, 10, 15, 59)  # 23:59 in Taiyuan: still Tuesday
    assert "已向 0 名干警发送提醒" in remind(client_of(app, auth, "supervisor"))  # a fresh sign-in: hours passed
    clock.now = datetime(2026, 3, 10, 16, 1)  # 00:01 Wednesday
    assert "已向 3 名干警发送提醒。" in remind(client_of(app, auth, "supervisor"))
    assert per_officer(app, city) == {name: 2 for name in BRANCH_A}
    assert per_officer(app, city, "study_reminder") == {name: 1 for name in BRANCH_A}


def test_closed_week_cannot_be_reminded(app, city, auth):
    """Reminders speak of 本周: a past week's confirmation says so and its POST sends nothing."""
    sup = client_of(app, auth, "supervisor")
    page = sup.get("/reports/remind?week=2026-W10&only=exam_not_taken").get_data(as_text=True)
    assert "只能提醒本周的干警" in page and "确认发送" not in page
    assert "只能提醒本周的干警。" in remind(sup, week="2026-W10")
    assert notices(app) == []


def test_remind_needs_a_filter_and_a_unit_in_scope(app, city, auth):
    """No filter is 400; a unit outside the supervisor's subtree is 403 for the page and the POST."""
    sup = client_of(app, auth, "supervisor")
    assert sup.get("/reports/remind").status_code == 400
    assert sup.get(f"/reports/remind?only=failed&unit={city.branch_b}").status_code == 403
    assert sup.post(f"/reports/remind?only=failed&unit={city.branch_b}").status_code == 403
    assert notices(app) == []


# --- the database key -------------------------------------------------------------------------

def test_once_a_day_is_a_database_key(app, city, clock):
    """A second (user, kind, day) row is refused by the database; notices without a day are not limited."""
    uid = city.users["officer"]
    with app.app_context():
        for _ in range(2):
            db.session.add(Notification(user_id=uid, kind="task_returned", title="退回", created_at=clock.now))
        db.session.add(Notification(user_id=uid, kind="exam_reminder", title="x", created_at=clock.now,
                                    remind_day=date(2026, 3, 9)))
        db.session.commit()
        db.session.add(Notification(user_id=uid, kind="exam_reminder", title="y", created_at=clock.now,
                                    remind_day=date(2026, 3, 9)))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_concurrent_senders_leave_one_notice_each(app, city, clock):
    """Two senders who both counted nobody reminded, then send at once: one notice each, no error."""
    barrier, results, errors = threading.Barrier(2), [], []
    reminder = reminders.REMINDERS["exam_not_taken"]
    ids = [city.users[name] for name in BRANCH_A]

    def sender():
        try:
            with app.app_context():
                assert reminders.plan(db.session, reminder, ids, clock.now).to_send == 3
                db.session.commit()  # end the read, as the confirmation page's request does
                barrier.wait(timeout=30)
                results.append(reminders.send(db.session, reminder, ids, WEEK, clock.now))
                db.session.commit()
        except Exception as err:  # reported below; a thread's exception is otherwise lost
            errors.append(err)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results) == [(0, 3), (3, 0)]
    assert per_officer(app, city) == {name: 1 for name in BRANCH_A}


def test_two_supervisors_tapping_at_once_leave_one_notice_each(app, city, auth):
    """Two supervisors of the branch confirm 一键提醒 at the same moment: one notice per officer, both answered."""
    from app.models import Unit
    from tests.factories import make_user

    with app.app_context():
        make_user(db.session, "deputy", db.session.get(Unit, city.branch_a), "supervisor")
        db.session.commit()
    clients = [client_of(app, auth, "supervisor"), client_of(app, auth, "deputy")]
    barrier, pages, errors = threading.Barrier(2), [], []

    def tap(client):
        try:
            barrier.wait(timeout=30)
            pages.append(remind(client))
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=tap, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(pages) == 2
    assert per_officer(app, city) == {name: 1 for name in BRANCH_A}
    sent = sorted(int(re.search(r"已向 (\d+) 名干警发送提醒", p).group(1)) for p in pages)
    assert sum(sent) == 3


def test_midweek_job_goes_through_the_same_key(app, city, auth, clock):
    """The scheduled 本周测试还未参加 skips officers a supervisor reminded today and reaches the rest once."""
    from app.exams.jobs import send_reminders

    make_weekly_exam(app, WEEK, clock.now)
    clock.now = datetime(2026, 3, 11, 5, 0)  # Wednesday 13:00 local
    remind(client_of(app, auth, "supervisor"))
    with app.app_context():
        assert send_reminders(db.session, clock.now) == 2  # officer_b and officer_c
        db.session.commit()
    assert per_officer(app, city) == {name: 1 for name in EVERY_OFFICER}
    assert "已向 0 名干警发送提醒" in remind(client_of(app, auth, "admin"))


# --- resolved when done -----------------------------------------------------------------------

def test_exam_submission_resolves_that_weeks_exam_reminder(app, city, auth, clock):
    """交卷 resolves the week's 本周测试还未参加 (shown 已完成, off the badge); the study reminder stays open."""
    exam = make_weekly_exam(app, WEEK, datetime(2026, 3, 9, 2, 0))
    clock.now = datetime(2026, 3, 10, 2, 0)  # Tuesday: the study filter selects officers behind the pace
    sup = client_of(app, auth, "supervisor")
    remind(sup)
    remind(sup, only="target_not_met")
    officer = client_of(app, auth, "officer")
    assert "2 条未读" in officer.get("/me").get_data(as_text=True)
    attempt = officer.post(f"/api/v1/exams/{exam}/attempts").get_json()["attempt"]
    assert officer.post(f"/api/v1/attempts/{attempt['id']}/submit").status_code == 200
    mine = {n.kind: n for n in notices(app) if n.user_id == city.users["officer"]}
    assert mine["exam_reminder"].resolved_at is not None and mine["study_reminder"].resolved_at is None
    assert all(n.resolved_at is None for n in notices(app, "exam_reminder") if n.user_id != city.users["officer"])
    assert "1 条未读" in officer.get("/me").get_data(as_text=True)
    page = officer.get("/notices/").get_data(as_text=True)
    done = page[page.index("已完成") - 400:page.index("已完成") + 200]
    assert "is-done" in done and "本周测试还未参加" in done and page.count("notice__dot") == 1


def test_deadline_sweep_resolves_the_exam_reminder(app, city, auth, clock):
    """An attempt finished at its deadline by the sweeper also resolves the week's exam reminder."""
    from app.exams import services

    exam = make_weekly_exam(app, WEEK, clock.now)
    remind(client_of(app, auth, "supervisor"))
    officer = client_of(app, auth, "officer2")
    assert officer.post(f"/api/v1/exams/{exam}/attempts").status_code in (200, 201)
    with app.app_context():
        assert services.sweep_overdue(db.session, clock.now + timedelta(hours=2)) == 1
        db.session.commit()
    resolved = {n.user_id for n in notices(app, "exam_reminder") if n.resolved_at}
    assert resolved == {city.users["officer2"]}


@pytest.mark.parametrize("express", [True, False])
def test_reaching_the_weekly_target_resolves_the_study_reminder(make_app, auth, clock, express):
    """The heartbeat that lifts the week past its 10 h target resolves 本周学习时长还未达标 (express lane and full stack)."""
    from tests.factories import build_city

    app = make_app(EXPRESS_LANE=express)
    with app.app_context():
        city = build_city(db.session, clock.now)
        db.session.commit()
    item = make_item(app, minutes=60)
    clock.now = datetime(2026, 3, 11, 2, 0)  # Wednesday 10:00 local
    uid = city.users["officer"]
    # Reminded while behind the pace (nothing studied yet), then the week's study is recorded.
    remind(client_of(app, auth, "supervisor"), only="target_not_met")
    with app.app_context():
        for day, secs in ((date(2026, 3, 9), 4 * 3600), (date(2026, 3, 10), 4 * 3600), (date(2026, 3, 11), 2 * 3600 - 45)):
            db.session.add(StudyDay(user_id=uid, day=day, seconds=secs))
        db.session.add(StudyDay(user_id=uid, day=date(2026, 3, 8), seconds=4 * 3600))  # last week's Sunday
        db.session.commit()
    officer = client_of(app, auth, "officer")

    def study_reminder():
        return next(n for n in notices(app, "study_reminder") if n.user_id == uid)

    for step in range(3):  # the first beat starts the cursor; each next one credits 30 s
        assert beat(officer, item).status_code == 200
        assert (study_reminder().resolved_at is not None) == (step == 2), step
        clock.advance(seconds=30)
    assert all(n.resolved_at is None for n in notices(app, "study_reminder") if n.user_id != uid)


def test_resubmitting_a_returned_task_resolves_its_notice(app, city, clock):
    """A returned task's notice is resolved when the officer hands that task in again, not another one."""
    from app.models import Task
    from app.tasks import services

    with app.app_context():
        s = db.session
        admin, officer = s.get(User, city.users["admin"]), s.get(User, city.users["officer"])
        sup = s.get(User, city.users["supervisor"])
        stage = services.save_stage(s, admin, "rectify", date(2026, 3, 9), date(2026, 4, 9), "查纠整改")
        tasks = [services.create_task(s, admin, stage_id=stage.id, kind="proof", required=True, title=f"佐证{i}",
                                      description="", target_unit_id=None, due_at=clock.now + timedelta(days=3),
                                      item_id=None, min_chars=0) for i in range(2)]
        subs = []
        for task in tasks:
            sub = services.get_or_create_submission(s, task, officer)
            services.save(s, task, sub, text="佐证", add_photos=[], remove_photos=[], submit=True, now=clock.now)
            services.review(s, sub, sup, "return", "请补充", clock.now)
            subs.append(sub)
        s.commit()
        services.save(s, s.get(Task, tasks[0].id), subs[0], text="已补充", add_photos=[], remove_photos=[],
                      submit=True, now=clock.now)
        s.commit()
        rows = {n.subject: n.resolved_at for n in s.scalars(select(Notification).where(Notification.kind == "task_returned"))}
        assert rows[f"task:{tasks[0].id}"] is not None and rows[f"task:{tasks[1].id}"] is None
        assert s.scalar(select(func.count(Notification.id))) == 2


def test_reminder_rules_have_one_home():
    """Only app/notices/reminders.py writes the once-a-day key or resolves notices (no second sender or resolver)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "app"
    home = {root / "notices" / "reminders.py", root / "models" / "notices.py"}
    offenders = []
    for path in root.rglob("*.py"):
        if path in home:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.arg] if isinstance(node, ast.keyword) and node.arg else []
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.append(node.value)
            if {"remind_day", "resolved_at"} & set(names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
