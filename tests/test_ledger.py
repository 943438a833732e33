"""The rectification ledger (整改台账) and 督办令 (issue 17 point 3), on SQLite and PostgreSQL:
销号 only by the supervisor above, evidence checked by content, overdue flags and reminders on a
frozen clock, escalation of unanswered orders, and unit scope (404 outside it)."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.db import db
from app.ledger import evidence, queries, services
from app.models import AuditLog, LedgerItem, Notification, SupervisionTarget, User
from app.timeutils import local_day
from tests.factories import make_user


def jpeg(size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def login(app, auth, username):
    client = app.test_client()
    assert auth.login(client, username).status_code in (200, 302)
    return client


@pytest.fixture
def ledger(app, city, clock):
    """A station supervisor of A1 (``sup_a1``) and one open item of A1, the officer responsible."""
    with app.app_context():
        s = db.session
        sup_a1 = make_user(s, "sup_a1", s.get(User, city.users["officer"]).unit, "supervisor")
        item = services.create_item(s, s.get(User, city.users["supervisor"]), unit_id=city.station_a1, source="self",
                                    category="interference", description="过问案件未登记", measures="逐人学习三个规定",
                                    responsible_id=city.users["officer"], deadline=local_day(clock.now) + timedelta(days=5),
                                    now=clock.now)
        s.commit()
        return {"item": item.id, "sup_a1": sup_a1.id}


def item_row(app, item_id) -> LedgerItem:
    with app.app_context():
        row = db.session.get(LedgerItem, item_id)
        db.session.expunge(row)
        return row


def ledger_files(app) -> list[Path]:
    folder = Path(app.config["INSTANCE_PATH"]) / "media" / "ledger"
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def submit(client, item_id, text="已整改，附照片", files=None):
    data = {"text": text, "action": "submit"}
    if files:
        data["files"] = files
    return client.post(f"/ledger/items/{item_id}/evidence", content_type="multipart/form-data", data=data)


def test_close_requires_the_supervisor_above(app, city, auth, ledger):
    """销号: the unit's own supervisor asks with a photo and is refused the close (403); another
    branch's supervisor gets 404; the office is refused while a supervisor sits above; the branch
    supervisor above accepts, and the item is closed with an audit row."""
    item = ledger["item"]
    own = login(app, auth, "sup_a1")
    resp = submit(own, item, files=[(io.BytesIO(jpeg()), "scene.jpg")])
    assert resp.status_code == 302
    row = item_row(app, item)
    assert row.status == "submitted" and row.submitted_by_id == ledger["sup_a1"]
    assert own.post(f"/ledger/items/{item}/review", data={"action": "accept"}).status_code == 403
    assert item_row(app, item).status == "submitted"
    other = login(app, auth, "supervisor_b")
    assert other.get(f"/ledger/items/{item}").status_code == 404
    assert other.post(f"/ledger/items/{item}/review", data={"action": "accept"}).status_code == 404
    office = login(app, auth, "admin")
    assert office.post(f"/ledger/items/{item}/review", data={"action": "accept"}).status_code == 403
    assert item_row(app, item).status == "submitted"
    above = login(app, auth, "supervisor")
    page = above.get(f"/ledger/items/{item}").get_data(as_text=True)
    assert 'id="review-form"' in page and "<img" in page
    assert above.post(f"/ledger/items/{item}/review", data={"action": "accept"}).status_code == 302
    row = item_row(app, item)
    assert row.status == "closed" and row.closed_at is not None and row.reviewed_by_id == city.users["supervisor"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "ledger.review")) == 1
        denied = db.session.scalars(select(AuditLog.actor_name).where(AuditLog.action == "access.denied",
                                                                     AuditLog.target_type == "ledgeritem")).all()
        assert sorted(denied) == ["admin", "sup_a1"]


def test_return_needs_a_reason_and_reopens_the_item(app, city, auth, ledger):
    """退回 without a reason changes nothing; with one the item goes back to the unit, which is told why."""
    item = ledger["item"]
    assert submit(login(app, auth, "officer"), item).status_code == 302
    above = login(app, auth, "supervisor")
    above.post(f"/ledger/items/{item}/review", data={"action": "return", "reason": ""})
    assert item_row(app, item).status == "submitted"
    above.post(f"/ledger/items/{item}/review", data={"action": "return", "reason": "照片看不出整改结果"})
    row = item_row(app, item)
    assert row.status == "returned" and row.return_reason == "照片看不出整改结果"
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.kind == "ledger_reviewed"))
        assert note.user_id == city.users["officer"] and "照片" in note.body
    assert submit(login(app, auth, "officer"), item, text="补充了整改台账").status_code == 302
    assert item_row(app, item).status == "submitted"


def test_branch_item_without_a_supervisor_above_is_closed_by_the_office(app, city, auth, clock):
    """A unit with no supervisor above it (branch A: its system has none) is closed by the campaign
    office; the branch's own supervisor may not close it."""
    with app.app_context():
        s = db.session
        item = services.create_item(s, s.get(User, city.users["supervisor"]), unit_id=city.branch_a, source="inspection",
                                    category="lending", description="中层干部向企业借款", measures="清退",
                                    responsible_id=city.users["supervisor"], deadline=local_day(clock.now), now=clock.now)
        s.commit()
        item_id = item.id
    own = login(app, auth, "supervisor")
    assert submit(own, item_id).status_code == 302
    assert own.post(f"/ledger/items/{item_id}/review", data={"action": "accept"}).status_code == 403
    office = login(app, auth, "admin")
    assert office.post(f"/ledger/items/{item_id}/review", data={"action": "accept"}).status_code == 302
    assert item_row(app, item_id).status == "closed"


