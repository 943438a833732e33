"""Figures that say where the week stands (issue 16 points 1 and 8): the pro-rated study target
and the on-pace count, 本周进行中 with 截至/还剩, provisional ranks, weeks with data only, parent
names on the leaderboard, exports stamped in Beijing time, the printable weekly report."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.db import db
from app.models import StudyDay, Unit, User
from app.reports import figures, queries
from app.reports.figures import UnitRow, pace_target_seconds, qualified_names
from app.timeutils import week_progress
from tests.factories import make_unit, make_user
from tests.test_reports import MONDAY, NOW, WEEK, generated_city, make_exam

TARGET = 10 * 3600
#: Moments of 2026-W11 (Monday 2026-03-09) in UTC: Beijing is UTC+8.
MONDAY_0005 = datetime(2026, 3, 8, 16, 5)
THURSDAY_1400 = datetime(2026, 3, 12, 6, 0)
SUNDAY_2359 = datetime(2026, 3, 15, 15, 59)
NEXT_MONDAY_0000 = datetime(2026, 3, 15, 16, 0)


# --- the week's progress and the pro-rating rule (pure) -------------------------------------

@pytest.mark.parametrize("now, elapsed, left", [(MONDAY_0005, 0, 6), (THURSDAY_1400, 3, 3), (SUNDAY_2359, 6, 0)])
def test_week_in_progress_counts_local_days(now, elapsed, left):
    """Inside the week, days elapsed and left are Beijing calendar days (Monday 00:05 is day 1 with 6 left)."""
    progress = week_progress(WEEK, now)
    assert (progress.state, progress.days_elapsed, progress.days_left) == ("current", elapsed, left)
    assert progress.in_progress


def test_e23_week_turns_past_at_local_monday_midnight():
    """The week ends at Monday 00:00 Beijing (Sunday 16:00 UTC); a week to come is 'future'."""
    assert week_progress(WEEK, NEXT_MONDAY_0000).state == "past"
    assert week_progress(WEEK, MONDAY_0005 - timedelta(minutes=10)).state == "future"


@pytest.mark.parametrize("now, expected", [
    (MONDAY_0005, None), (THURSDAY_1400, TARGET * 3 // 7), (SUNDAY_2359, TARGET * 6 // 7),
    (NEXT_MONDAY_0000, TARGET), (MONDAY_0005 - timedelta(days=1), None)])
def test_pace_target_is_the_target_times_days_over_by_seven(now, expected):
    """Pro-rated target = weekly target × local days already over / 7; none on day 1 or before; whole after the week."""
    assert pace_target_seconds(TARGET, WEEK, now) == expected


@pytest.mark.parametrize("now, text", [
    (MONDAY_0005, "本周进行中（截至 周一 00:05，还剩 6 天）"),
    (THURSDAY_1400, "本周进行中（截至 周四 14:00，还剩 3 天）"),
    (SUNDAY_2359, "本周进行中（截至 周日 23:59，今天是最后一天）")])
def test_in_progress_note_reads_local_time(app, now, text):
    """The in-progress label says the Beijing weekday and time and the whole days left."""
    with app.test_request_context():
        assert figures.progress_note(week_progress(WEEK, now)) == text


def test_closed_week_has_no_in_progress_note(app):
    """A closed week carries no in-progress label and no pace rule."""
    with app.test_request_context():
        progress = week_progress(WEEK, NEXT_MONDAY_0000)
        assert figures.progress_note(progress) == "" and figures.pace_rule(TARGET, progress) == ""


def test_pace_rule_written_with_the_numbers(app):
    """The rule under the figure states target, days over and the pro-rated hours."""
    with app.test_request_context():
        rule = figures.pace_rule(TARGET, week_progress(WEEK, THURSDAY_1400))
    assert "10 小时" in rule and "已过完 3 天" in rule and "4.3 小时" in rule


# --- the on-pace count in SQL ------------------------------------------------------------------

def test_on_pace_equals_a_recount(app, session):
    """Each unit's on-pace count (SQL, rolled up by path) equals a recount of its officers' raw study rows."""
    generated_city(session, 300)
    session.commit()
    pace = pace_target_seconds(TARGET, WEEK, NOW)  # Friday 12:00: 4 days over
    assert pace == TARGET * 4 // 7
    rows = queries.unit_rows(session, WEEK, NOW)
    units = {u.id: u for u in session.scalars(select(Unit))}
    officers = list(session.scalars(select(User).where(User.role == "officer", User.is_active.is_(True))))
    secs = {u.id: 0 for u in officers}
    for day in session.scalars(select(StudyDay)):
        if day.user_id in secs and MONDAY <= day.day <= MONDAY + timedelta(days=6):
            secs[day.user_id] += day.seconds
    for row in rows:
        path = units[row.unit_id].path
        expected = sum(1 for u in officers if units[u.unit_id].path.startswith(path) and secs[u.id] >= pace)
        assert row.on_pace == expected, row.unit_name
        assert row.on_pace_rate == (expected / row.officers if row.officers else None)


def test_no_on_pace_figure_on_the_first_day(app, session):
    """On Monday nobody can be behind yet: the on-pace figure is empty, not 100 % or 0 %."""
    generated_city(session, 40)
    session.commit()
    rows = queries.unit_rows(session, WEEK, MONDAY_0005)
    assert all(r.on_pace is None and r.on_pace_rate is None for r in rows)


# --- pages ----------------------------------------------------------------------------------

@pytest.fixture
def midweek_city(app, city, clock):
    """The small test city on Thursday 14:00 of a week with an exam and some study."""
    clock.now = THURSDAY_1400
    with app.app_context():
        s = db.session
        make_exam(s)
        for name, hours in (("officer", 5), ("officer2", 1), ("officer_a2", 3), ("officer_b", 12)):
            s.add(StudyDay(user_id=city.users[name], day=MONDAY, seconds=hours * 3600))
        s.commit()
    return city


def logged_in(app, auth, username):
    client = app.test_client()
    auth.login(client, username)
    return client


def test_dashboard_mid_week_says_in_progress_on_pace_and_provisional(app, midweek_city, auth):
    """Thursday: 本周进行中（截至 周四 14:00，还剩 3 天）, the 进度达标 figure with its rule, ranks marked 暂定."""
    html = logged_in(app, auth, "leader").get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "本周进行中（截至 周四 14:00，还剩 3 天）" in html
    assert "进度达标" in html and "已过完 3 天" in html
    assert "暂定" in html
    assert '"open": true' in html  # the trend's last point is drawn as unfinished


def test_closed_week_is_final(app, midweek_city, auth, clock):
    """A closed week shows neither the in-progress label nor 暂定 marks."""
    clock.now = NEXT_MONDAY_0000 + timedelta(days=1)
    html = logged_in(app, auth, "leader").get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "本周进行中" not in html and "report-provisional" not in html and "进度达标" not in html


def test_week_picker_offers_weeks_with_data_labelled(app, midweek_city, auth):
    """The picker lists the first week with data to this week, newest first, as 第N周（MM-DD～MM-DD）."""
    with app.app_context():
        db.session.add(StudyDay(user_id=midweek_city.users["officer"], day=MONDAY - timedelta(weeks=2), seconds=60))
        db.session.commit()
    html = logged_in(app, auth, "supervisor").get("/reports/").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)
    assert options == [("2026-W11", "第11周（03-09～03-15）"), ("2026-W10", "第10周（03-02～03-08）"),
                       ("2026-W09", "第9周（02-23～03-01）")]


@pytest.mark.parametrize("week, words", [("2026-W05", "这一周没有学习或测试数据"), ("2026-W20", "这一周还没有开始")])
@pytest.mark.parametrize("path", ["/reports/", "/reports/leaderboard", "/reports/print"])
def test_week_without_data_says_so(app, midweek_city, auth, path, week, words):
    """A week before the first data or still to come gets a designed empty state, never units ranked at 0.0."""
    resp = logged_in(app, auth, "leader").get(f"{path}?week={week}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and words in html
    assert "report-table" not in html and "report-board" not in html and "report-print__table" not in html
    assert "第11周（03-09～03-15）" in html  # the picker still offers the weeks that have data


def test_qualified_names_add_the_parent_and_more_where_names_repeat():
    """Leaderboard names: parent·unit; a further ancestor only where parent·unit still repeats; the city never."""
    def row(uid, name, parent):
        return UnitRow(uid, name, f"C{uid}", parent, 0, "x", "/")
    rows = [row(1, "市", None), row(2, "公安局", 1), row(3, "检察院", 1), row(4, "小店分局", 2),
            row(5, "小店分局", 3), row(6, "第一检察部", 4), row(7, "第一检察部", 5), row(8, "坞城派出所", 4)]
    names = qualified_names(rows)
    assert names[2] == "公安局" and names[4] == "公安局·小店分局"
    assert names[8] == "小店分局·坞城派出所"
    assert names[6] == "公安局·小店分局·第一检察部" and names[7] == "检察院·小店分局·第一检察部"


def test_leaderboard_shows_parent_names_and_provisional(app, midweek_city, auth):
    """红榜/黑榜 show each unit under its parent, and a week in progress is marked 暂定."""
    html = logged_in(app, auth, "officer").get(f"/reports/leaderboard?week={WEEK}").get_data(as_text=True)
    assert re.search(r'<small class="report-parent">甲分局·</small>甲一所', html)
    assert "本周进行中（截至 周四 14:00，还剩 3 天）" in html and "report-provisional" in html


# --- exports ----------------------------------------------------------------------------------

def test_exports_are_stamped_in_beijing_time_with_the_week_label(app, midweek_city, auth, clock):
    """Excel and CSV: 第N周 with dates in the title, the Beijing time (not UTC) and 暂定 mid-week; names keep the ISO key."""
    clock.now = datetime(2026, 3, 11, 17, 30)  # Wednesday 17:30 UTC = Thursday 01:30 in Beijing
    client = logged_in(app, auth, "supervisor")
    resp = client.get(f"/reports/units.xlsx?week={WEEK}")
    assert f"units-{WEEK}.xlsx" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert "第11周（03-09～03-15）" in ws["A1"].value
    assert ws["A2"].value.startswith("统计时间：2026-03-12 01:30（北京时间）") and "UTC" not in ws["A2"].value
    assert "本周进行中（截至 周四 01:30，还剩 3 天）" in ws["A2"].value and "暂定" in ws["A2"].value
    headers = [c.value for c in ws[3]]
    assert "进度达标率" in headers and ws.cell(4, headers.index("状态") + 1).value == "暂定"
    text = client.get(f"/reports/units.csv?week={WEEK}").get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert "第11周（03-09～03-15）" in lines[0][0] and "2026-03-12 01:30（北京时间）" in lines[1][0]
    assert lines[2][0] == "名次"
    officers = load_workbook(io.BytesIO(client.get(f"/reports/units/{midweek_city.branch_a}/officers.xlsx?week={WEEK}").data)).active
    assert "2026-03-12 01:30（北京时间）" in officers["A2"].value
    # Thursday 01:30: 3 days over, pace 4.3 h — officer (5 h) is on pace, officer2 (1 h) is not.
    heads = [c.value for c in officers[3]]
    pace = {officers.cell(r, 1).value: officers.cell(r, heads.index("进度达标") + 1).value for r in range(4, officers.max_row + 1)}
    assert pace["officer"] == "是" and pace["officer2"] == "否"


# --- the printable weekly report ---------------------------------------------------------------

def test_print_report_lists_units_people_behind_time_and_signature(app, midweek_city, auth):
    """/reports/print: 第N周 with dates, ranked units with 暂定, officers behind by name per unit, Beijing time, a signature line."""
    html = logged_in(app, auth, "supervisor").get(f"/reports/print?week={WEEK}").get_data(as_text=True)
    assert "第11周（03-09～03-15）" in html and "2026-W11" not in html.split("<body", 1)[1].split("data-print")[0]
    assert "生成时间：2026-03-12 14:00（北京时间）" in html
    assert "暂定" in html and "data-print" in html and "审核人（签字）" in html
    # Thursday: pace is 3/7 × 10 h ≈ 4.3 h; officer2 (1 h) and officer_a2 (3 h) are behind, officer (5 h) is not.
    behind = html.split("需督促的干警", 1)[1]
    assert "officer2" in behind and "officer_a2" in behind
    assert re.search(r"未参加测试（\d+）", behind)
    assert "<script>" not in html  # CSP: the print button is wired in reports.js


def test_l8_cached_dashboard_reads_the_week_as_of_its_figures(make_app, clock):
    """L8: a cached body says 截至 the time its figures were computed, never a later one; a refresh moves both."""
    app = make_app(REPORTS_CACHE_SECONDS=60)
    with app.app_context():
        root = generated_city(db.session, 30, seed=5, prefix="M")
        make_user(db.session, "chief", root, "leader")
        db.session.commit()
    clock.now = NOW  # Friday 12:00 in Beijing
    client = app.test_client()
    client.post("/login", data={"username": "chief", "password": "correct horse battery staple"})
    first = client.get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "截至 周五 12:00，还剩 2 天" in first and "数据更新于 12:00:00" in first
    clock.advance(seconds=50)
    again = client.get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "截至 周五 12:00，还剩 2 天" in again and "数据更新于 12:00:00" in again
    clock.advance(seconds=20)
    later = client.get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "截至 周五 12:01，还剩 2 天" in later and "数据更新于 12:01:10" in later


def test_export_heading_stays_chinese_on_an_english_page(app, midweek_city, auth):
    """An export's title and subtitle match its Chinese column headers even when the page language is English."""
    client = logged_in(app, auth, "supervisor")
    client.set_cookie("lang", "en")
    ws = load_workbook(io.BytesIO(client.get(f"/reports/units.xlsx?week={WEEK}").data)).active
    assert "第11周（03-09～03-15）" in ws["A1"].value and "本周进行中（截至 周四 14:00，还剩 3 天）" in ws["A2"].value


