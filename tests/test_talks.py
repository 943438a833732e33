"""谈心谈话 records (issue 17 point 4): recorded only about officers in scope; the note is read by
its author and the 纪检督察 of the officer's subtree (audited), 404 for everyone else; stored
encrypted and covered by key rotation; 谈心谈话覆盖率 equals a recount."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import func, select

from app.db import db
from app.forms_ import crypto
from app.models import AuditLog, Campaign, CampaignStage, Talk, Unit, User
from tests.factories import make_user, signed_in as _login

NOTE = "家中老人住院，情绪低落ZEBRATALK"




@pytest.fixture
def talks(app, city):
    """Stages (查纠整改 is current on the test clock's 2026-03-09); inspectors of branches A and B;
    the supervisor of branch A records a talk with ``officer`` (station A1) through the page."""
    with app.app_context():
        campaign = Campaign(name="测试市教育整顿")
        db.session.add(campaign)
        db.session.flush()
        for code, name, start, end in (("study", "学习教育", date(2026, 2, 23), date(2026, 3, 1)),
                                       ("rectify", "查纠整改", date(2026, 3, 2), date(2026, 3, 15)),
                                       ("summary", "总结提升", date(2026, 3, 16), date(2026, 3, 29))):
            db.session.add(CampaignStage(campaign_id=campaign.id, code=code, name=name, starts_on=start, ends_on=end))
        make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector")
        make_user(db.session, "inspector_b", db.session.get(Unit, city.branch_b), role="inspector")
        db.session.commit()
    author = _login(app, "supervisor")
    resp = author.post(f"/talks/new?unit={city.station_a1}", data={
        "officer_id": city.users["officer"], "talked_on": "2026-03-08", "kind": "heart",
        "topics": ["family", "pressure"], "note": NOTE})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    with app.app_context():
        talk = db.session.scalar(select(Talk))
        return {"id": talk.id, "author": author}


def _reads(app, talk_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.action == "talk.read", AuditLog.target_id == str(talk_id)))


def test_a_talk_is_recorded_in_scope_with_a_sealed_note(app, city, talks):
    """The supervisor's talk is stored with its day, kind and topics; the note only as a token that opens to it."""
    with app.app_context():
        talk = db.session.get(Talk, talks["id"])
        assert (talk.officer_id, talk.kind, talk.topic_codes) == (city.users["officer"], "heart", ["pressure", "family"])
        assert NOTE not in talk.note_token and crypto.open_json(talk.note_token) == NOTE
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "talk.record")) == 1


def test_recording_outside_scope_changes_nothing(app, city, talks):
    """A unit outside the supervisor's subtree is refused (403); an officer of another subtree is not a choice (422); no row is added."""
    client = talks["author"]
    data = {"officer_id": city.users["officer_b"], "talked_on": "2026-03-08", "kind": "heart", "topics": ["other"]}
    assert client.post(f"/talks/new?unit={city.station_b1}", data=data).status_code == 403
    assert client.post(f"/talks/new?unit={city.station_a1}", data=data).status_code == 422
    future = {**data, "officer_id": city.users["officer"], "talked_on": "2026-03-10"}
    assert "不能晚于今天" in client.post(f"/talks/new?unit={city.station_a1}", data=future).get_data(as_text=True)
    assert _login(app, "officer").post(f"/talks/new?unit={city.station_a1}", data=data).status_code in (403, 404)
    with app.app_context():
        assert db.session.scalar(select(func.count(Talk.id))) == 1


def test_the_note_is_read_by_its_author_and_the_subtree_inspector_only(app, city, talks):
    """Author and branch A's inspector read the note; the officer sees day and kind only; others get 404."""
    url = f"/talks/{talks['id']}"
    assert NOTE in talks["author"].get(url).get_data(as_text=True)
    assert NOTE in _login(app, "inspector").get(url).get_data(as_text=True)
    own = _login(app, "officer").get(url)
    assert own.status_code == 200 and NOTE not in own.get_data(as_text=True) and "2026-03-08" in own.get_data(as_text=True)
    for username in ("supervisor_b", "leader", "admin", "inspector_b", "officer2"):
        assert _login(app, username).get(url).status_code == 404, username
    assert _login(app, "leader").get("/talks/999999").status_code == 404


