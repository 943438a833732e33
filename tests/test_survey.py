"""匿名测评 (survey forms, issue 17 point 5): nobody but the owner reads an answer sheet, by any
path; results only as aggregates of at least MIN_ANSWERS sheets per group, with complementary
suppression so that subtraction reveals no small group; scope from app/auth/scope.py; a fixed
number of queries; the CHECK constraint migration keeps existing rows."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import event, select

from app.db import db
from app.forms_ import services
from app.forms_.survey import MIN_ANSWERS, results_of, suppress, survey_results
from app.models import Form, FormSubmission, Unit, User
from tests.factories import make_form, make_user, signed_in as _login

SURVEY = {"fields": [
    {"key": "overall", "type": "single", "label": "对本次教育整顿的总体评价", "required": True,
     "options": ["非常满意", "满意", "基本满意", "不满意"]},
    {"key": "practical", "type": "yesno", "label": "学习内容是否贴近实际", "required": True},
    {"key": "score", "type": "number", "label": "对队伍作风变化的评分（1–10）", "required": True},
    {"key": "topics", "type": "multi", "label": "收获最大的方面", "options": ["理论", "党史", "警示"]},
    {"key": "advice", "type": "textarea", "label": "意见建议"},
]}
YES_NO = {"yes": "是", "no": "否"}
NOW = datetime(2026, 3, 9, 2, 0)  # the clock fixture's Monday 10:00 in Taiyuan
SECRET = "秘密意见"


def sheet(i: int) -> dict:
    """The i-th demo answer sheet: varied, with a text only on some."""
    return {"overall": SURVEY["fields"][0]["options"][i % 4], "practical": {"value": "yes", "details": "贴近"} if i % 3 else {"value": "no", "details": ""},
            "score": str(5 + i % 6), "topics": ["理论", "警示"] if i % 2 else ["党史"],
            "advice": f"{SECRET}{i:02d}" if i % 2 == 0 else ""}


def add_officers(session, unit_id: int, n: int, prefix: str) -> list[User]:
    unit = session.get(Unit, unit_id)
    return [make_user(session, f"{prefix}{i}", unit) for i in range(n)]


def submit(session, form: Form, users: list[User], start: int = 0) -> None:
    for i, user in enumerate(users, start):
        sub = services.start(session, form, user)
        outcome = services.save(session, sub, sheet(i), submit=True, now=datetime(2026, 3, 8, 2, i % 60),
                                max_bytes=1 << 20)
        assert not outcome.problems, outcome.problems.by_key


@pytest.fixture
def surveyed(app, city):
    """A survey; station A1 has 6 sheets (officer and officer2 among them), A2 has 4 and B1 has 5."""
    with app.app_context():
        s = db.session
        make_user(s, "inspector", s.get(Unit, city.branch_a), role="inspector")
        # Closed (its deadline before the clock's Monday 10:00): results are published.
        form = make_form(s, city.users["admin"], SURVEY, confidentiality="survey", title="满意度测评",
                         due_at=datetime(2026, 3, 8, 12, 0))
        a1 = [s.get(User, city.users["officer"]), s.get(User, city.users["officer2"])] + add_officers(s, city.station_a1, 4, "a1_")
        a2 = [s.get(User, city.users["officer_a2"])] + add_officers(s, city.station_a2, 3, "a2_")
        b1 = [s.get(User, city.users["officer_b"])] + add_officers(s, city.station_b1, 4, "b1_")
        submit(s, form, a1)
        submit(s, form, a2, 100)
        submit(s, form, b1, 200)
        s.commit()
        own = s.scalar(select(FormSubmission.id).where(FormSubmission.user_id == city.users["officer"]))
        return {"form": form.id, "sub": own, "sheets": {"a1": a1_ids(a1), "a2": a1_ids(a2), "b1": a1_ids(b1)}}


def a1_ids(users):
    return [u.id for u in users]




@pytest.mark.parametrize("username", ["supervisor", "inspector", "leader", "admin", "officer2"])
def test_a16_nobody_but_the_owner_reads_a_survey_sheet(app, surveyed, username):
    """Supervisor, inspector, leader, admin and a colleague: the sheet's page, its files and the form's export are 404."""
    client = _login(app, username)
    sub, form = surveyed["sub"], surveyed["form"]
    for path in (f"/forms/submissions/{sub}", f"/forms/submissions/{sub}/files/1"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert SECRET not in resp.get_data(as_text=True)
    export = client.get(f"/forms/desk/{form}/export.xlsx")
    assert export.status_code == (403 if username == "officer2" else 404)  # officers have no desk at all
    assert client.post(f"/forms/submissions/{sub}/reopen", data={"reason": "x"}).status_code in (403, 404)
    if username != "officer2":
        desk = client.get(f"/forms/desk/{form}").get_data(as_text=True)
        assert f"/forms/submissions/{sub}" not in desk and "导出 Excel" not in desk
        assert "查看测评结果" in desk


def test_the_owner_reads_their_own_sheet(app, surveyed):
    """The person who filled a survey sees their own answers, told nobody else can."""
    page = _login(app, "officer").get(f"/forms/submissions/{surveyed['sub']}")
    assert page.status_code == 200 and f"{SECRET}00" in page.get_data(as_text=True)
    assert "除您本人外，任何人都不能查看您的答卷" in page.get_data(as_text=True)


def test_access_rule_refuses_every_reader_of_a_survey(app, surveyed, city):
    """access.may_read / may_export: False for every role but the owner; the owner may not export either."""
    from app.forms_ import access

    with app.app_context():
        sub = db.session.get(FormSubmission, surveyed["sub"])
        for user in db.session.scalars(select(User)):
            assert access.may_read(db.session, user, sub) is (user.id == sub.user_id), user.username
            assert not access.may_export(user, sub.form)


def _results(app, username, form_id, unit_id=None):
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == username))
        from app.auth.scope import scope_root

        unit = db.session.get(Unit, unit_id) if unit_id else scope_root(db.session, viewer)
        return survey_results(db.session, viewer, db.session.get(Form, form_id), unit, YES_NO, NOW)


def _recount(sheets: list[dict]) -> dict:
    overall = {o: sum(s["overall"] == o for s in sheets) for o in SURVEY["fields"][0]["options"]}
    scores = [float(s["score"]) for s in sheets]
    return {"overall": overall, "mean": sum(scores) / len(scores),
            "yes": sum(s["practical"]["value"] == "yes" for s in sheets),
            "advice": sorted(s["advice"] for s in sheets if s["advice"])}


def test_four_sheets_show_nothing_and_five_show_a_recount(app, surveyed, city):
    """Station A2 (4 sheets) shows no figure; A1 (6) and branch A (10) show counts, shares and means equal to a recount."""
    results = _results(app, "supervisor", surveyed["form"])
    groups = {g.unit_id: g for g in results.groups}
    assert [g.unit_id for g in results.groups] == [city.branch_a, city.station_a1, city.station_a2]
    a2 = groups[city.station_a2]
    assert not a2.shown and a2.reason == "few" and a2.questions == []
    # A1 (6) shown leaves a residual of 4 (A2) under branch A: A1 is suppressed too (complementary).
    a1 = groups[city.station_a1]
    assert not a1.shown and a1.reason == "complement"
    top = groups[city.branch_a]
    assert top.shown and top.count == 10
    expected = _recount([sheet(i) for i in range(6)] + [sheet(i) for i in range(100, 104)])
    by_key = {q.key: q for q in top.questions}
    assert {o.label: o.count for o in by_key["overall"].options} == expected["overall"]
    assert [o.share for o in by_key["overall"].options] == [n / 10 for n in expected["overall"].values()]
    assert by_key["score"].mean == pytest.approx(expected["mean"])
    assert {o.label: o.count for o in by_key["practical"].options} == {"是": expected["yes"], "否": 10 - expected["yes"]}
    assert by_key["advice"].texts == expected["advice"]


def test_a_group_of_exactly_five_shows_figures(app, surveyed, city):
    """Branch B (station B1, exactly 5 sheets) under the city: shown, equal to a recount; 4 texts are not shown."""
    results = _results(app, "leader", surveyed["form"], city.branch_b)
    b, b1 = results.groups
    assert b.shown and b1.shown and b.count == b1.count == 5
    expected = _recount([sheet(i) for i in range(200, 205)])
    overall = next(q for q in b1.questions if q.key == "overall")
    assert {o.label: o.count for o in overall.options} == expected["overall"]
    assert next(q for q in b1.questions if q.key == "score").mean == pytest.approx(expected["mean"])
    advice = next(q for q in b1.questions if q.key == "advice")
    assert advice.answered == 3 and advice.texts is None  # 3 texts among 5 sheets: not shown


def test_a16_results_page_as_supervisor_shows_only_the_subtree(app, surveyed, city):
    """The supervisor of branch A sees branch A and its stations, nothing of branch B; another branch's unit is 403."""
    client = _login(app, "supervisor")
    page = client.get(f"/forms/desk/{surveyed['form']}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "甲分局" in html and "甲一所" in html and "甲二所" in html and "乙分局" not in html and "乙一所" not in html
    assert "答卷不足5份，结果不予显示" in html and "10 份答卷" in html
    assert f"{SECRET}00" in html and html.index(f"{SECRET}00") < html.index(f"{SECRET}02")
    assert "a1_0" not in html and "officer2" not in html  # no names
    assert client.get(f"/forms/desk/{surveyed['form']}/results?unit={city.branch_b}").status_code == 403
    assert client.get(f"/forms/desk/{surveyed['form']}/results?unit=abc").status_code == 400


def test_results_page_as_leader_groups_the_city(app, surveyed, city):
    """The leader sees the city and its top units, subtree totals: 公安局 15 sheets, 法院 nothing."""
    html = _login(app, "leader").get(f"/forms/desk/{surveyed['form']}/results").get_data(as_text=True)
    assert "测试市政法系统" in html and "15 份答卷" in html and "测试市公安局" in html and "测试市法院" in html
    results = _results(app, "leader", surveyed["form"])
    counts = {g.name: (g.count, g.shown) for g in results.groups}
    assert counts == {"测试市政法系统": (15, True), "测试市公安局": (15, True), "测试市法院": (0, False)}


def test_results_of_a_form_that_is_not_a_survey_are_404(app, surveyed, city):
    """A confidential form has no results page; an officer has no results page at all."""
    with app.app_context():
        form = make_form(db.session, city.users["admin"])
        db.session.commit()
        confidential = form.id
    assert _login(app, "leader").get(f"/forms/desk/{confidential}/results").status_code == 404
    assert _login(app, "officer").get(f"/forms/desk/{surveyed['form']}/results").status_code == 403


def test_results_workbook_holds_the_same_aggregates(app, surveyed, city):
    """The .xlsx: suppressed groups say so and carry no figure; the shown group's counts equal the page's."""
    resp = _login(app, "supervisor").get(f"/forms/desk/{surveyed['form']}/results.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    rows = list(book.worksheets[0].iter_rows(min_row=3, values_only=True))
    a2 = [r for r in rows if r[0] and r[0].strip() == "甲二所"]
    assert a2 == [("\u3000甲二所", None, "答卷不足5份，结果不予显示", None, None, None, None)]
    overall = {r[3]: r[4] for r in rows if r[0] == "甲分局" and r[2] == "对本次教育整顿的总体评价"}
    assert overall == _recount([sheet(i) for i in range(6)] + [sheet(i) for i in range(100, 104)])["overall"]
    texts = [r[2] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True) if r[0] == "甲分局"]
    assert texts == sorted(texts) and len(texts) == 5


def test_results_cost_a_fixed_number_of_queries(app, surveyed, city):
    """Sheets, units and versions: the queries do not grow with more sheets, units or survey forms."""
    def count(n_forms):
        with app.app_context():
            viewer = db.session.scalar(select(User).where(User.username == "leader"))
            forms = list(db.session.scalars(select(Form).where(Form.confidentiality == "survey")))[:n_forms]
            root = db.session.get(Unit, city.root)
            seen = []
            listener = lambda conn, cursor, sql, *rest: seen.append(sql)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                results = results_of(db.session, viewer, forms, root, YES_NO, NOW)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return len(seen), results

    few, _ = count(1)
    with app.app_context():
        s = db.session
        extra_unit = s.get(Unit, city.station_b1)
        second = make_form(s, city.users["admin"], SURVEY, confidentiality="survey", title="第二次测评",
                             due_at=datetime(2026, 3, 8, 12, 0))
        submit(s, second, add_officers(s, extra_unit.id, 12, "more_"))
        s.commit()
    many, results = count(2)
    assert len(results) == 2 and results[1].total == 12
    assert many == few <= 6


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 3), st.lists(st.integers(0, 12), max_size=8))
def test_no_shown_parent_leaves_a_small_residual(direct, children):
    """suppress: for any children's sheet counts (and the parent unit's own people's), a shown parent's total minus its shown children is 0 or at least MIN_ANSWERS; groups under MIN_ANSWERS never show."""
    parent = direct + sum(children)
    parent_shown, shown = suppress(parent, children)
    assert parent_shown is (parent >= MIN_ANSWERS)
    assert all(c >= MIN_ANSWERS for c, s in zip(children, shown) if s)
    if parent_shown:
        residual = parent - sum(c for c, s in zip(children, shown) if s)
        assert residual == 0 or residual >= MIN_ANSWERS
        # only what is needed: at most one child suppressed beyond the small ones
        assert sum(1 for c, s in zip(children, shown) if c >= MIN_ANSWERS and not s) <= 1
    else:
        assert not any(shown)


