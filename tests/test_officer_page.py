"""The officer page for supervisors and the phone-first officer table (issue 16, point 2;
QUALITY A16, A26, L8)."""
from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.db import db
from app.models import Attempt, Exam, Notification, StudyDay, StudyFlag, StudyPolicy, User
from app.reports import officer, queries
from app.tasks import services as task_services
from app.timeutils import parse_week_key, previous_weeks, week_key

NOW = datetime(2026, 3, 12, 6, 0)  # Thursday 14:00 in Taiyuan, week 2026-W11


def make_exam(session, week: str) -> Exam:
    existing = session.scalar(select(Exam).where(Exam.week == week, Exam.scope == "city"))
    if existing is not None:
        return existing
    monday = parse_week_key(week)
    exam = Exam(week=week, scope="city", title=f"测试 {week}", opens_at=datetime.combine(monday, datetime.min.time()),
                closes_at=datetime.combine(monday + timedelta(days=6), datetime.min.time()) + timedelta(hours=14),
                duration_minutes=30, pass_mark=80, blueprint={"rules": [], "points": {}}, status="ready")
    session.add(exam)
    session.flush()
    return exam


def attempt(exam_id: int, user_id: int, score: float | None, **fields) -> Attempt:
    done = score is not None
    values = dict(exam_id=exam_id, user_id=user_id, attempt_no=1, seed=1, status="finished" if done else "in_progress",
                  started_at=NOW - timedelta(days=1), deadline=NOW + timedelta(minutes=20),
                  finished_at=NOW if done else None, score=score, passed=None if not done else score >= 80)
    values.update(fields)
    return Attempt(**values)


def fill_weeks(session, user_id: int, seed: int = 3) -> dict:
    """14 weeks of random study days (two before the page's window), exams in most weeks with
    attempts of every kind; returns what was written, for a recount."""
    rng = random.Random(seed)
    weeks = previous_weeks(week_key(NOW), 14)
    days: dict[date, int] = {}
    for week in weeks:
        monday = parse_week_key(week)
        for d in range(7):
            if rng.random() < 0.6 and monday + timedelta(days=d) <= date(2026, 3, 12):
                days[monday + timedelta(days=d)] = rng.randint(60, 3 * 3600)
    session.add_all(StudyDay(user_id=user_id, day=day, seconds=secs) for day, secs in days.items())
    exams = {}
    for week in weeks[:-1]:
        if rng.random() < 0.8:
            exam = make_exam(session, week)
            score = rng.choice([None, 55.0, 80.0, 95.0])
            if score is not None:
                session.add(attempt(exam.id, user_id, score, flagged="too_fast" if score == 95.0 else None))
            exams[week] = score
    current = make_exam(session, weeks[-1])
    session.add(attempt(current.id, user_id, None))  # under way now
    exams[weeks[-1]] = "in_progress"
    session.flush()
    return {"days": days, "exams": exams}


def recount(written: dict, exam_weeks: set[str], week: str) -> tuple[int, str, float | None]:
    """(study seconds, exam state, score) of one week, counted from the rows written."""
    monday = parse_week_key(week)
    secs = sum(s for d, s in written["days"].items() if monday <= d <= monday + timedelta(days=6))
    if week not in exam_weeks:
        return secs, "none", None
    exam = written["exams"].get(week)
    if exam == "in_progress":
        return secs, "in_progress", None
    return secs, ("not_taken" if exam is None else "taken"), exam


@pytest.fixture
def now_thursday(clock):
    clock.now = NOW
    return NOW


def client_for(app, auth, username):
    c = app.test_client()
    assert auth.login(c, username).status_code == 302
    return c


# --- who may read it (A16) -------------------------------------------------------------------