def test_every_read_by_someone_else_is_audited(app, talks):
    """The author's reads write nothing; each read by the inspector writes one talk.read row."""
    talks["author"].get(f"/talks/{talks['id']}")
    assert _reads(app, talks["id"]) == 0
    inspector = _login(app, "inspector")
    inspector.get(f"/talks/{talks['id']}")
    inspector.get(f"/talks/{talks['id']}")
    assert _reads(app, talks["id"]) == 2
    _login(app, "officer").get(f"/talks/{talks['id']}")
    assert _reads(app, talks["id"]) == 2


def test_database_file_holds_no_plaintext_note(app, talks, database_url):
    """The SQLite file (and its WAL) hold the talk but no byte of its note."""
    if not database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite file itself")
    with app.app_context():
        db.engine.dispose()
    path = Path(database_url[len("sqlite:///"):])
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert "查纠整改".encode() in raw
    assert b"ZEBRATALK" not in raw and NOTE.encode() not in raw


def test_key_rotation_reencrypts_talk_notes(app, talks, runner):
    """`flask forms rotate-key` re-encrypts talk notes too: the new key opens the note, the old one no longer does."""
    old = list(app.config["FORMS_KEYS"])
    result = runner.invoke(args=["forms", "rotate-key"])
    assert result.exit_code == 0, result.output
    new = (Path(app.config["INSTANCE_PATH"]) / "forms_keys").read_text().strip()
    with app.app_context():
        token = db.session.get(Talk, talks["id"]).note_token
        assert crypto.open_json(token, [new]) == NOTE
        with pytest.raises(InvalidToken):
            crypto.open_json(token, old)


def test_coverage_equals_a_recount(app, city, talks):
    """谈心谈话覆盖率 of every unit equals a recount: active officers of the subtree with a talk this stage ÷ active officers."""
    from app.talks import queries, services

    with app.app_context():
        session = db.session
        supervisor = session.get(User, city.users["supervisor"])
        supervisor_b = session.get(User, city.users["supervisor_b"])
        # another talk with the same officer, one in the previous stage (not counted), one in branch B
        today = date(2026, 3, 9)
        services.record_talk(session, supervisor, session.get(User, city.users["officer"]), date(2026, 3, 3),
                             "reminder", ["integrity"], "", today)
        services.record_talk(session, supervisor, session.get(User, city.users["officer_a2"]), date(2026, 2, 25),
                             "heart", ["thought"], "", today)
        services.record_talk(session, supervisor_b, session.get(User, city.users["officer_b"]), date(2026, 3, 9),
                             "home", ["family"], "", today)
        session.commit()
        stage_start, stage_end = date(2026, 3, 2), date(2026, 3, 15)
        talked = {t.officer_id for t in session.scalars(select(Talk)) if stage_start <= t.talked_on <= stage_end}
        officers = [u for u in session.scalars(select(User)) if u.role == "officer" and u.is_active]
        units = {u.id: u for u in session.scalars(select(Unit))}
        for unit in units.values():
            cov = queries.coverage(session, unit, today)
            if cov.top is None:
                continue
            mine = [o for o in officers if units[o.unit_id].path.startswith(unit.path)]
            assert (cov.top.officers, cov.top.talked) == (len(mine), sum(o.id in talked for o in mine)), unit.name
        root = queries.coverage(session, units[city.root], today)
        assert (root.top.talked, root.top.officers) == (2, 5)
    page = _login(app, "supervisor").get("/talks/").get_data(as_text=True)
    assert "谈心谈话覆盖率" in page and NOTE not in page


