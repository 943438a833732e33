"""纪检督察 oversee the 整改台账 of their subtree read-only (issue 17 point 3): they see its items,
figures, 督办令 and export through the unit-scope helper, 404 outside it, and every write answers
403 and changes nothing (rules: app/ledger/policy.py)."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.ledger import policy, services
from app.models import LedgerEvidence, LedgerItem, SupervisionOrder, SupervisionTarget, Unit, User
from app.timeutils import local_day
from tests.factories import PASSWORD, make_user


def login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (200, 302)
    return client


@pytest.fixture
def oversight(app, city, clock):
    """The inspector of branch A (as `inspector` is of 小店分局 in the demo); an item of station A1
    waiting for 销号, one of station B1 (another branch), and a 督办令 to A1 and to B1 only."""
    with app.app_context():
        s = db.session
        make_user(s, "inspector", s.get(Unit, city.branch_a), role="inspector")
        admin, sup = s.get(User, city.users["admin"]), s.get(User, city.users["supervisor"])
        deadline = local_day(clock.now) + timedelta(days=5)
        mine = services.create_item(s, sup, unit_id=city.station_a1, source="self", category="interference",
                                    description="过问案件未登记INSPA", measures="逐人学习三个规定",
                                    responsible_id=city.users["officer"], deadline=deadline, now=clock.now)
        services.save_evidence(s, s.get(User, city.users["officer"]), mine, text="已整改完毕", files=[], submit=True,
                               now=clock.now)
        other = services.create_item(s, s.get(User, city.users["supervisor_b"]), unit_id=city.station_b1,
                                     source="inspection", category="business", description="经商办企业INSPB",
                                     measures="清理", responsible_id=city.users["officer_b"], deadline=deadline,
                                     now=clock.now)
        order_a = services.create_order(s, admin, title="督办甲一所", body="如实报告", deadline=deadline,
                                        unit_ids=[city.station_a1], now=clock.now)
        order_b = services.create_order(s, admin, title="督办乙一所", body="如实报告", deadline=deadline,
                                        unit_ids=[city.station_b1], now=clock.now)
        s.commit()
        return {"mine": mine.id, "other": other.id, "order_a": order_a.id, "order_b": order_b.id}


def _state(app) -> tuple:
    with app.app_context():
        s = db.session
        return (tuple(s.execute(select(LedgerItem.id, LedgerItem.status, LedgerItem.evidence_text)
                                .order_by(LedgerItem.id)).all()),
                s.scalar(select(func.count(LedgerEvidence.id))), s.scalar(select(func.count(SupervisionOrder.id))),
                tuple(s.scalars(select(SupervisionTarget.responded_at).order_by(SupervisionTarget.id))))


def test_inspector_reads_the_ledger_of_their_subtree(app, city, oversight):
    """The inspector of branch A sees its items, figures, the 督办令 to its units and the export; no write control is offered."""
    client = login(app, "inspector")
    index = client.get("/ledger/?status=all")
    page = index.get_data(as_text=True)
    assert index.status_code == 200 and "INSPA" in page and "INSPB" not in page
    assert 'id="ledger-kpis"' in page and "甲一所" in page and "乙一所" not in page
    assert 'id="ledger-awaiting"' not in page and "/ledger/new" not in page
    item = client.get(f"/ledger/items/{oversight['mine']}")
    body = item.get_data(as_text=True)
    assert item.status_code == 200 and "已整改完毕" in body
    assert 'id="evidence-form"' not in body and 'id="review-form"' not in body
    orders = client.get("/ledger/orders/").get_data(as_text=True)
    assert "督办甲一所" in orders and "督办乙一所" not in orders
    shown = client.get(f"/ledger/orders/{oversight['order_a']}")
    assert shown.status_code == 200 and 'id="respond-form"' not in shown.get_data(as_text=True)
    export = client.get(f"/ledger/ledger.xlsx?unit={city.branch_a}")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")


def test_inspector_is_refused_outside_their_subtree(app, city, oversight):
    """Another branch's item and its 督办令 answer 404 to branch A's inspector; its figures and
    export are refused as the scope helper refuses a unit outside the subtree (403), with no rows."""
    client = login(app, "inspector")
    assert client.get(f"/ledger/items/{oversight['other']}").status_code == 404
    assert client.get(f"/ledger/orders/{oversight['order_b']}").status_code == 404
    for url in (f"/ledger/?unit={city.branch_b}", f"/ledger/ledger.xlsx?unit={city.branch_b}"):
        resp = client.get(url)
        assert resp.status_code == 403 and "INSPB" not in resp.get_data(as_text=True), url


def test_inspector_gets_403_on_every_ledger_write(app, city, oversight):
    """销号, 退回, evidence, a new item, a new 督办令 and a 督办令 answer: 403 to the inspector, and nothing changes."""
    before = _state(app)
    client = login(app, "inspector")
    mine, order = oversight["mine"], oversight["order_a"]
    writes = [
        (f"/ledger/items/{mine}/review", {"action": "accept"}),
        (f"/ledger/items/{mine}/review", {"action": "return", "reason": "再补充"}),
        (f"/ledger/items/{mine}/evidence", {"text": "督察代交的佐证", "action": "submit",
                                            "files": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "x.pdf")}),
        ("/ledger/new", {"unit_id": city.station_a1, "source": "self", "category": "other", "description": "督察登记",
                         "measures": "", "responsible_id": city.users["officer"], "deadline": "2026-04-01"}),
        ("/ledger/orders/new", {"title": "督察发令", "body": "", "deadline": "2026-04-01",
                                "unit_ids": [city.station_a1]}),
        (f"/ledger/orders/{order}/respond", {"text": "督察代答"}),
    ]
    for url, data in writes:
        resp = client.post(url, data=data, content_type="multipart/form-data")
        assert resp.status_code == 403, url
    assert _state(app) == before


def test_policy_gives_the_inspector_reads_only(app, city, oversight):
    """policy.py: the inspector may see an item of their subtree, never record, work on, close or answer."""
    with app.app_context():
        s = db.session
        inspector = s.scalar(select(User).where(User.username == "inspector"))
        item = s.get(LedgerItem, oversight["mine"])
        assert policy.may_see(s, inspector, item)
        assert not policy.may_see(s, inspector, s.get(LedgerItem, oversight["other"]))
        assert not policy.may_record(s, inspector, city.station_a1)
        assert not policy.may_work_on(inspector, item)
        assert not policy.may_close(s, inspector, item)
        assert not policy.may_answer(inspector, city.station_a1)


def test_inspector_nav_leads_to_the_ledger(app, oversight):
    """The inspector's header and 我的 page link 整改台账."""
    client = login(app, "inspector")
    for path in ("/forms/desk", "/me"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/ledger/"' in page, path
    assert 'id="nav-ledger"' in client.get("/forms/desk").get_data(as_text=True)
