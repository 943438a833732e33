"""What the usability walk (walk-report #3, #4, #10, #18) found missing in the ledger: a 销号
request reaches whoever may accept it, the answer reaches whoever asked, the landing page shows
what waits (待我验收, unanswered 督办令) with a fixed number of queries, an empty save is refused,
and an item's back link returns to the list it came from."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app.db import db
from app.ledger import policy, services
from app.models import LedgerItem, Notification, SupervisionOrder, SupervisionTarget, User
from app.notices.queries import unread_count
from app.timeutils import local_day
from tests.factories import make_user
from tests.test_ledger import item_row, jpeg, ledger, login, submit  # noqa: F401  (ledger: a fixture)


def notices(app, kind: str) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.kind == kind)
                                  .order_by(Notification.user_id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_request_for_closing_tells_the_nearest_supervisor_above(app, city, auth, ledger):
    """申请销号 notifies the supervisor of the unit above (policy.closers, checked by may_close), with
    a link to the item — not the unit's own supervisor, not a higher supervisor, not the office."""
    with app.app_context():
        s = db.session
        police = s.get(User, city.users["supervisor"]).unit.parent
        higher = make_user(s, "sup_police", police, "supervisor").id
        s.commit()
        item = s.get(LedgerItem, ledger["item"])
        assert policy.may_close(s, s.get(User, higher), item)  # may close, but is not the one asked
        assert [p.id for p in policy.closers(s, item)] == [city.users["supervisor"]]
    assert submit(login(app, auth, "sup_a1"), ledger["item"]).status_code == 302
    told = notices(app, "ledger_submitted")
    assert [n.user_id for n in told] == [city.users["supervisor"]]
    assert told[0].link == f"/ledger/items/{ledger['item']}" and "过问案件未登记" in told[0].body
    with app.app_context():
        assert unread_count(db.session, city.users["supervisor"]) == 1
    page = login(app, auth, "supervisor").get("/notices/").get_data(as_text=True)
    assert "待您验收" in page


def test_item_without_a_supervisor_above_tells_the_office(app, city, auth, clock):
    """A branch item (no supervisor above in its system) is announced to the campaign office."""
    with app.app_context():
        s = db.session
        item = services.create_item(s, s.get(User, city.users["supervisor"]), unit_id=city.branch_a, source="self",
                                    category="lending", description="中层干部向企业借款", measures="清退",
                                    responsible_id=city.users["supervisor"], deadline=local_day(clock.now), now=clock.now)
        s.commit()
        item_id = item.id
    assert submit(login(app, auth, "supervisor"), item_id).status_code == 302
    assert [n.user_id for n in notices(app, "ledger_submitted")] == [city.users["admin"]]


@pytest.mark.parametrize("action, reason", [("accept", ""), ("return", "照片看不出整改结果")])
def test_the_person_who_asked_hears_the_answer_and_the_request_is_resolved(app, city, auth, ledger, action, reason):
    """When the unit's supervisor asked for 销号, both they and the person responsible are told the
    result; the supervisor's 待验收 notice is resolved (no longer unread)."""
    assert submit(login(app, auth, "sup_a1"), ledger["item"]).status_code == 302
    above = login(app, auth, "supervisor")
    assert above.post(f"/ledger/items/{ledger['item']}/review", data={"action": action, "reason": reason}).status_code == 302
    told = notices(app, "ledger_reviewed")
    assert sorted(n.user_id for n in told) == sorted([city.users["officer"], ledger["sup_a1"]])
    assert all(n.link == f"/ledger/items/{ledger['item']}" for n in told)
    assert all(n.title == ("整改事项已销号" if action == "accept" else "整改事项被退回") for n in told)
    request = notices(app, "ledger_submitted")[0]
    assert request.resolved_at is not None
    page = login(app, auth, "officer").get(f"/ledger/items/{ledger['item']}").get_data(as_text=True)
    assert re.search(r'id="item-requested">[^<]+ · sup_a1<', page)  # who asked, by name
    with app.app_context():
        assert unread_count(db.session, city.users["supervisor"]) == 0