def test_a16_officer_page_scope(app, city, auth, now_thursday):
    """A16: a supervisor reads officers of their subtree (200); another branch's, non-officers and unknown ids are 404; officers are refused; leader and admin read any."""
    sup = client_for(app, auth, "supervisor")  # 甲分局, like 小店分局 over 坞城派出所 in the demo
    assert sup.get(f"/reports/officers/{city.users['officer']}").status_code == 200  # 甲一所
    assert sup.get(f"/reports/officers/{city.users['officer_a2']}").status_code == 200  # 甲二所
    outside = sup.get(f"/reports/officers/{city.users['officer_b']}")  # 乙分局
    unknown = sup.get("/reports/officers/999999")
    assert outside.status_code == unknown.status_code == 404
    main = lambda resp: re.search(r"<main.*</main>", resp.get_data(as_text=True), re.S).group(0)  # noqa: E731
    assert main(outside) == main(unknown)  # nothing tells the two apart
    for not_an_officer in ("supervisor", "supervisor_b", "leader", "admin"):
        assert sup.get(f"/reports/officers/{city.users[not_an_officer]}").status_code == 404, not_an_officer
    assert sup.get("/reports/officers/99999999999").status_code == 404  # past MAX_URL_INT: no route
    assert client_for(app, auth, "officer").get(f"/reports/officers/{city.users['officer2']}").status_code == 403
    for role in ("leader", "admin"):
        page = client_for(app, auth, role).get(f"/reports/officers/{city.users['officer_c']}")
        assert page.status_code == 200, role
        assert "officer_c" in page.get_data(as_text=True)


def test_a16_supervisor_b_reads_own_officer_only(app, city, auth, now_thursday):
    """A16: the other branch's supervisor sees their officer and not branch A's."""
    sup_b = client_for(app, auth, "supervisor_b")
    assert sup_b.get(f"/reports/officers/{city.users['officer_b']}").status_code == 200
    assert sup_b.get(f"/reports/officers/{city.users['officer']}").status_code == 404


# --- the 12 weeks ------------------------------------------------------------------------------

def test_twelve_weeks_equal_a_recount(app, city, session, now_thursday):
    """The page's 12 weeks (study seconds, exam state and score) equal a recount of the rows written."""
    uid = city.users["officer"]
    written = fill_weeks(session, uid)
    fill_weeks(session, city.users["officer2"], seed=9)  # someone else's rows must not leak in
    session.commit()
    weeks = officer.officer_weeks(session, uid, NOW)
    exam_weeks = set(session.scalars(select(Exam.week)))
    assert [w.week for w in weeks] == previous_weeks("2026-W11", 12)
    assert weeks[-1].current and not any(w.current for w in weeks[:-1])
    for w in weeks:
        secs, state, score = recount(written, exam_weeks, w.week)
        assert (w.study_seconds, w.exam, w.score) == (secs, state, score), w.week
        assert w.passed == (None if score is None else score >= 80)
        assert w.too_fast == (score == 95.0)


def test_weekly_targets_follow_the_policy_of_each_week(app, city, session, now_thursday):
    """Each week's target is the policy in force at its end: the batch read equals weekly_target_seconds week by week."""
    session.add(StudyPolicy(effective_from=datetime(2026, 2, 4), weekly_target_seconds=8 * 3600))
    session.add(StudyPolicy(effective_from=datetime(2026, 3, 10), weekly_target_seconds=12 * 3600))
    session.commit()
    weeks = previous_weeks("2026-W11", 12)
    batch = queries.weekly_targets(session, weeks)
    assert batch == {w: queries.weekly_target_seconds(session, w) for w in weeks}
    assert batch["2026-W11"] == 12 * 3600 and batch["2026-W06"] == 8 * 3600 and batch["2026-W05"] != 8 * 3600