@st.composite
def unit_trees(draw):
    """A random city: unit i > 0 hangs under a unit before it; each unit has 0–7 sheets of its own people."""
    from types import SimpleNamespace

    n = draw(st.integers(1, 14))
    parents = [None] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    direct = {i: draw(st.integers(0, 7)) for i in range(n)}
    return [SimpleNamespace(id=i, parent_id=p) for i, p in enumerate(parents)], direct


@settings(max_examples=400, deadline=None)
@given(unit_trees())
def test_no_page_of_any_unit_reveals_a_small_group(tree):
    """visibility over random unit trees: every shown unit has ≥ MIN_ANSWERS sheets and a residual (less its shown children) of 0 or ≥ MIN_ANSWERS; nothing below a hidden unit is shown — so no page, alone or beside another unit's page, differences down to 1–4 sheets."""
    from app.forms_.survey import visibility

    units, direct = tree
    seen = visibility(units, direct)
    kids = {u.id: [c.id for c in units if c.parent_id == u.id] for u in units}
    for u in units:
        total, shown, reason = seen[u.id]
        assert total == direct[u.id] + sum(seen[c][0] for c in kids[u.id])
        if not shown:
            assert reason == ("few" if total < MIN_ANSWERS else "complement")
            assert not any(seen[c][1] for c in kids[u.id])
            continue
        assert total >= MIN_ANSWERS and (u.parent_id is None or seen[u.parent_id][1])
        residual = total - sum(seen[c][0] for c in kids[u.id] if seen[c][1])
        assert residual == 0 or residual >= MIN_ANSWERS, (u.id, residual)


