"""Per-unit scores, rankings, exports and the leaderboard (issue #5; QUALITY A15, A16, A25, A26, L8)."""
from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, insert, select

from app.db import db
from app.models import Attempt, AuditLog, Exam, Notification, StudyDay, Unit, User
from app.reports import figures, queries
from tests.factories import make_unit, make_user

WEEK = "2026-W11"
MONDAY = date(2026, 3, 9)
NOW = datetime(2026, 3, 13, 4, 0)  # Friday 12:00 local
TARGET = 10 * 3600


def make_exam(session, week=WEEK) -> Exam:
    exam = Exam(week=week, scope="city", title="测试", opens_at=datetime(2026, 3, 9), closes_at=datetime(2026, 3, 15, 14),
                duration_minutes=30, pass_mark=80, blueprint={"rules": [], "points": {}}, status="ready")
    session.add(exam)
    session.flush()
    return exam


def generated_city(session, officers: int, seed: int = 7, prefix: str = "G"):
    """city → 2 systems → 2 branches each → 3 stations each; officers spread at random, with
    random study days (some in the week, some outside it) and random exam attempts."""
    rng = random.Random(seed)
    root = make_unit(session, f"生成市{prefix}", code=prefix)
    stations, branches = [], []
    for s in range(2):
        system = make_unit(session, f"系统{s}", root, code=f"{prefix}{s}")
        for b in range(2):
            branch = make_unit(session, f"分局{s}{b}", system, code=f"{prefix}{s}{b}")
            branches.append(branch)
            for t in range(3):
                stations.append(make_unit(session, f"所{s}{b}{t}", branch, code=f"{prefix}{s}{b}{t}"))
    exam = session.scalar(select(Exam).where(Exam.week == WEEK)) or make_exam(session)
    users = []
    for i in range(officers):
        unit = rng.choice(stations + branches[:1])  # a few officers sit directly in a branch
        users.append({"username": f"{prefix}gen{i:05d}", "name": f"干警{i}", "unit_id": unit.id, "role": "officer",
                      "password_hash": "!", "is_active": rng.random() > 0.03})
    session.execute(insert(User), users)
    ids = list(session.scalars(select(User.id).where(User.username.like(f"{prefix}gen%")).order_by(User.id)))
    days, attempts = [], []
    for uid in ids:
        for d in range(-2, 8):
            if rng.random() < 0.6:
                days.append({"user_id": uid, "day": MONDAY + timedelta(days=d), "seconds": rng.randint(0, 3 * 3600)})
        roll = rng.random()
        if roll < 0.7:
            score = float(rng.randint(40, 100))
            attempts.append({"exam_id": exam.id, "user_id": uid, "attempt_no": 1, "seed": 1, "status": "finished",
                             "started_at": NOW - timedelta(days=1), "deadline": NOW, "finished_at": NOW,
                             "finish_reason": "submitted", "seq": 0, "score": score, "passed": score >= 80})
        elif roll < 0.75:
            attempts.append({"exam_id": exam.id, "user_id": uid, "attempt_no": 1, "seed": 1, "status": "in_progress",
                             "started_at": NOW - timedelta(hours=2), "deadline": NOW - timedelta(hours=1), "seq": 0})
    session.execute(insert(StudyDay), days)
    session.execute(insert(Attempt), attempts)
    session.flush()
    return root


def recount(session, unit: Unit) -> dict:
    """The figures of one unit recomputed from raw rows in Python."""
    units = {u.id: u for u in session.scalars(select(Unit))}
    members = [u for u in session.scalars(select(User).where(User.role == "officer", User.is_active.is_(True)))
               if units[u.unit_id].path.startswith(unit.path)]
    week_days = {MONDAY + timedelta(days=i) for i in range(7)}
    secs = {u.id: 0 for u in members}
    for row in session.scalars(select(StudyDay)):
        if row.user_id in secs and row.day in week_days:
            secs[row.user_id] += row.seconds
    finished = {a.user_id: a for a in session.scalars(select(Attempt).where(Attempt.status == "finished"))
                if a.user_id in secs}
    n = len(members)
    scores = [a.score for a in finished.values()]
    passed = sum(1 for a in finished.values() if a.passed)
    return {"officers": n, "study_target_met": sum(1 for s in secs.values() if s >= TARGET),
            "avg_study_hours": round(sum(secs.values()) / n / 3600, 2) if n else None,
            "exam_participants": len(finished), "avg_score": round(sum(scores) / len(scores), 2) if scores else None,
            "pass_count": passed}