def test_coverage_page_and_dashboard_card_show_counts_only(app, city, talks):
    """Leaders and admins see coverage on /talks/ and the dashboard, never a note; officers see only their own talks."""
    for username in ("leader", "admin"):
        client = _login(app, username)
        page = client.get("/talks/")
        assert page.status_code == 200 and "谈心谈话覆盖率" in page.get_data(as_text=True)
        assert NOTE not in page.get_data(as_text=True)
    dash = _login(app, "leader").get("/reports/")
    assert dash.status_code == 200 and 'id="dashboard-talks"' in dash.get_data(as_text=True)
    mine = _login(app, "officer").get("/talks/").get_data(as_text=True)
    assert "2026-03-08" in mine and NOTE not in mine


def test_campaign_report_talks_section_equals_a_recount(app, city, talks):
    """The campaign report's 谈心谈话 part (officers, talked with, talks, coverage per subtree) equals a recount of the rows."""
    from app.reports.campaign import CampaignReport
    from app.talks import services

    with app.app_context():
        session = db.session
        supervisor = session.get(User, city.users["supervisor"])
        today = date(2026, 3, 9)
        services.record_talk(session, supervisor, session.get(User, city.users["officer"]), date(2026, 2, 24),
                             "admonish", ["integrity"], "", today)
        services.record_talk(session, supervisor, session.get(User, city.users["officer_a2"]), date(2026, 2, 25),
                             "heart", ["thought"], "", today)
        session.commit()
        talks_rows = session.scalars(select(Talk)).all()
        officers = [u for u in session.scalars(select(User)) if u.role == "officer" and u.is_active]
        units = {u.id: u for u in session.scalars(select(Unit))}

        report = CampaignReport(session, units[city.root], app.config["CLOCK"].now)
        result = next(res for sec, res in report.sections if sec.key == "talks")
        for row in result.tables[0].rows:
            mine = [o for o in officers if units[o.unit_id].path.startswith(units[row["unit_id"]].path)]
            ids = {o.id for o in mine}
            talked = {t.officer_id for t in talks_rows if t.officer_id in ids}
            assert (row["officers"], row["talked"], row["talks"]) == \
                (len(mine), len(talked), sum(t.officer_id in ids for t in talks_rows)), row["unit_name"]
            assert row["rate"] == (len(talked) / len(mine) if mine else None)
        assert result.headline[0][1] == 3


def test_coverage_costs_a_fixed_number_of_queries(app, city, talks):
    """谈心谈话覆盖率 costs the same three queries for the whole city as for one station, however many officers and talks."""
    from sqlalchemy import event

    from app.talks import queries

    def count(unit_id):
        seen = []
        listener = lambda conn, cursor, sql, *rest: seen.append(sql)  # noqa: E731
        with app.app_context():
            unit = db.session.get(Unit, unit_id)
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                queries.coverage(db.session, unit, date(2026, 3, 9))
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert count(city.root) == count(city.station_a1) == 3


def test_a36_a_talk_without_topics_or_kind_changes_nothing(app, city, talks):
    """Bad input (no topic, an unknown kind or topic, a malformed date) gets a clear message and adds no row."""
    client = talks["author"]
    base = {"officer_id": city.users["officer2"], "talked_on": "2026-03-08", "kind": "heart", "topics": ["other"]}
    for bad, message in (({"topics": []}, "请至少选择一项谈话内容"), ({"kind": "chat"}, "谈话类型"),
                         ({"topics": ["gossip"]}, "谈话内容"), ({"talked_on": "2026-13-40"}, "谈话日期")):
        resp = client.post(f"/talks/new?unit={city.station_a1}", data={**base, **bad})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    with app.app_context():
        assert db.session.scalar(select(func.count(Talk.id))) == 1


def test_officer_lists_own_talks_with_recorder_never_the_note(app, city, talks):
    """我的谈心谈话 (linked from 我的): the officer's own talks with day, kind and the recorder's role and unit; no note, no topic, nobody else's talk."""
    from app.talks import services

    with app.app_context():
        session = db.session
        other = services.record_talk(session, session.get(User, city.users["supervisor"]),
                                     session.get(User, city.users["officer2"]), date(2026, 3, 7), "admonish",
                                     ["integrity"], "OTHERNOTE", date(2026, 3, 9))
        session.commit()
        other_id = other.id
    officer = _login(app, "officer")
    assert 'href="/talks/"' in officer.get("/me").get_data(as_text=True)
    page = officer.get("/talks/").get_data(as_text=True)
    assert f'id="my-talk-{talks["id"]}"' in page and f'id="my-talk-{other_id}"' not in page
    assert "2026-03-08" in page and "谈心谈话" in page and "单位管理员 · 甲分局" in page
    assert NOTE not in page and "OTHERNOTE" not in page and "家庭困难" not in page and "2026-03-07" not in page
    shown = officer.get(f"/talks/{talks['id']}").get_data(as_text=True)
    assert NOTE not in shown and "家庭困难" not in shown