def test_a_units_own_page_hides_what_its_parents_page_hides(app, surveyed, city):
    """Station A1 (6 sheets) is hidden on branch A's page (else 10 − 6 reveals A2's 4): its own page hides it too, for the supervisor and the leader."""
    for username in ("supervisor", "leader"):
        results = _results(app, username, surveyed["form"], city.station_a1)
        assert not results.groups[0].shown and results.groups[0].reason == "complement", username
    page = _login(app, "supervisor").get(f"/forms/desk/{surveyed['form']}/results?unit={city.station_a1}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "为防止推算出答卷不足5份的单位，结果不予显示" in html
    assert "6 份答卷" not in html and SECRET not in html


def test_builder_offers_the_survey_level_and_keeps_answers_anonymous(app, surveyed, city):
    """The settings form offers 匿名测评 with its help text; a survey with answers cannot be lowered to confidential."""
    admin = _login(app, "admin")
    page = admin.get(f"/forms/manage/{surveyed['form']}").get_data(as_text=True)
    assert 'value="survey"' in page and "不足 5 份答卷时不显示该单位的结果" in page
    resp = admin.post(f"/forms/manage/{surveyed['form']}", data={
        "title": "满意度测评", "confidentiality": "confidential", "stage_id": 0, "target_unit_id": 0,
        "target_roles": ["officer"], "due_at": "2026-03-20T18:00"}, follow_redirects=True)
    assert "不能改为可以查看个人答卷的级别" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Form, surveyed["form"]).confidentiality == "survey"
    assert _login(app, "inspector").get(f"/forms/submissions/{surveyed['sub']}").status_code == 404