def test_unit_figures_equal_a_recount(app, session):
    """Each unit's figures equal a recount from its officers' raw rows (branches from all officers below)."""
    generated_city(session, 300)
    session.commit()
    rows = queries.unit_rows(session, WEEK, NOW)
    assert len(rows) == 19
    for row in rows:
        unit = session.get(Unit, row.unit_id)
        expected = recount(session, unit)
        got = {k: getattr(row, k) for k in expected}
        assert got == pytest.approx(expected), unit.name
        if row.officers:
            assert row.study_completion_rate == pytest.approx(row.study_target_met / row.officers)
            assert 0 <= row.composite_score <= 100


def test_pending_attempts_are_counted_as_pending(app, session):
    """L7: attempts past their deadline but not yet swept show as pending, not as missing."""
    generated_city(session, 120)
    session.commit()
    root = next(r for r in queries.unit_rows(session, WEEK, NOW) if r.parent_id is None)
    assert root.exam_pending > 0


def test_fixed_number_of_queries(app, clock):
    """The dashboard runs the same number of SQL queries for 60 officers as for 660."""
    with app.app_context():
        root = generated_city(db.session, 60, seed=1)
        make_user(db.session, "chief", root, "leader")
        db.session.commit()
    clock.now = NOW
    client = app.test_client()
    client.post("/login", data={"username": "chief", "password": "correct horse battery staple"})
    with app.app_context():
        engine = db.engine
    counts = []
    for more in (0, 600):
        if more:
            with app.app_context():
                generated_city(db.session, more, seed=2, prefix="H")
                db.session.commit()
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        assert client.get(f"/reports/?week={WEEK}&only=failed").status_code == 200
        event.remove(engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_ties_broken_by_documented_rule(app, session):
    """Equal composites rank by study completion, then average score, then unit code."""
    a, b = queries.UnitRow(1, "乙", "B", None, 0, "city", "/1/"), queries.UnitRow(2, "甲", "A", None, 0, "city", "/2/")
    for r in (a, b):
        r.officers, r.composite_score, r.study_completion_rate, r.avg_score = 10, 50.0, 0.5, 70.0
    figures.rank_rows([a, b])
    assert (b.rank, a.rank) == (1, 2)


# --- API, pages and scope --------------------------------------------------------------------

@pytest.fixture
def scored_city(app, city, clock):
    """The small test city with one week of figures."""
    clock.now = NOW
    with app.app_context():
        s = db.session
        exam = make_exam(s)
        for name, secs, score in (("officer", 11 * 3600, 90.0), ("officer2", 2 * 3600, None),
                                  ("officer_a2", 10 * 3600, 60.0), ("officer_b", 12 * 3600, 85.0)):
            uid = city.users[name]
            s.add(StudyDay(user_id=uid, day=MONDAY, seconds=secs))
            if score is not None:
                s.add(Attempt(exam_id=exam.id, user_id=uid, attempt_no=1, seed=1, status="finished",
                              started_at=NOW, deadline=NOW, finished_at=NOW, score=score, passed=score >= 80))
        s.commit()
    return city


def test_contract_units(app, scored_city, auth):
    """GET /reports/units returns the unit and every unit below it with the contract's fields."""
    c = app.test_client()
    auth.login(c, "supervisor")
    body = c.get(f"/api/v1/reports/units?week={WEEK}").get_json()
    assert body["week"] == WEEK and body["unit"]["id"] == scored_city.branch_a
    ids = [r["unit_id"] for r in body["rows"]]
    assert ids[0] == scored_city.branch_a and set(ids) == {scored_city.branch_a, scored_city.station_a1, scored_city.station_a2}
    top = body["rows"][0]
    assert set(top) == {"unit_id", "unit_name", "parent_id", "depth", "officers", "study_target_met",
                        "study_completion_rate", "avg_study_hours", "exam_participants", "exam_participation_rate",
                        "avg_score", "pass_count", "pass_rate", "task_completion_rate", "composite_score", "rank", "city_rank"}
    assert top["officers"] == 3 and top["study_target_met"] == 2 and top["exam_participants"] == 2
    assert top["study_completion_rate"] == pytest.approx(2 / 3) and top["avg_score"] == 75.0
    assert top["pass_rate"] == 0.5


def test_contract_officers(app, scored_city, auth):
    """GET /reports/units/<id>/officers lists every officer in the subtree; score null when not taken."""
    c = app.test_client()
    auth.login(c, "supervisor")
    body = c.get(f"/api/v1/reports/units/{scored_city.branch_a}/officers?week={WEEK}").get_json()
    by_name = {o["name"]: o for o in body["officers"]}
    assert set(by_name) == {"officer", "officer2", "officer_a2"}
    assert by_name["officer2"]["exam_score"] is None and by_name["officer2"]["passed"] is None
    assert by_name["officer"]["study_target_met"] is True and by_name["officer"]["exam_score"] == 90.0
    assert set(by_name["officer"]) == {"officer_id", "name", "badge_no", "unit_id", "study_seconds", "study_target_met",
                                       "exam_score", "passed", "tasks_done"}
    only = c.get(f"/api/v1/reports/units/{scored_city.branch_a}/officers?week={WEEK}&only=exam_not_taken").get_json()
    assert [o["name"] for o in only["officers"]] == ["officer2"]


def test_a16_supervisor_cannot_see_outside_subtree(app, scored_city, auth):
    """A16: a supervisor asking for a sibling or parent unit, its officers or its Excel gets 403."""
    c = app.test_client()
    auth.login(c, "supervisor")
    for unit in (scored_city.branch_b, scored_city.root, scored_city.station_b1):
        assert c.get(f"/api/v1/reports/units?week={WEEK}&unit={unit}").status_code == 403
        assert c.get(f"/api/v1/reports/units/{unit}/officers?week={WEEK}").status_code == 403
        assert c.get(f"/reports/units.xlsx?week={WEEK}&unit={unit}").status_code == 403
        assert c.get(f"/reports/?unit={unit}").status_code == 403
        assert c.get(f"/reports/units/{unit}/officers.xlsx").status_code == 403
    body = c.get(f"/reports/units.xlsx?week={WEEK}").data
    names = [cell.value for row in load_workbook(io.BytesIO(body)).active.iter_rows() for cell in row]
    assert "乙分局" not in names and "甲一所" in names


def test_a16_officers_get_no_unit_reports(app, scored_city, auth):
    """A16: officers get 403 on unit reports but may open the leaderboard without officer rows."""
    c = app.test_client()
    auth.login(c, "officer")
    assert c.get("/api/v1/reports/units").status_code == 403
    assert c.get("/reports/").status_code == 403
    board = c.get(f"/api/v1/leaderboard?week={WEEK}").get_json()
    assert board["me"]["position"] == 1 and board["me"]["of"] == 2
    text = str(board)
    assert "officer_b" not in text and "officer_a2" not in text
    page = c.get(f"/reports/leaderboard?week={WEEK}").get_data(as_text=True)
    assert "红榜" in page and "officer_b" not in page


@pytest.mark.parametrize("week", ["2026-11", "2026-W99", "x; drop table users", ""])
def test_a22_week_is_validated(app, scored_city, auth, week):
    """A22: a malformed week gets 422 (API) or 400 (pages), never a 500."""
    c = app.test_client()
    auth.login(c, "leader")
    if week:
        assert c.get(f"/api/v1/reports/units?week={week}").status_code == 422
        assert c.get(f"/reports/?week={week}").status_code == 400
    else:
        assert c.get("/api/v1/reports/units?week=").status_code == 200


def test_a26_sort_from_allowlist(app, scored_city, auth):
    """A26: a sort outside the allowlist gets 400."""
    c = app.test_client()
    auth.login(c, "leader")
    resp = c.get(f"/api/v1/reports/units/{scored_city.root}/officers?sort=id%20desc;drop%20table%20users--")
    assert resp.status_code == 400


def test_a25_names_escaped_and_cells_neutralised(app, scored_city, auth):
    """A25: a <script> unit name shows escaped on pages; a cell starting with = is stored as text."""
    with app.app_context():
        db.session.get(Unit, scored_city.station_a1).name = "<script>alert(1)</script>"
        db.session.get(Unit, scored_city.station_a2).name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    c = app.test_client()
    auth.login(c, "supervisor")
    page = c.get(f"/reports/?week={WEEK}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    board = c.get(f"/reports/leaderboard?week={WEEK}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in board
    ws = load_workbook(io.BytesIO(c.get(f"/reports/units.xlsx?week={WEEK}").data)).active
    values = [cell.value for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "'=HYPERLINK(\"http://x\")" in values and not any(v.startswith("=") for v in values)
    csv_text = c.get(f"/reports/units.csv?week={WEEK}").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text


def test_remind_reaches_only_filtered_officers_in_scope(app, scored_city, auth):
    """One-click reminder notifies the filtered officers of the caller's unit only, and is audited."""
    c = app.test_client()
    auth.login(c, "supervisor")
    resp = c.post("/reports/remind", data={"week": WEEK, "unit": scored_city.branch_a, "only": "exam_not_taken"})
    assert resp.status_code == 302
    with app.app_context():
        notified = list(db.session.scalars(select(Notification.user_id)))
        assert notified == [scored_city.users["officer2"]]
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "report.remind")) is not None
    assert c.post("/reports/remind", data={"week": WEEK, "unit": scored_city.branch_b,
                                           "only": "exam_not_taken"}).status_code == 403


def test_weights_admin_and_audit(app, scored_city, auth):
    """Admins change the composite weights (audited with before/after); a bad sum changes nothing."""
    c = app.test_client()
    auth.login(c, "admin")
    bad = c.post("/reports/weights", data={"study": 50, "participation": 50, "score": 50, "tasks": 0})
    assert bad.status_code == 422 and "合计应为 100" in bad.get_data(as_text=True)
    before = c.get(f"/api/v1/reports/units?week={WEEK}").get_json()["rows"][0]["composite_score"]
    assert c.post("/reports/weights", data={"study": 100, "participation": 0, "score": 0, "tasks": 0}).status_code == 302
    after = c.get(f"/api/v1/reports/units?week={WEEK}").get_json()["rows"][0]
    assert after["composite_score"] == pytest.approx(100 * after["study_completion_rate"]) != before
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "settings.score_weights"))
    assert row.before["study"] == 40 and row.after["study"] == 100


def test_dashboard_pages_render(app, scored_city, auth):
    """The dashboard, drill-down, filters, print page and exports answer for staff."""
    c = app.test_client()
    auth.login(c, "leader")
    for path in (f"/reports/?week={WEEK}", f"/reports/?unit={scored_city.branch_a}&week={WEEK}",
                 f"/reports/?unit={scored_city.station_a1}&week={WEEK}", f"/reports/?only=failed&week={WEEK}",
                 f"/reports/print?week={WEEK}", f"/reports/units/{scored_city.branch_a}/officers.csv?week={WEEK}"):
        assert c.get(path).status_code == 200, path
    sheet = load_workbook(io.BytesIO(c.get(f"/reports/units/{scored_city.branch_a}/officers.xlsx?week={WEEK}").data)).active
    assert "干警学习考核明细" in sheet.cell(1, 1).value