def test_recording_checks_unit_person_and_deadline(app, city, clock):
    """The person responsible must belong to the unit, the deadline may not be past, and a
    supervisor records only inside their subtree; a refusal stores nothing."""
    with app.app_context():
        s = db.session
        sup = s.get(User, city.users["supervisor"])
        today = local_day(clock.now)
        base = dict(unit_id=city.station_a1, source="self", category="other", description="窗口服务不规范",
                    measures="整改", responsible_id=city.users["officer"], deadline=today, now=clock.now)
        for change, code in ((dict(responsible_id=city.users["officer_b"]), "bad_responsible"),
                             (dict(deadline=today - timedelta(days=1)), "deadline_past"),
                             (dict(unit_id=city.station_b1, responsible_id=city.users["officer_b"]), "not_in_scope"),
                             (dict(category="保护伞"), "bad_choice")):
            with pytest.raises(services.LedgerError) as err:
                services.create_item(s, sup, **{**base, **change})
            assert err.value.code == code
        assert s.scalar(select(func.count(LedgerItem.id))) == 0


def test_a34_evidence_is_checked_by_content(make_app, city, auth, ledger):
    """A34: a web page named .jpg is refused (422), an oversized photo too, a request over the cap
    gets 413; nothing is stored. A PNG is kept as a re-encoded JPEG and a PDF as a PDF, each served
    only to people who may see the item."""
    app = make_app(LEDGER_FILE_MAX_BYTES=60_000)
    client = login(app, auth, "officer")
    item = ledger["item"]
    resp = submit(client, item, files=[(io.BytesIO(b"<html><script>alert(1)</script></html>"), "p.jpg")])
    assert resp.status_code == 422 and "不是照片或 PDF" in resp.get_data(as_text=True)
    noisy = io.BytesIO()
    Image.effect_noise((800, 800), 80).convert("RGB").save(noisy, format="JPEG")
    resp = submit(client, item, files=[(io.BytesIO(noisy.getvalue()), "big.jpg")])
    assert resp.status_code == 422 and "上限" in resp.get_data(as_text=True)
    huge = b"%PDF-" + b"0" * (7 * 60_000 + 300_000)
    assert submit(client, item, files=[(io.BytesIO(huge), "a.pdf")]).status_code == 413
    assert ledger_files(app) == [] and item_row(app, item).status == "open"
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(png, format="PNG")
    resp = submit(client, item, files=[(io.BytesIO(png.getvalue()), "../../x.html"), (io.BytesIO(PDF), "r.pdf")])
    assert resp.status_code == 302
    kinds = sorted(p.suffix for p in ledger_files(app))
    assert kinds == [".jpg", ".pdf"]
    with app.app_context():
        files = {e.kind: e.id for e in db.session.get(LedgerItem, item).evidence}
    photo = client.get(f"/ledger/items/{item}/files/{files['photo']}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:3] == b"\xff\xd8\xff"
    doc = login(app, auth, "supervisor").get(f"/ledger/items/{item}/files/{files['pdf']}")
    assert doc.status_code == 200 and doc.data.startswith(b"%PDF-") and "attachment" in doc.headers["Content-Disposition"]
    for who in ("supervisor_b", "officer2"):
        assert login(app, auth, who).get(f"/ledger/items/{item}/files/{files['photo']}").status_code == 404


def test_a16_ledger_scope(app, city, auth, ledger):
    """A16: an item is 404 to staff outside its subtree and to officers not responsible for it;
    a unit outside the supervisor's subtree is 403; the list shows only the subtree's items."""
    item = ledger["item"]
    other = login(app, auth, "supervisor_b")
    assert other.get(f"/ledger/?unit={city.branch_a}").status_code == 403
    assert f"ledger-item-{item}" not in other.get("/ledger/?status=all").get_data(as_text=True)
    assert login(app, auth, "officer2").get(f"/ledger/items/{item}").status_code == 404
    assert login(app, auth, "officer2").post(f"/ledger/items/{item}/evidence",
                                             data={"text": "冒名提交", "action": "submit"}).status_code == 404
    assert item_row(app, item).status == "open"
    assert login(app, auth, "leader").get(f"/ledger/items/{item}").status_code == 200
    mine = login(app, auth, "supervisor").get("/ledger/?status=all").get_data(as_text=True)
    assert f"ledger-item-{item}" in mine


def test_overdue_flag_and_daily_reminder(app, city, clock, ledger):
    """Overdue = not closed and the deadline (a Beijing day) before today, on a frozen clock; the
    reminder reaches the person responsible at most once a day, and never for a closed item."""
    with app.app_context():
        s = db.session
        row = s.get(LedgerItem, ledger["item"])
        row.deadline = local_day(clock.now)
        s.commit()
        assert not queries.is_overdue(row, local_day(clock.now))
        assert services.remind_overdue(s, clock.now) == 0
        later = clock.advance(days=1)
        root = s.get(User, city.users["admin"]).unit
        top = queries.unit_figures(s, root, local_day(later))[0]
        assert top.sums.overdue == 1 and top.sums.found == 1
        assert services.remind_overdue(s, later) == 1
        assert services.remind_overdue(s, later + timedelta(hours=3)) == 0
        s.commit()
        assert services.remind_overdue(s, later + timedelta(days=1)) == 1
        s.get(LedgerItem, ledger["item"]).status = "closed"
        s.commit()
        assert services.remind_overdue(s, later + timedelta(days=2)) == 0
        notes = s.scalars(select(Notification).where(Notification.kind == "ledger_overdue")).all()
        assert [n.user_id for n in notes] == [city.users["officer"]] * 2


def test_order_escalation_when_a_unit_misses_the_deadline(app, city, auth, clock, ledger):
    """督办令: A1 answers in time (text and a PDF), B1 does not; after the deadline B1 is escalated
    once — its parent's supervisor and the office are told — and the office sees each unit's state."""
    with app.app_context():
        s = db.session
        order = services.create_order(s, s.get(User, city.users["admin"]), title="近亲属从业情况报告",
                                      body="如实报告", deadline=local_day(clock.now) + timedelta(days=2),
                                      unit_ids=[city.station_a1, city.station_b1], now=clock.now)
        make_user(s, "sup_b1", s.get(User, city.users["officer_b"]).unit, "supervisor")
        s.commit()
        order_id = order.id
    own = login(app, auth, "sup_a1")
    assert own.post(f"/ledger/orders/{order_id}/respond", content_type="multipart/form-data",
                    data={"text": "已逐人报告，无违规情况", "file": (io.BytesIO(PDF), "r.pdf")}).status_code == 302
    assert login(app, auth, "supervisor").post(f"/ledger/orders/{order_id}/respond",
                                               data={"text": "上级代答"}).status_code == 403
    with app.app_context():
        s = db.session
        assert services.escalate_orders(s, clock.now) == 0
        late = clock.advance(days=3)
        assert services.escalate_orders(s, late) == 1
        s.commit()
        assert services.escalate_orders(s, late + timedelta(days=1)) == 0
        targets = {t.unit_id: t for t in s.scalars(select(SupervisionTarget))}
        assert targets[city.station_b1].escalated_at is not None and targets[city.station_a1].escalated_at is None
        told = set(s.scalars(select(Notification.user_id).where(Notification.kind == "order_escalated")))
        assert told == {city.users["supervisor_b"], city.users["admin"]}
        a1 = targets[city.station_a1]
        assert queries.target_state(a1, a1.order, local_day(late)) == "responded"
        assert queries.target_state(targets[city.station_b1], a1.order, local_day(late)) == "escalated"
    page = login(app, auth, "admin").get(f"/ledger/orders/{order_id}").get_data(as_text=True)
    assert "已回复" in page and "已升级督办" in page
    b_view = login(app, auth, "supervisor_b").get(f"/ledger/orders/{order_id}").get_data(as_text=True)
    assert "已升级督办" in b_view and "已逐人报告" not in b_view
    assert login(app, auth, "officer").get(f"/ledger/orders/{order_id}").status_code == 403


def test_job_is_registered_and_idempotent(app, city, clock, ledger):
    """The daily ledger job is in the scheduler's registry; run twice it sends nothing twice."""
    from app.jobguard import JOBS
    from app.ledger import jobs

    assert any(j.name == "ledger_daily" for j in JOBS)
    with app.app_context():
        db.session.get(LedgerItem, ledger["item"]).deadline = local_day(clock.now) - timedelta(days=1)
        db.session.commit()
    assert jobs.ledger_daily_job(app) == (1, 0)
    assert jobs.ledger_daily_job(app) == (0, 0)


def test_demo_ledger(app, clock):
    """seed demo: ledger items in several units (some closed, one overdue, one waiting for 销号
    with a photo and a PDF and its notice to ``supervisor``), 督办令 answered (one with a photo)
    and not yet (one by 坞城派出所, which ``wucheng`` supervises), and evidence files on disk."""
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        s = db.session
        today = local_day(clock.now)
        items = s.scalars(select(LedgerItem)).all()
        assert len({i.unit_id for i in items}) >= 4
        assert sum(i.status == "closed" for i in items) >= 2
        assert sum(queries.is_overdue(i, today) for i in items) == 1
        assert sum(i.status == "submitted" for i in items) == 1
        states = sorted(queries.target_state(t, t.order, today) for t in s.scalars(select(SupervisionTarget)))
        assert states == ["pending", "pending", "responded", "responded"]
        wucheng = s.scalar(select(User).where(User.username == "wucheng"))
        officer = s.scalar(select(User).where(User.username == "officer"))
        assert wucheng.role == "supervisor" and wucheng.unit_id == officer.unit_id and wucheng.is_demo
        assert [o.title for o in queries.orders_to_answer(s, wucheng)]
        waiting = next(i for i in items if i.status == "submitted")
        assert sorted(e.kind for e in waiting.evidence) == ["pdf", "photo"]
        names = [e.file_name for i in items for e in i.evidence]
        names += [t.attachment for t in s.scalars(select(SupervisionTarget)) if t.attachment]
        assert len(names) >= 4 and all((evidence.folder() / n).is_file() for n in names)
        sup = s.scalar(select(User).where(User.username == "supervisor"))
        assert s.scalar(select(Notification.link).where(Notification.user_id == sup.id,
                                                        Notification.kind == "ledger_submitted")) \
            == f"/ledger/items/{waiting.id}"
    client = app.test_client()
    assert client.post("/login", data={"username": "wucheng", "password": "tiejun2021"}).status_code == 302


def test_cli_daily_runs_the_job_by_hand(app, city, clock, ledger):
    """``flask ledger daily`` reminds and escalates as the scheduled job does, once."""
    with app.app_context():
        db.session.get(LedgerItem, ledger["item"]).deadline = local_day(clock.now) - timedelta(days=1)
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["ledger", "daily"])
    assert first.exit_code == 0 and "overdue reminders sent: 1" in first.output
    assert "overdue reminders sent: 0" in runner.invoke(args=["ledger", "daily"]).output