def test_dashboard_card_counts_what_waits_for_me(app, city, auth, ledger):
    """The dashboard's ledger card shows 待我验收 with the count and a link to the list; the unit's
    own supervisor, who may not accept, sees none."""
    assert submit(login(app, auth, "sup_a1"), ledger["item"]).status_code == 302
    page = login(app, auth, "supervisor").get("/reports/").get_data(as_text=True)
    card = page[page.index('id="dashboard-ledger"'):]
    assert re.search(r'id="dashboard-ledger-awaiting"[^>]*>待我验收 <strong[^>]*>1</strong>', card)
    assert 'href="/ledger/#ledger-awaiting"' in card
    assert 'id="todo-awaiting"' in page and "待我验收销号 1 项" in page
    own = login(app, auth, "sup_a1").get("/reports/").get_data(as_text=True)
    assert "dashboard-ledger-awaiting" not in own and "todo-awaiting" not in own


def _order(session, admin_id: int, unit_id: int, deadline, title: str, now, answered: bool = False):
    order = SupervisionOrder(title=title, body="按期回复", deadline=deadline, created_by_id=admin_id, created_at=now)
    order.targets = [SupervisionTarget(unit_id=unit_id, response_text="已回复" if answered else None,
                                       responded_at=now if answered else None)]
    session.add(order)
    session.flush()
    return order.id


def test_open_orders_show_on_the_unit_supervisors_landing_page(app, city, auth, clock, ledger):
    """A 督办令 the unit has not answered shows on its supervisor's 工作台 (count, the most urgent
    deadline, a link to it); answered ones and other units' do not; the leader sees none."""
    today = local_day(clock.now)
    with app.app_context():
        s = db.session
        first = _order(s, city.users["admin"], city.station_a1, today + timedelta(days=2), "甲一所督办", clock.now)
        _order(s, city.users["admin"], city.station_a1, today + timedelta(days=1), "已答督办", clock.now, answered=True)
        _order(s, city.users["admin"], city.branch_b, today, "乙分局督办", clock.now)
        s.commit()
    client = login(app, auth, "sup_a1")
    landing = client.get("/", follow_redirects=True).get_data(as_text=True)
    top = landing[:landing.index('class="report-head"')]
    assert f'href="/ledger/orders/{first}"' in top and "待本单位回复 1 份" in top
    assert f"最早 {(today + timedelta(days=2)).isoformat()} 截止" in top
    with app.app_context():
        _order(db.session, city.users["admin"], city.station_a1, today - timedelta(days=1), "逾期督办", clock.now)
        db.session.commit()
    top = client.get("/reports/").get_data(as_text=True)
    top = top[:top.index('class="report-head"')]
    assert "待本单位回复 2 份" in top and 'href="/ledger/orders/"' in top
    assert f"已逾期（期限 {(today - timedelta(days=1)).isoformat()}）" in top
    leader = login(app, auth, "leader").get("/reports/").get_data(as_text=True)
    assert "todo-orders" not in leader


def test_landing_page_runs_the_same_queries_for_one_order_or_many(app, city, auth, clock, ledger):
    """The supervisor's 工作台 runs as many SQL statements with 1 open order and 1 item to accept
    as with 8 of each (the to-do card and the ledger card are not one query per row)."""
    today = local_day(clock.now)
    client = login(app, auth, "supervisor")
    engine = None
    counts = []
    for more in (1, 7):
        with app.app_context():
            s = db.session
            for n in range(more):
                _order(s, city.users["admin"], city.branch_a, today + timedelta(days=n + 1), f"督办{n}", clock.now)
                unit = (city.station_a1, city.station_a2)[n % 2]
                person = city.users["officer"] if unit == city.station_a1 else city.users["officer_a2"]
                item = services.create_item(s, s.get(User, city.users["supervisor"]), unit_id=unit, source="self",
                                            category="other", description=f"问题{n}描述", measures="",
                                            responsible_id=person, deadline=today, now=clock.now)
                item.status, item.submitted_at = "submitted", clock.now
            s.commit()
            engine = db.engine
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        page = client.get("/reports/").get_data(as_text=True)
        event.remove(engine, "before_cursor_execute", listener)
        counts.append(len(statements))
        assert 'id="todo-orders"' in page and 'id="dashboard-ledger-awaiting"' in page
    assert "待本单位回复 8 份" in page and "待我验收销号 8 项" in page
    assert counts[0] == counts[1], counts