def test_page_shows_weeks_flags_tasks_and_messages(app, city, auth, session, clock, now_thursday):
    """The page lists each week as 第N周（dates）, open flags, tasks with their state and messages with read state."""
    uid = city.users["officer"]
    fill_weeks(session, uid)
    session.add(StudyFlag(user_id=uid, week="2026-W10", reason="night", detail="days=3 seconds=9000"))
    session.add(attempt(make_exam(session, "2026-W09").id, city.users["officer"], 100.0, attempt_no=2, flagged="too_fast"))
    session.add(Notification(user_id=uid, kind="exam_reminder", title="本周测试还未参加", created_at=NOW))
    session.add(Notification(user_id=uid, kind="study_reminder", title="本周学习时长还未达标",
                             created_at=NOW - timedelta(days=2), read_at=NOW - timedelta(days=1)))
    admin = session.get(User, city.users["admin"])
    stage = task_services.save_stage(session, admin, "rectify", date(2026, 3, 1), date(2026, 4, 1), "查纠整改")
    task_services.create_task(session, admin, stage_id=stage.id, kind="reflection", required=True, title="撰写学习心得",
                              description="", target_unit_id=None, due_at=NOW - timedelta(days=1), item_id=None,
                              min_chars=0)
    session.commit()
    html = client_for(app, auth, "supervisor").get(f"/reports/officers/{uid}").get_data(as_text=True)
    assert "第11周（03-09～03-15）" in html and "第52周（12-22～12-28）" in html
    assert "凌晨学习" in html and "答题过快" in html
    assert "撰写学习心得" in html and "已逾期" in html
    assert "本周测试还未参加" in html and "共 2 条，未读 1 条" in html
    assert 'id="chart-officer-weeks"' in html


def test_empty_officer_page_says_so(app, city, auth, now_thursday):
    """An officer with nothing yet gets designed empty states, not blank sections."""
    html = client_for(app, auth, "leader").get(f"/reports/officers/{city.users['officer_c']}").get_data(as_text=True)
    assert "近 12 周没有学习异常" in html and "还没有发给该干警的消息" in html and "目前没有布置给该干警的任务" in html


def test_l8_officer_page_runs_a_fixed_number_of_queries(app, city, auth, session, now_thursday):
    """L8: the page costs as many SQL queries for an officer with nothing as for one with 14 weeks of data, flags, tasks and messages."""
    empty, busy = city.users["officer2"], city.users["officer"]
    fill_weeks(session, busy)
    for i in range(25):
        session.add(Notification(user_id=busy, kind="exam_reminder", title=f"提醒 {i}", created_at=NOW))
    for week in ("2026-W08", "2026-W09", "2026-W10"):
        session.add(StudyFlag(user_id=busy, week=week, reason="uniform", detail="items=10 seconds=60"))
    admin = session.get(User, city.users["admin"])
    stage = task_services.save_stage(session, admin, "rectify", date(2026, 3, 1), date(2026, 4, 1), "查纠整改")
    for i in range(4):
        task_services.create_task(session, admin, stage_id=stage.id, kind="reflection", required=True, title=f"任务{i}",
                                  description="", target_unit_id=None, due_at=NOW + timedelta(days=i), item_id=None,
                                  min_chars=0)
    session.commit()
    c = client_for(app, auth, "supervisor")
    assert c.get("/reports/").status_code == 200  # the session's first request also records it (a write)
    counts = []
    for uid in (empty, busy):
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        assert c.get(f"/reports/officers/{uid}").status_code == 200
        event.remove(db.engine, "before_cursor_execute", count)
        counts.append(statements)
    assert len(counts[0]) == len(counts[1]), "\n".join(s[:90] for s in counts[0]) + "\n---\n" + "\n".join(s[:90] for s in counts[1])
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    officer.officer_weeks(session, busy, NOW, count=4)
    four = len(statements)
    officer.officer_weeks(session, busy, NOW, count=26)
    assert len(statements) - four == four == 3  # targets, study, exams: whatever the number of weeks


# --- the officer table's order (A26) --------------------------------------------------------

def test_a26_sort_key_from_allowlist(app, city, auth, now_thursday):
    """A26: the dashboard's ?sort= is one of a fixed set; anything else is 400."""
    c = client_for(app, auth, "supervisor")
    for bad in ("id", "name;drop", "--name", "-", "NAME", "study_seconds desc"):
        assert c.get(f"/reports/?sort={bad}&only=exam_not_taken").status_code == 400, bad
    for good in sorted(officer.SORTS):
        assert c.get(f"/reports/?sort={good}&only=exam_not_taken").status_code == 200, good


