"""The campaign report (总结提升, issue 17 point 5): figures equal a recount of the raw rows,
scope like every report (A16), a formatted workbook, a fixed number of queries, bad input (A36)."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, insert, select, update

from app.db import db
from app.models import Attempt, Campaign, CampaignStage, StudyDay, Task, TaskSubmission, Unit, User
from app.reports import snapshots
from app.reports.campaign import SECTIONS, CampaignReport
from tests.test_reports import make_exam

H = 3600
TARGET = 10 * H
W09, W10, W11 = "2026-W09", "2026-W10", "2026-W11"
MONDAYS = {W09: date(2026, 2, 23), W10: date(2026, 3, 2), W11: date(2026, 3, 9)}
#: (username, week, hours): W11 is the week in progress at the test clock (Monday 10:00 local).
STUDY = [("officer", W09, 11), ("officer2", W09, 3), ("officer_b", W09, 10), ("officer", W10, 5),
         ("officer2", W10, 12), ("officer_a2", W10, 10), ("officer", W11, 1)]
#: (username, week, score): pass mark 80.
SCORES = [("officer", W09, 90), ("officer_b", W09, 70), ("officer", W10, 85), ("officer2", W10, 95),
          ("officer_a2", W10, 60)]
OFFICERS = ("officer", "officer2", "officer_a2", "officer_b", "officer_c")


def build_campaign(session, city, first_day: date = date(2026, 2, 23)) -> dict:
    """Stages 学习教育 (from ``first_day``) → 查纠整改 → 总结提升 (not begun); study, two exams,
    and tasks with submissions in each state; W09 is snapshotted, W10 and W11 are live."""
    campaign = Campaign(name="测试市教育整顿")
    session.add(campaign)
    session.flush()
    stages = {}
    for code, name, start, end in (("study", "学习教育", first_day, date(2026, 3, 1)),
                                   ("rectify", "查纠整改", date(2026, 3, 2), date(2026, 3, 15)),
                                   ("summary", "总结提升", date(2026, 3, 16), date(2026, 3, 29))):
        stages[code] = CampaignStage(campaign_id=campaign.id, code=code, name=name, starts_on=start, ends_on=end)
        session.add(stages[code])
    session.flush()
    users = city.users
    session.execute(insert(StudyDay), [{"user_id": users[u], "day": MONDAYS[w] + timedelta(days=2), "seconds": h * H}
                                       for u, w, h in STUDY] +
                    # before the campaign: never counted
                    [{"user_id": users["officer"], "day": date(2026, 2, 16), "seconds": 20 * H}])
    exams = {w: make_exam(session, w) for w in (W09, W10)}
    session.execute(insert(Attempt), [
        {"exam_id": exams[w].id, "user_id": users[u], "attempt_no": 1, "seed": 1, "status": "finished",
         "started_at": datetime(2026, 3, 1), "deadline": datetime(2026, 3, 1, 1), "finished_at": datetime(2026, 3, 1),
         "finish_reason": "submitted", "seq": 0, "score": float(s), "passed": s >= 80} for u, w, s in SCORES])

    def task(stage, title, required=True, target=None, withdrawn=False):
        t = Task(stage_id=stages[stage].id, kind="reflection", required=required, title=title,
                 target_unit_id=target, due_at=datetime(2026, 3, 12),
                 withdrawn_at=datetime(2026, 3, 3) if withdrawn else None)
        session.add(t)
        session.flush()
        return t

    film = task("study", "观看警示片")
    patrol = task("rectify", "走访自查", required=False, target=city.branch_a)
    gone = task("rectify", "已撤回", withdrawn=True)
    task("summary", "撰写总结")  # its stage has not begun
    session.execute(insert(TaskSubmission), [
        {"task_id": t.id, "user_id": users[u], "status": status, "text": "", "photos": []}
        for t, u, status in ((film, "officer", "accepted"), (film, "officer2", "returned"),
                             (film, "officer_b", "submitted"), (film, "officer_c", "draft"),
                             (patrol, "officer_a2", "accepted"), (gone, "officer", "accepted"))])
    session.flush()
    snapshots.take(session, W09, datetime(2026, 3, 9, 2))
    session.commit()
    return stages


def recount(session, city) -> dict[int, dict]:
    """Per unit, from STUDY and SCORES and the officers' units: hours, officer-weeks, target met,
    exam attempts, score sum and passes over the campaign (W09–W11)."""
    path = {u.id: u.path for u in session.scalars(select(Unit))}
    home = {name: session.get(User, city.users[name]).unit_id for name in OFFICERS}
    out = {}
    for unit_id, unit_path in path.items():
        mine = [n for n in OFFICERS if path[home[n]].startswith(unit_path)]
        hours = {(u, w): h for u, w, h in STUDY}
        scores = [s for u, w, s in SCORES if u in mine]
        out[unit_id] = {"officer_weeks": 3 * len(mine), "hours": sum(h for (u, _w), h in hours.items() if u in mine),
                        "met": sum(1 for (u, _w), h in hours.items() if u in mine and h * H >= TARGET),
                        "exam_weeks": 2 * len(mine), "attempts": len(scores), "score_sum": sum(scores),
                        "passed": sum(1 for s in scores if s >= 80)}
    return out


def section(report, key):
    return next(result for s, result in report.sections if s.key == key)


def test_campaign_figures_equal_a_recount(app, session, city, clock):
    """Issue 17 point 5: every unit's campaign study, exam and task figures equal a recount of the raw rows."""
    build_campaign(session, city)
    root = session.get(Unit, city.root)
    report = CampaignReport(session, root, clock.now)
    assert report.weeks == [W09, W10, W11]
    expected = recount(session, city)
    study, exams = section(report, "study"), section(report, "exams")
    for row in study.tables[1].rows:
        e = expected[row["unit_id"]]
        assert row["hours"] == e["hours"]
        assert row["rate"] == (e["met"] / e["officer_weeks"] if e["officer_weeks"] else None)
    for row in exams.tables[1].rows:
        e = expected[row["unit_id"]]
        assert row["participants"] == e["attempts"]
        assert row["participation"] == (e["attempts"] / e["exam_weeks"] if e["exam_weeks"] else None)
        assert row["avg_score"] == (round(e["score_sum"] / e["attempts"], 2) if e["attempts"] else None)
    weekly = {r["week"]: r for r in study.tables[0].rows}
    assert [(weekly[w]["officers"], weekly[w]["target_met"], weekly[w]["hours"]) for w in (W09, W10, W11)] \
        == [(5, 2, 24.0), (5, 2, 27.0), (5, 0, 1.0)]
    assert weekly[W11]["status"] and not weekly[W09]["status"]  # the week in progress is marked
    exam_weeks = {r["week"]: r for r in exams.tables[0].rows}
    assert exam_weeks[W09]["participants"] == 2 and exam_weeks[W10]["pass_rate"] == pytest.approx(2 / 3)
    assert exam_weeks[W11]["participants"] is None  # no exam that week: not a 0% participation
    # Tasks: the withdrawn task and the stage not begun count nowhere; a draft is not handed in.
    stages = {r["stage"]: r for r in section(report, "tasks").tables[0].rows}
    assert (stages["学习教育"]["required"], stages["学习教育"]["assigned"], stages["学习教育"]["handed_in"],
            stages["学习教育"]["accepted"], stages["学习教育"]["returned"]) == (1, 5, 3, 1, 1)
    assert (stages["查纠整改"]["optional"], stages["查纠整改"]["assigned"], stages["查纠整改"]["accepted"]) == (1, 3, 1)
    assert stages["总结提升"]["assigned"] == 0
    units = {r["unit_id"]: r for r in section(report, "tasks").tables[1].rows}
    assert (units[city.root]["assigned"], units[city.root]["accepted"], units[city.root]["rate"]) == (8, 2, 0.25)
    assert (units[city.branch_a]["assigned"], units[city.branch_b]["assigned"]) == (6, 1)
    headline = dict((str(label), value) for label, value, _k in section(report, "study").headline)
    assert headline["累计学时"] == 52.0 and headline["学习达标率"] == pytest.approx(4 / 15)