def test_a25_export_lists_the_subtree_items_formula_safe(app, city, auth, clock, ledger):
    """The ledger export holds the subtree's items only, labelled in Chinese, with formula-like
    text neutralised (A25); another branch's supervisor gets none of them."""
    from openpyxl import load_workbook

    with app.app_context():
        s = db.session
        services.create_item(s, s.get(User, city.users["supervisor_b"]), unit_id=city.station_b1, source="public",
                             category="other", description="=HYPERLINK(\"http://x\")", measures="整改",
                             responsible_id=city.users["officer_b"], deadline=local_day(clock.now), now=clock.now)
        s.commit()
    resp = login(app, auth, "supervisor").get(f"/ledger/ledger.xlsx?unit={city.branch_a}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [[c for c in row] for row in ws.iter_rows(min_row=4, values_only=True)]
    assert len(values) == 1 and values[0][1] == "自查" and values[0][2] == "违反防止干预司法“三个规定”"
    b = login(app, auth, "supervisor_b")
    assert b.get(f"/ledger/ledger.xlsx?unit={city.branch_a}").status_code == 403
    ws = load_workbook(io.BytesIO(b.get("/ledger/ledger.xlsx").data)).active
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 1 and rows[0][3].startswith("'=")


def test_unit_removes_a_wrong_file_before_asking(app, city, auth, ledger):
    """While the item is open the unit may drop an attachment: the row and the file go; a malformed
    id is 400 and changes nothing."""
    item = ledger["item"]
    client = login(app, auth, "officer")
    data = {"text": "先存草稿", "action": "save", "files": [(io.BytesIO(jpeg()), "a.jpg"), (io.BytesIO(PDF), "b.pdf")]}
    assert client.post(f"/ledger/items/{item}/evidence", content_type="multipart/form-data", data=data).status_code == 302
    with app.app_context():
        ids = [e.id for e in db.session.get(LedgerItem, item).evidence]
    assert len(ids) == 2 and len(ledger_files(app)) == 2
    assert client.post(f"/ledger/items/{item}/evidence", data={"text": "x", "action": "save",
                                                              "remove_file": "²"}).status_code == 400
    assert client.post(f"/ledger/items/{item}/evidence", data={"text": "删掉照片", "action": "save",
                                                              "remove_file": str(ids[0])}).status_code == 302
    with app.app_context():
        row = db.session.get(LedgerItem, item)
        assert [e.id for e in row.evidence] == ids[1:] and row.evidence_text == "删掉照片"
    assert [p.suffix for p in ledger_files(app)] == [".pdf"]


def test_more_files_than_allowed_store_nothing(app, city, auth, ledger):
    """Seven files at once (six allowed) are refused with a message, and no file or row is kept."""
    client = login(app, auth, "officer")
    files = [(io.BytesIO(PDF), f"{n}.pdf") for n in range(7)]
    resp = client.post(f"/ledger/items/{ledger['item']}/evidence", content_type="multipart/form-data",
                       data={"text": "七个附件", "action": "save", "files": files})
    assert resp.status_code == 422 and "最多 6 个附件" in resp.get_data(as_text=True)
    assert ledger_files(app) == []
    with app.app_context():
        assert db.session.get(LedgerItem, ledger["item"]).evidence == []


def test_officer_home_shows_own_open_items(app, city, auth, clock, ledger):
    """The officer's home page names their open items and the overdue ones; closed items leave it."""
    client = login(app, auth, "officer")
    home = client.get("/home").get_data(as_text=True)
    assert 'id="home-ledger"' in home and "未销号 1 项" in home and "已逾期" not in home
    clock.advance(days=6)
    client = login(app, auth, "officer")  # a new day, a new session (12 h absolute timeout)
    home = client.get("/home").get_data(as_text=True)
    assert "1 项已逾期" in home
    assert 'id="home-ledger"' not in login(app, auth, "officer2").get("/home").get_data(as_text=True)
    with app.app_context():
        db.session.get(LedgerItem, ledger["item"]).status = "closed"
        db.session.commit()
    assert 'id="home-ledger"' not in client.get("/home").get_data(as_text=True)


def test_office_issues_an_order_and_units_are_told(app, city, auth, clock):
    """The office issues a 督办令 from its form to two branches; their supervisors are notified; a
    past deadline or no unit is refused and stores nothing; a supervisor may not issue one (403)."""
    office = login(app, auth, "admin")
    due = (local_day(clock.now) + timedelta(days=3)).isoformat()
    bad = office.post("/ledger/orders/new", data={"title": "报告", "body": "如实报告", "deadline": "2020-01-01",
                                                  "unit_ids": [str(city.branch_a)]})
    assert bad.status_code == 422
    assert office.post("/ledger/orders/new", data={"title": "报告", "body": "如实报告", "deadline": due}).status_code == 422
    resp = office.post("/ledger/orders/new", data={"title": "近亲属从业情况报告", "body": "如实报告", "deadline": due,
                                                   "unit_ids": [str(city.branch_a), str(city.branch_b)]})
    assert resp.status_code == 302
    with app.app_context():
        told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "order_issued")))
        assert told == {city.users["supervisor"], city.users["supervisor_b"]}
        assert db.session.scalar(select(func.count(SupervisionTarget.id))) == 2
    assert login(app, auth, "supervisor").post("/ledger/orders/new", data={"title": "x"}).status_code == 403


def test_double_accept_closes_once(app, city, clock, ledger):
    """A second 销号 of the same item (a double tap, another tab) is refused: one close, one audit row."""
    with app.app_context():
        s = db.session
        item = s.get(LedgerItem, ledger["item"])
        services.save_evidence(s, s.get(User, city.users["officer"]), item, text="已整改完毕", files=[], submit=True,
                               now=clock.now)
        s.commit()
        above = s.get(User, city.users["supervisor"])
        services.review(s, above, item, "accept", "", clock.now)
        s.commit()
        with pytest.raises(services.LedgerError) as err:
            services.review(s, above, s.get(LedgerItem, ledger["item"]), "accept", "", clock.now)
        assert err.value.code == "not_waiting"
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "ledger.review")) == 1