def test_sort_orders_rows_and_keeps_ties_in_tree_order():
    """Sorting puts not-taken scores and no-task rows below every number, reverses cleanly and keeps ties in tree order."""
    rows = [{"name": "丙", "study_seconds": 5, "exam_score": None, "tasks_done": None},
            {"name": "甲", "study_seconds": 1, "exam_score": 70.0, "tasks_done": 2},
            {"name": "乙", "study_seconds": 5, "exam_score": 0.0, "tasks_done": 0}]
    names = lambda s: [r["name"] for r in officer.sort_officers(rows, s)]  # noqa: E731
    assert names("unit") == ["丙", "甲", "乙"] and names("-unit") == ["乙", "甲", "丙"]
    assert names("study_seconds") == ["甲", "丙", "乙"] and names("-study_seconds") == ["丙", "乙", "甲"]
    assert names("exam_score") == ["丙", "乙", "甲"] and names("-exam_score") == ["甲", "乙", "丙"]
    assert names("tasks_done") == ["丙", "乙", "甲"]
    with pytest.raises(ValueError):
        officer.parse_sort_arg("id")
    assert officer.parse_sort_arg("") == officer.parse_sort_arg(None) == "unit"


def test_dashboard_officer_rows_link_sort_and_label_every_number(app, city, auth, session, now_thursday):
    """The officer list links each name to the officer page, sorts by ?sort=, labels every number for the phone cards and drops a unit column that is the same on every row."""
    for name, secs in (("officer", 3 * 3600), ("officer2", 1 * 3600)):
        session.add(StudyDay(user_id=city.users[name], day=date(2026, 3, 10), seconds=secs))
    session.commit()
    c = client_for(app, auth, "supervisor")
    station = c.get(f"/reports/?unit={city.station_a1}&sort=study_seconds").get_data(as_text=True)
    links = re.findall(r'href="/reports/officers/(\d+)"', station)
    assert links == [str(city.users["officer2"]), str(city.users["officer"])]
    assert re.findall(r'href="/reports/officers/(\d+)"', c.get(f"/reports/?unit={city.station_a1}&sort=-study_seconds")
                      .get_data(as_text=True)) == links[::-1]
    assert 'data-label="学时"' in station and 'data-label="成绩"' in station
    assert "以下干警均属 甲一所" in station and 'aria-sort="ascending"' in station
    assert "进度落后" in station and "未参加测试" in station  # Thursday: judged against the pro-rated target
    branch = c.get("/reports/?only=exam_not_taken").get_data(as_text=True)
    assert "甲一所" in branch and "甲二所" in branch and "以下干警均属" not in branch


def test_officer_page_and_cards_render_in_english(app, city, auth, session, now_thursday):
    """The officer page and the sorted officer cards render in English too (lazy labels, formats)."""
    fill_weeks(session, city.users["officer"])
    session.commit()
    c = client_for(app, auth, "supervisor")
    c.set_cookie("lang", "en")
    page = c.get(f"/reports/officers/{city.users['officer']}")
    assert page.status_code == 200 and '<html lang="en">' in page.get_data(as_text=True)
    assert c.get(f"/reports/?unit={city.station_a1}&sort=-exam_score").status_code == 200


def test_flag_list_names_open_the_officer_page_and_filters_keep_the_order(app, city, auth, session, now_thursday):
    """Names on the study-flag list open the officer page; the dashboard's filters keep the chosen order."""
    session.add(StudyFlag(user_id=city.users["officer"], week="2026-W10", reason="night", detail="days=3 seconds=9000"))
    session.commit()
    c = client_for(app, auth, "supervisor")
    assert f'href="/reports/officers/{city.users["officer"]}"' in c.get("/study/flags").get_data(as_text=True)
    html = c.get(f"/reports/?unit={city.station_a1}&sort=-study_seconds").get_data(as_text=True)
    assert "only=failed" in html and re.search(r'href="[^"]*only=failed[^"]*sort=-study_seconds', html)