def test_migration_0015_widens_the_check_and_keeps_every_row(tmp_path):
    """Upgrading 0014 → 0015 on SQLite keeps forms, versions and submissions (no cascade), then accepts 'survey'; downgrade refuses while a survey exists."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.cli import alembic_config
    from app.db import make_engine
    from tests.factories import bare_form

    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "0014")
    engine = make_engine(url)  # the app's engine: foreign keys ON, as when the migration runs
    with Session(engine) as session:
        user, form, version = bare_form(session)
        # The row as revision 0014 has it (the model has columns added by later revisions).
        session.execute(text("INSERT INTO form_submissions (form_id, version_id, user_id, status, answers_token, "
                             "reopen_reason, updated_at) VALUES (:f, :v, :u, 'submitted', 'tok', '', :at)"),
                        {"f": form.id, "v": version.id, "u": user.id, "at": datetime(2026, 3, 9)})
        session.commit()
    command.upgrade(cfg, "0015")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM form_submissions")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM form_versions")).scalar() == 1
        conn.execute(text("UPDATE forms SET confidentiality = 'survey'"))
        with pytest.raises(Exception):
            conn.execute(text("UPDATE forms SET confidentiality = 'public'"))
    with pytest.raises(RuntimeError, match="survey forms"):
        command.downgrade(cfg, "0014")
    with engine.begin() as conn:
        conn.execute(text("UPDATE forms SET confidentiality = 'open'"))
    command.downgrade(cfg, "0014")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM form_submissions")).scalar() == 1
    engine.dispose()


def test_campaign_report_survey_section_is_the_survey_modules_figures(app, surveyed, city):
    """The campaign report's 满意度测评 section: per question, the same groups, shares and suppression as the results page; page and workbook show it."""
    from app.reports.campaign import CampaignReport
    from app.forms_.survey import question_rows
    from tests.test_campaign_report import build_campaign

    with app.app_context():
        build_campaign(db.session, city)
        db.session.commit()
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        branch = db.session.get(Unit, city.branch_a)
        report = CampaignReport(db.session, branch, app.config["CLOCK"](), viewer=supervisor)
        result = next(res for section, res in report.sections if section.key == "survey")
        expected = survey_results(db.session, supervisor, db.session.get(Form, surveyed["form"]), branch, YES_NO, NOW)
        titles = [str(t.title) for t in result.tables]
        assert titles == [f"满意度测评 · {q['label']}" for q in expected.questions if q["type"] != "textarea"]
        overall = result.tables[0]
        assert overall.rows == question_rows(expected, "overall")
        assert [row["count"] for row in overall.rows] == [10, None, None]
        assert overall.rows[2]["note"] == "答卷不足5份，结果不予显示" and overall.rows[2].get("o0") is None
        assert dict((str(k), v) for k, v, _kind in result.headline) == {"满意度测评答卷": 10}
    client = _login(app, "supervisor")
    page = client.get("/reports/campaign").get_data(as_text=True)
    assert 'id="section-survey"' in page and "答卷不足5份，结果不予显示" in page and SECRET not in page
    book = load_workbook(io.BytesIO(client.get("/reports/campaign.xlsx").data))
    assert "满意度测评" in book.sheetnames
    cells = [c for row in book["满意度测评"].iter_rows(values_only=True) for c in row if c]
    assert "答卷不足5份，结果不予显示" in cells and not any(SECRET in str(c) for c in cells)