def test_officer_sees_who_read_the_note_of_their_talk(app, city, talks):
    """F6: the officer's talk page lists every talk.read (who, unit, when), newest first, as 查阅记录 does for forms; the author's reads are not listed."""
    officer = _login(app, "officer")
    page = officer.get(f"/talks/{talks['id']}").get_data(as_text=True)
    assert 'id="talk-reads"' in page and "还没有人查看过" in page
    talks["author"].get(f"/talks/{talks['id']}")  # the author reads their own note: not a read by someone else
    inspector = _login(app, "inspector")
    inspector.get(f"/talks/{talks['id']}")
    inspector.get(f"/talks/{talks['id']}")
    page = officer.get(f"/talks/{talks['id']}").get_data(as_text=True)
    reads = page[page.index('id="talk-reads"'):]
    with app.app_context():
        name = db.session.scalar(select(User.name).where(User.username == "inspector"))
    # Each line: when (local time of the audit row), who, their unit.
    assert len(re.findall(rf"<li>\d{{4}}-\d\d-\d\d \d\d:\d\d · {name}（甲分局）</li>", reads)) == 2, reads[:600]
    assert NOTE not in page
    # Only the officer gets the list: the note's readers see the note, not who else read it.
    assert 'id="talk-reads"' not in inspector.get(f"/talks/{talks['id']}").get_data(as_text=True)
    assert 'id="talk-reads"' not in talks["author"].get(f"/talks/{talks['id']}").get_data(as_text=True)


def test_officer_talk_page_names_the_recorder_with_role_and_unit(app, city, talks):
    """F6(b): the officer attended the talk, so its page names the recorder, with their role and unit (the list shows role and unit)."""
    with app.app_context():
        name = db.session.scalar(select(User.name).where(User.username == "supervisor"))
    page = _login(app, "officer").get(f"/talks/{talks['id']}").get_data(as_text=True)
    assert f"{name}（单位管理员 · 甲分局）" in page


def test_another_officers_talk_is_404(app, city, talks):
    """A talk recorded with someone else answers 404 to an officer, as if it did not exist."""
    assert _login(app, "officer2").get(f"/talks/{talks['id']}").status_code == 404
    assert _login(app, "officer_b").get(f"/talks/{talks['id']}").status_code == 404


def test_officer_without_talks_sees_the_empty_state(app, city, talks):
    """An officer nobody has talked with gets the designed empty state, not an empty list."""
    page = _login(app, "officer2").get("/talks/").get_data(as_text=True)
    assert 'id="my-talks-empty"' in page and "还没有与您的谈话记录" in page and 'id="my-talks"' not in page


def test_the_record_page_lists_the_whole_subtree_by_unit_marking_who_was_talked_with(app, city, talks):
    """记录谈话 offers every active officer of the recorder's subtree at once, grouped by unit (no second round trip), marks those already talked with this stage, and nobody outside the subtree."""
    page = talks["author"].get("/talks/new").get_data(as_text=True)
    assert page.count("<optgroup") >= 2 and "没有在岗干警" not in page
    with app.app_context():
        officer, officer_a2, officer_b = (db.session.get(User, city.users[k]) for k in ("officer", "officer_a2", "officer_b"))
        assert f"{officer.name}（{officer.badge_no}） · 本阶段已谈" in page
        assert f"{officer_a2.name}（{officer_a2.badge_no}）" in page and f"{officer_a2.name}（{officer_a2.badge_no}） · 本阶段已谈" not in page
        assert f"{officer_b.name}（{officer_b.badge_no}）" not in page