def test_campaign_report_costs_a_fixed_number_of_queries(app, session, city, clock):
    """Issue 17 point 5: the report's queries do not grow with the number of weeks (3 weeks or 8, live or snapshotted)."""
    stages = build_campaign(session, city)
    root = session.get(Unit, city.root)

    def statements():
        seen = []
        listener = lambda conn, cursor, sql, *rest: seen.append(sql)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            report = CampaignReport(session, root, clock.now)
            assert len(report.sections) == len(SECTIONS)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return report, len(seen)

    short, few = statements()
    session.execute(update(CampaignStage).where(CampaignStage.id == stages["study"].id)
                    .values(starts_on=date(2026, 1, 19)))
    session.commit()
    session.refresh(root)  # the commit expired it: not the report's query
    long, many = statements()
    assert (len(short.weeks), len(long.weeks)) == (3, 8)
    assert many == few <= 12


def test_a16_campaign_report_scope(app, city, auth, client):
    """A16: a supervisor gets their subtree and 403 for another branch; a leader gets the city; an officer nothing."""
    with app.app_context():
        build_campaign(db.session, city)
    auth.login(client, "supervisor")
    assert client.get("/reports/campaign").status_code == 200
    assert client.get(f"/reports/campaign?unit={city.station_a1}").status_code == 200
    assert client.get(f"/reports/campaign?unit={city.branch_b}").status_code == 403
    assert client.get(f"/reports/campaign.xlsx?unit={city.branch_b}").status_code == 403
    assert client.get(f"/reports/campaign?unit={city.root}").status_code == 403
    page = client.get("/reports/campaign").get_data(as_text=True)
    assert "甲分局" in page and "乙分局" not in page and "第10周" in page and "-W" not in page
    auth.logout(client)
    auth.login(client, "leader")
    page = client.get("/reports/campaign").get_data(as_text=True)
    assert "乙分局" in page and "北京时间" in page and "教育整顿成效报告" in page
    auth.logout(client)
    auth.login(client, "officer")
    assert client.get("/reports/campaign").status_code == 403