def test_unit_export_of_a_week_without_data_ranks_nobody(app, midweek_city, auth):
    """Excel/CSV of a week before the first data say so and carry no ranked rows."""
    client = logged_in(app, auth, "leader")
    ws = load_workbook(io.BytesIO(client.get("/reports/units.xlsx?week=2026-W05").data)).active
    assert "没有学习或测试数据" in ws["A2"].value and ws.max_row == 3
    lines = list(csv.reader(io.StringIO(client.get("/reports/units.csv?week=2026-W05").get_data(as_text=True))))
    assert len(lines) == 3 and "没有学习或测试数据" in lines[1][0]


def test_a25_parent_names_and_print_lists_are_escaped(app, midweek_city, auth):
    """A25: markup in a unit's or officer's name shows escaped in the leaderboard's parent names and the print lists."""
    with app.app_context():
        s = db.session
        branch = s.get(Unit, midweek_city.branch_a)
        branch.name = "<b>甲分局</b>"
        s.get(User, midweek_city.users["officer2"]).name = "<script>x</script>"
        s.commit()
    client = logged_in(app, auth, "supervisor")
    board = client.get(f"/reports/leaderboard?week={WEEK}").get_data(as_text=True)
    assert "&lt;b&gt;甲分局&lt;/b&gt;·" in board and "<b>甲分局" not in board
    printed = client.get(f"/reports/print?week={WEEK}").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in printed and "<script>x" not in printed


def test_dashboard_on_monday_says_pace_starts_tuesday(app, midweek_city, auth, clock):
    """Monday 00:05: the week is in progress with 6 days left, 进度达标 reads — and its rule says it starts on Tuesday."""
    clock.now = MONDAY_0005
    html = logged_in(app, auth, "leader").get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "本周进行中（截至 周一 00:05，还剩 6 天）" in html
    assert re.search(r'class="report-pace">进度达标 <strong>—</strong>', html)
    assert "进度达标从周二起计算" in html