def test_campaign_survey_section_queries_do_not_grow_with_surveys(app, surveyed, city):
    """Issue 17 point 5: one survey or two, the campaign report costs the same number of queries."""
    from app.reports.campaign import CampaignReport
    from tests.test_campaign_report import build_campaign

    with app.app_context():
        build_campaign(db.session, city)
        db.session.commit()

    def count():
        with app.app_context():
            leader = db.session.scalar(select(User).where(User.username == "leader"))
            root = db.session.get(Unit, city.root)
            seen = []
            listener = lambda conn, cursor, sql, *rest: seen.append(sql)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                report = CampaignReport(db.session, root, app.config["CLOCK"](), viewer=leader)
                tables = next(res for section, res in report.sections if section.key == "survey").tables
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return len(seen), len(tables)

    few, one = count()
    with app.app_context():
        make_form(db.session, city.users["admin"], SURVEY, confidentiality="survey", title="第二次测评",
                             due_at=datetime(2026, 3, 8, 12, 0))
        db.session.commit()
    many, two = count()
    assert two == 2 * one and many == few


# --- a survey closes at its deadline; only then are its results published ----------------------

def test_results_are_published_only_once_the_survey_is_closed(app, city, clock):
    """While a survey takes answers its results page, workbook and campaign section show no figure (watching them before and after a colleague submits would reveal the colleague's answers); at the deadline they appear."""
    with app.app_context():
        s = db.session
        form = make_form(s, city.users["admin"], SURVEY, confidentiality="survey", title="进行中测评",
                         due_at=clock.now + timedelta(days=1))
        submit(s, form, add_officers(s, city.station_a1, 6, "open_"))
        from tests.test_campaign_report import build_campaign

        build_campaign(s, city)
        s.commit()
        form_id = form.id
    leader = _login(app, "leader")
    html = leader.get(f"/forms/desk/{form_id}/results").get_data(as_text=True)
    assert "测评进行中" in html and "份答卷" not in html and "sv-bar" not in html
    book = load_workbook(io.BytesIO(leader.get(f"/forms/desk/{form_id}/results.xlsx").data))
    assert not any(isinstance(c, (int, float)) for row in book.active.iter_rows(values_only=True) for c in row)
    assert "《进行中测评》截止后公布结果" in leader.get("/reports/campaign").get_data(as_text=True)
    clock.advance(days=1)
    html = _login(app, "leader").get(f"/forms/desk/{form_id}/results").get_data(as_text=True)
    assert "测评进行中" not in html and "6 份答卷" in html and "sv-bar" in html