def test_a36_empty_save_is_refused_and_changes_nothing(app, city, auth, ledger):
    """保存 with no text, no file and nothing to remove says what to do (422) and changes nothing;
    text alone, or a photo alone, is kept."""
    client = login(app, auth, "officer")
    before = item_row(app, ledger["item"])
    resp = client.post(f"/ledger/items/{ledger['item']}/evidence", data={"text": "  ", "action": "save"},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "请填写整改情况说明或上传照片/文件" in resp.get_data(as_text=True)
    after = item_row(app, ledger["item"])
    assert (after.evidence_text, after.updated_at, after.status) == (before.evidence_text, before.updated_at, before.status)
    resp = client.post(f"/ledger/items/{ledger['item']}/evidence", content_type="multipart/form-data",
                       data={"text": "", "action": "save", "files": [(io.BytesIO(jpeg()), "a.jpg")]})
    assert resp.status_code == 302
    with app.app_context():
        assert len(db.session.get(LedgerItem, ledger["item"]).evidence) == 1
    assert client.post(f"/ledger/items/{ledger['item']}/evidence", data={"text": "已整改", "action": "save"},
                       content_type="multipart/form-data").status_code == 302
    assert item_row(app, ledger["item"]).evidence_text == "已整改"


def test_a16_back_link_keeps_the_list_it_came_from(app, city, auth, ledger):
    """An item opened from a unit's filtered list links back to that list, and its forms return
    there; a unit outside the caller's scope in the query string is dropped, never shown."""
    client = login(app, auth, "supervisor")
    listing = client.get(f"/ledger/?unit={city.station_a1}&status=all").get_data(as_text=True)
    href = f"/ledger/items/{ledger['item']}?unit={city.station_a1}&amp;status=all"
    assert href in listing
    page = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    back = re.search(r'<a href="([^"]+)" id="item-back"', page).group(1).replace("&amp;", "&")
    assert back in (f"/ledger/?unit={city.station_a1}&status=all", f"/ledger/?status=all&unit={city.station_a1}")
    outside = client.get(f"/ledger/items/{ledger['item']}?unit={city.branch_b}&status=bogus").get_data(as_text=True)
    assert re.search(r'<a href="/ledger/" id="item-back"', outside)
    own = login(app, auth, "sup_a1")
    resp = own.post(f"/ledger/items/{ledger['item']}/evidence?unit={city.station_a1}&status=active",
                    data={"text": "已整改", "action": "save"}, content_type="multipart/form-data")
    assert resp.status_code == 302 and f"unit={city.station_a1}" in resp.headers["Location"]


def test_submitted_status_reads_the_same_as_its_filter(app, city, auth, ledger):
    """One word for an item waiting for 销号: the status badge says 待验收, as the filter and the
    figures do (no 已提交销号申请 anywhere in the ledger)."""
    assert submit(login(app, auth, "officer"), ledger["item"]).status_code == 302
    client = login(app, auth, "supervisor")
    for path in (f"/ledger/items/{ledger['item']}", "/ledger/?status=submitted", "/ledger/"):
        page = client.get(path).get_data(as_text=True)
        assert "已提交销号申请" not in page, path
    item_page = client.get(f"/ledger/items/{ledger['item']}").get_data(as_text=True)
    assert re.search(r'id="item-status">待验收<', item_page)
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerItem.id))) == 1


def test_an_answered_order_resolves_the_units_notice_and_no_other(app, city, auth, clock, ledger):
    """督办令: when a unit answers, its supervisors' 督办令 notice is done (not unread); another unit's stays open."""
    with app.app_context():
        s = db.session
        make_user(s, "sup_b1", s.get(User, city.users["officer_b"]).unit, "supervisor")
        order = services.create_order(s, s.get(User, city.users["admin"]), title="近亲属从业情况报告",
                                      body="如实报告", deadline=local_day(clock.now) + timedelta(days=2),
                                      unit_ids=[city.station_a1, city.station_b1], now=clock.now)
        s.commit()
        order_id = order.id
    before = {n.user_id: n.resolved_at for n in notices(app, "order_issued")}
    assert len(before) == 2 and not any(before.values())
    assert login(app, auth, "sup_a1").post(f"/ledger/orders/{order_id}/respond",
                                           data={"text": "已逐人报告，无违规情况"}).status_code == 302
    with app.app_context():
        a1 = db.session.scalar(select(User.id).where(User.username == "sup_a1"))
    after = {n.user_id: n.resolved_at for n in notices(app, "order_issued")}
    assert after[a1] is not None and [uid for uid, done in after.items() if done is None] == [u for u in after if u != a1]