@pytest.mark.parametrize("raw", ["abc", "1e3", "-1", "９", "1\n"])
def test_a36_campaign_report_bad_unit_is_400(app, city, auth, client, raw):
    """A36: a malformed unit id gets 400 on the page and the workbook."""
    auth.login(client, "leader")
    assert client.get("/reports/campaign", query_string={"unit": raw}).status_code == 400
    assert client.get("/reports/campaign.xlsx", query_string={"unit": raw}).status_code == 400


def test_campaign_workbook_sheets_and_totals(app, city, auth, client):
    """Issue 17 point 5: the workbook opens, has 概况 and one sheet per section, the right totals, formats and a frozen header."""
    with app.app_context():
        build_campaign(db.session, city)
    auth.login(client, "leader")
    resp = client.get("/reports/campaign.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["概况", "学习情况", "每周测试", "规定动作", "查纠整改表单", "整改台账", "谈心谈话", "满意度测评"]
    study = wb["学习情况"]
    assert study.freeze_panes == "A3" and study["A2"].value == "周次"
    assert study["A3"].value.startswith("第9周（02-23")
    rows = list(study.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "单位")
    city_row = study[header + 2]
    assert city_row[0].value == "测试市政法系统" and city_row[3].value == 52.0
    assert city_row[2].value == pytest.approx(4 / 15) and city_row[2].number_format == "0.0%"
    assert city_row[3].number_format == "0.0"
    tasks = list(wb["规定动作"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(tasks) if r[0] == "单位")
    assert tasks[header + 1][1:6] == (8, 4, 2, 1, 0.25)
    overview = [r for r in wb["概况"].iter_rows(values_only=True)]
    assert overview[0][0].startswith("测试市政法系统") and "北京时间" in overview[1][0]
    assert ("学习情况", "累计学时", 52) in [r[:3] for r in overview]


def test_campaign_report_without_campaign_says_so(app, city, auth, client):
    """Issue 17 point 5: with no campaign stages the page says so (designed empty state) and there is no workbook."""
    auth.login(client, "admin")
    page = client.get("/reports/campaign")
    assert page.status_code == 200 and "还没有设置教育整顿的阶段" in page.get_data(as_text=True)
    assert client.get("/reports/campaign.xlsx").status_code == 404


def test_campaign_chart_breaks_at_weeks_without_values(app, session, city, clock):
    """Issue 17 point 5: the overview's SVG chart leaves a week without an exam out of the 参考率 line and draws the week in progress hollow."""
    from app.reports.campaign import trend_chart

    build_campaign(session, city)
    chart = trend_chart(CampaignReport(session, session.get(Unit, city.root), clock.now))
    study, exams = chart["series"]
    assert [p["week"] for p in study["points"]] == [W09, W10, W11] and study["points"][-1]["open"]
    assert [p["week"] for p in exams["points"]] == [W09, W10] and len(exams["segments"]) == 1
    assert study["points"][0]["y"] < study["points"][-1]["y"]  # 40% above 0%
    assert chart["open_week"] == W11


def test_campaign_weeks_equal_the_dashboards_figures(app, session, city, clock):
    """Issue 17 point 5: each week of the report is the dashboard's own figures of that week (snapshot or live), per unit."""
    from app.reports import queries

    build_campaign(session, city)
    report = CampaignReport(session, session.get(Unit, city.root), clock.now)
    for week in report.weeks:
        dashboard = {r.unit_id: r for r in queries.unit_rows(session, week, clock.now)}
        for unit_id, sums in report.unit_week_sums[week].items():
            mine, theirs = report.figures(sums), dashboard[unit_id]
            assert (mine.officers, mine.study_completion_rate, mine.avg_study_hours, mine.exam_participation_rate,
                    mine.avg_score, mine.pass_rate) == \
                (theirs.officers, theirs.study_completion_rate, theirs.avg_study_hours,
                 theirs.exam_participation_rate, theirs.avg_score, theirs.pass_rate), (week, unit_id)


def test_campaign_report_in_english_keeps_a_chinese_workbook(app, city, auth, client):
    """Issue 17 point 5: the page follows the chosen language (English weeks), the workbook's sheets stay Chinese like every export."""
    with app.app_context():
        build_campaign(db.session, city)
    auth.login(client, "leader")
    client.set_cookie("lang", "en")
    page = client.get("/reports/campaign")
    assert page.status_code == 200 and "Week 10" in page.get_data(as_text=True)
    wb = load_workbook(io.BytesIO(client.get("/reports/campaign.xlsx").data))
    assert wb.sheetnames == ["概况", "学习情况", "每周测试", "规定动作", "查纠整改表单", "整改台账", "谈心谈话", "满意度测评"] and wb["学习情况"]["A3"].value.startswith("第9周")


def test_a_section_added_to_the_registry_reaches_page_and_workbook(app, city, auth, client, monkeypatch):
    """Issue 17 point 5: one function appended to SECTIONS adds a part to the page and a sheet to the workbook, its unit rows rolled up the tree."""
    from sqlalchemy import func

    from app.reports import campaign
    from app.reports.campaign import UNIT_COLUMN, Column, Section, SectionResult, Table

    def accounts(r):
        counts = {unit_id: {"people": n} for unit_id, n in r.session.execute(
            select(User.unit_id, func.count(User.id)).where(User.unit_id.in_(r.unit_ids)).group_by(User.unit_id))}
        rows = r.tree_rows(counts)
        return SectionResult([("账号数", rows[0]["people"], "int")],
                             [Table("各单位账号", (UNIT_COLUMN, Column("people", "账号数")), rows, tree=True)])

    monkeypatch.setattr(campaign, "SECTIONS", [*campaign.SECTIONS, Section("accounts", "账号情况", accounts)])
    with app.app_context():
        build_campaign(db.session, city)
    auth.login(client, "supervisor")
    page = client.get("/reports/campaign").get_data(as_text=True)
    assert 'id="section-accounts"' in page and "各单位账号" in page
    wb = load_workbook(io.BytesIO(client.get("/reports/campaign.xlsx").data))
    sheet = list(wb["账号情况"].iter_rows(values_only=True))
    # 甲分局: its supervisor, officer and officer2 in 甲一所, officer_a2 in 甲二所.
    assert sheet[2][:2] == ("甲分局", 4) and ("\u3000甲一所", 2) in [r[:2] for r in sheet]


def test_campaign_ledger_and_forms_sections_equal_a_recount(app, session, city, clock):
    """Issue 17 point 5: the report's 整改台账 part (found, closed, overdue, 整改完成率 per subtree) and forms part equal a recount of the rows."""
    from app.ledger.queries import is_overdue
    from app.models import LedgerItem
    from app.timeutils import local_day

    build_campaign(session, city)
    today = local_day(clock.now)
    units = {u.id: u for u in session.scalars(select(Unit))}
    someone = city.users["officer"]
    spec = [(city.branch_a, "closed", -3), (city.branch_a, "open", -1), (city.branch_b, "submitted", 5),
            (city.root, "open", 2)]
    for n, (uid, status, offset) in enumerate(spec):
        session.add(LedgerItem(unit_id=uid, source="self", category="other", description=f"问题{n}", measures="",
                               responsible_id=someone, deadline=today + timedelta(days=offset), status=status))
    session.commit()
    items = session.scalars(select(LedgerItem)).all()
    report = CampaignReport(session, units[city.root], clock.now)
    rows = {r["unit_id"]: r for r in section(report, "ledger").tables[0].rows}
    for uid, row in rows.items():
        mine = [i for i in items if units[i.unit_id].path.startswith(units[uid].path)]
        closed = sum(i.status == "closed" for i in mine)
        assert (row["found"], row["closed"], row["overdue"]) == \
            (len(mine), closed, sum(is_overdue(i, today) for i in mine))
        assert row["rate"] == (closed / len(mine) if mine else None)
    assert rows[city.root]["found"] == 4 and rows[city.root]["overdue"] == 1
    assert section(report, "forms").tables[0].rows[0]["submitted"] == 0  # no form handed in yet