def test_a_closed_survey_takes_no_answers_and_asks_nobody(app, surveyed, city, clock):
    """After its deadline a survey refuses answers on the page, the autosave and the API, changing nothing; it is 已结束 on the person's list, off their task list, overdue for nobody and reminds nobody."""
    from app.forms_ import queries, remind

    fid = surveyed["form"]
    late = _login(app, "officer_c")
    resp = late.get(f"/forms/{fid}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/forms/")
    resp = late.post(f"/forms/{fid}", data={"f_overall": "满意", "action": "submit"})
    assert resp.status_code == 422 and "这份测评已于截止时间结束" in resp.get_data(as_text=True)
    assert late.post(f"/forms/{fid}/autosave", data={"f_overall": "满意"}).status_code == 409
    resp = late.put(f"/api/v1/forms/{fid}/draft", json={"answers": {"overall": "满意"}})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "closed"
    assert late.get("/api/v1/forms").get_json()["forms"][0]["closed"] is True
    with app.app_context():
        assert db.session.scalar(select(FormSubmission).where(
            FormSubmission.user_id == city.users["officer_c"])) is None
        form = db.session.get(Form, fid)
        assert queries.is_closed(form, clock.now) and not queries.is_overdue(form, clock.now)
        assert remind.reminder_for(form, clock.now) is None
        assert remind.remind(db.session, clock.now)["sent"] == 0
    listing = late.get("/forms/").get_data(as_text=True)
    assert "已结束" in listing and f'href="/forms/{fid}"' not in listing
    assert "满意度测评" not in late.get("/tasks/").get_data(as_text=True)
