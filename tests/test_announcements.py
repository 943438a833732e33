"""Announcements with read receipts (issue #6): who may address whom, bulk delivery, reading
as the receipt, receipts counted through the unit scope, sanitised bodies, the demo."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import event, func, insert, select

from app.db import db
from app.models import Announcement, AuditLog, Notification, User
from tests.factories import make_unit


def send(client, **fields):
    data = {"title": "关于开展自查自纠的通知", "body": "请于本周五前完成个人自查。", "body_format": "text",
            "audience": "officers"}
    data.update(fields)
    return client.post("/notices/announcements/new", data=data)


def logged_in(app, auth, username):
    client = app.test_client()
    auth.login(client, username)
    return client


def recipients(app, ann_id=None) -> set[int]:
    with app.app_context():
        stmt = select(Notification.user_id).where(Notification.kind == "announcement")
        if ann_id is not None:
            stmt = stmt.where(Notification.announcement_id == ann_id)
        return set(db.session.scalars(stmt))


def only_announcement(app) -> Announcement:
    with app.app_context():
        rows = db.session.scalars(select(Announcement)).all()
        assert len(rows) == 1
        db.session.expunge_all()
        return rows[0]


def notice_of(app, username: str, city) -> Notification:
    with app.app_context():
        row = db.session.scalar(select(Notification).where(Notification.user_id == city.users[username],
                                                           Notification.kind == "announcement"))
        db.session.expunge_all()
        return row


def test_admin_to_city_reaches_every_officer_once_and_is_audited(app, city, auth):
    """The campaign office addresses the whole city: one notification per active officer, none to staff; one audit row."""
    admin = logged_in(app, auth, "admin")
    resp = send(admin, target_unit_id=city.root)
    assert resp.status_code == 302
    ann = only_announcement(app)
    officers = {city.users[u] for u in ("officer", "officer2", "officer_a2", "officer_b", "officer_c")}
    assert recipients(app) == officers and ann.recipient_count == 5
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "announcement.send"))
        assert row.actor_name == "admin" and row.target_id == str(ann.id) and row.after["recipients"] == 5
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 5


def test_audience_all_includes_staff_but_not_the_sender(app, city, auth):
    """"All roles" adds supervisors and leaders in the subtree; the sender never gets their own notice."""
    admin = logged_in(app, auth, "admin")
    assert send(admin, target_unit_id=city.root, audience="all").status_code == 302
    got = recipients(app)
    assert {city.users["supervisor"], city.users["supervisor_b"], city.users["leader"]} <= got
    assert city.users["admin"] not in got and len(got) == 8


def test_supervisor_reaches_only_their_subtree(app, city, auth):
    """A supervisor's announcement to a station reaches that station's officers only."""
    sup = logged_in(app, auth, "supervisor")
    assert send(sup, target_unit_id=city.station_a1).status_code == 302
    assert recipients(app) == {city.users["officer"], city.users["officer2"]}


def test_supervisor_cannot_address_another_subtree(app, city, auth):
    """A supervisor posting another branch's unit (or the city) gets 403, nothing is stored, the refusal is audited."""
    sup = logged_in(app, auth, "supervisor")
    assert send(sup, target_unit_id=city.branch_b).status_code == 403
    assert send(sup, target_unit_id=city.root).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        denied = db.session.scalars(select(AuditLog).where(AuditLog.action == "access.denied")).all()
        assert {d.target_id for d in denied} == {str(city.branch_b), str(city.root)}


def test_compose_offers_only_units_in_scope(app, city, auth):
    """The supervisor's target list holds their own branch and stations; the admin's starts with the whole city."""
    page = logged_in(app, auth, "supervisor").get("/notices/announcements/new").get_data(as_text=True)
    assert "甲分局" in page and "甲一所" in page and "乙分局" not in page and "丙一庭" not in page
    page = logged_in(app, auth, "admin").get("/notices/announcements/new").get_data(as_text=True)
    assert "全市（所有单位）" in page and "乙一所" in page


def test_officer_and_leader_cannot_send(app, city, auth):
    """Officers and the read-only leader get 403 on the compose and receipts pages."""
    for username in ("officer", "leader"):
        client = logged_in(app, auth, username)
        assert client.get("/notices/announcements/new").status_code == 403
        assert send(client, target_unit_id=city.station_a1).status_code == 403
        assert client.get("/notices/announcements").status_code == 403
    assert recipients(app) == set()


def test_empty_scope_refused_with_message(app, city, auth):
    """An announcement to a unit nobody belongs to is refused with a message and stores nothing."""
    with app.app_context():
        from app.models import Unit

        empty = make_unit(db.session, "空白所", db.session.get(Unit, city.branch_a))
        db.session.commit()
        empty_id = empty.id
    resp = send(logged_in(app, auth, "supervisor"), target_unit_id=empty_id)
    assert resp.status_code == 422 and "没有可接收的人员" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_html_body_is_sanitised_and_text_is_escaped(app, city, auth):
    """Rich text is cleaned with nh3 when stored (no script, no handlers); plain text is shown escaped."""
    admin = logged_in(app, auth, "admin")
    send(admin, target_unit_id=city.station_a1, body_format="html", title="图文通知",
         body='<p onclick="x()">请<strong>按时</strong>参加<script>alert(1)</script></p><a href="javascript:alert(2)">链接</a>')
    send(admin, target_unit_id=city.station_a1, title="纯文本通知", body="<b>不是标签</b>\n第二行")
    with app.app_context():
        bodies = dict(db.session.execute(select(Announcement.title, Announcement.body)).all())
    assert "script" not in bodies["图文通知"] and "onclick" not in bodies["图文通知"]
    assert "javascript" not in bodies["图文通知"] and "<strong>按时</strong>" in bodies["图文通知"]
    officer = logged_in(app, auth, "officer")
    with app.app_context():
        ids = dict(db.session.execute(select(Notification.title, Notification.id).where(
            Notification.user_id == city.users["officer"])).all())
    html_page = officer.get(f"/notices/{ids['图文通知']}").get_data(as_text=True)
    assert "<strong>按时</strong>" in html_page and "alert(1)" not in html_page
    text_page = officer.get(f"/notices/{ids['纯文本通知']}").get_data(as_text=True)
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in text_page and "<b>不是标签" not in text_page


def test_opening_marks_read_once_and_get_does_not(app, city, auth, clock):
    """Listing or viewing is a GET and changes nothing; opening (POST) stamps read_at once, a second open keeps it."""
    admin = logged_in(app, auth, "admin")
    send(admin, target_unit_id=city.station_a1)
    officer = logged_in(app, auth, "officer")
    notice = notice_of(app, "officer", city)
    assert "关于开展自查自纠的通知" in officer.get("/notices/").get_data(as_text=True)
    assert officer.get(f"/notices/{notice.id}").status_code == 200
    assert notice_of(app, "officer", city).read_at is None
    first = clock.now
    resp = officer.post(f"/notices/{notice.id}/open")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/notices/{notice.id}")
    clock.advance(minutes=5)
    officer.post(f"/notices/{notice.id}/open")
    assert notice_of(app, "officer", city).read_at == first
    assert "已读于" in officer.get(f"/notices/{notice.id}").get_data(as_text=True)


def test_cannot_open_someone_elses_notice(app, city, auth):
    """Another officer's notice id is a 404 for viewing and opening, and stays unread."""
    send(logged_in(app, auth, "admin"), target_unit_id=city.station_a1)
    notice = notice_of(app, "officer", city)
    other = logged_in(app, auth, "officer2")
    assert other.get(f"/notices/{notice.id}").status_code == 404
    assert other.post(f"/notices/{notice.id}/open").status_code == 404
    assert notice_of(app, "officer", city).read_at is None


def test_mark_all_read_leaves_announcements_for_reading(app, city, auth, clock):
    """"Mark all read" clears reminders but an announcement counts as read only when opened."""
    send(logged_in(app, auth, "admin"), target_unit_id=city.station_a1)
    with app.app_context():
        db.session.add(Notification(user_id=city.users["officer"], kind="exam_reminder", title="本周测试还未参加",
                                    created_at=clock.now))
        db.session.commit()
    officer = logged_in(app, auth, "officer")
    officer.post("/notices/read")
    assert notice_of(app, "officer", city).read_at is None
    assert "app-badge" in officer.get("/me").get_data(as_text=True)


def test_receipts_for_the_sender(app, city, auth, clock):
    """The sender sees recipients, read count, read rate and the unread people with their units."""
    sup = logged_in(app, auth, "supervisor")
    send(sup, target_unit_id=city.branch_a)
    ann = only_announcement(app)
    logged_in(app, auth, "officer").post(f"/notices/{notice_of(app, 'officer', city).id}/open")
    listing = sup.get("/notices/announcements").get_data(as_text=True)
    assert "关于开展自查自纠的通知" in listing and "已读 1 / 3 人" in listing and "33.3%" in listing
    page = sup.get(f"/notices/announcements/{ann.id}").get_data(as_text=True)
    unread = page[page.index("未读人员"):]
    assert "officer2" in unread and "甲一所" in unread and "officer_a2" in unread and "甲二所" in unread
    assert not re.search(r">officer<", unread)
    assert "33.3%" in page


def test_receipts_are_scoped_for_supervisors(app, city, auth):
    """A city-wide notice: supervisor A counts only branch A's people; supervisor B cannot open A's own notice."""
    send(logged_in(app, auth, "admin"), target_unit_id=city.root)
    city_ann = only_announcement(app)
    sup = logged_in(app, auth, "supervisor")
    others = sup.get("/notices/announcements?view=others").get_data(as_text=True)
    assert "已读 0 / 3 人" in others
    page = sup.get(f"/notices/announcements/{city_ann.id}").get_data(as_text=True)
    assert "officer_a2" in page and "officer_b" not in page and "officer_c" not in page
    send(sup, target_unit_id=city.station_a1, title="甲分局内部通知")
    with app.app_context():
        own_id = db.session.scalar(select(Announcement.id).where(Announcement.title == "甲分局内部通知"))
    sup_b = logged_in(app, auth, "supervisor_b")
    assert sup_b.get(f"/notices/announcements/{own_id}").status_code == 404
    assert "甲分局内部通知" not in sup_b.get("/notices/announcements?view=others").get_data(as_text=True)
    admin_page = logged_in(app, auth, "admin").get(f"/notices/announcements/{own_id}")
    assert admin_page.status_code == 200


def test_staff_get_the_unread_dot(app, city, auth):
    """A supervisor addressed by an "all roles" notice sees an unread marker in the header and on 我的."""
    send(logged_in(app, auth, "admin"), target_unit_id=city.branch_a, audience="all")
    sup = logged_in(app, auth, "supervisor")
    assert "app-nav__dot" in sup.get("/me").get_data(as_text=True)


def test_delivery_to_10028_officers_is_one_insert(app, clock, request):
    """10,028 officers get their notification from one INSERT … SELECT, within a few seconds."""
    from app.auth.passwords import hash_password
    from app.notices import services

    with app.app_context():
        s = db.session
        root = make_unit(s, "万人市")
        stations = [make_unit(s, f"第{i}所", root) for i in range(30)]
        s.execute(insert(User), [
            {"username": f"p{i:05d}", "name": f"干警{i}", "unit_id": stations[i % 30].id, "role": "officer",
             "password_hash": "!", "is_active": True} for i in range(10028)])
        admin = User(username="boss", name="教育整顿办", unit_id=root.id, role="admin",
                     password_hash=hash_password("x" * 12, "pbkdf2:sha256:1000"))
        s.add(admin)
        s.commit()
        inserts = []

        def count(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS"):
                inserts.append(executemany)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            ann = services.send(s, admin, title="全市通知", body="正文", body_format="text", target_unit_id=root.id,
                                audience="officers", now=clock.now)
            s.commit()
            elapsed = time.perf_counter() - started
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert inserts == [False]
        assert ann.recipient_count == 10028
        assert s.scalar(select(func.count()).select_from(Notification)) == 10028
    assert elapsed < 5, elapsed


@pytest.fixture
def demo_city(app, clock):
    from app.seed.services import seed_demo

    with app.app_context():
        seed_demo(db.session, clock.now, demo_password="tiejun2021", hash_method="pbkdf2:sha256:1000")
        db.session.commit()


def test_demo_officer_has_read_and_unread_and_supervisor_sees_receipts(app, demo_city, auth):
    """seed demo: the officer has some announcements read and some unread; the supervisor has one unread and finds receipts for theirs and the office's."""
    officer = app.test_client()
    auth.login(officer, "officer", "tiejun2021")
    page = officer.get("/notices/").get_data(as_text=True)
    assert "专题党课补课安排" in page and "关于组织观看警示教育片的通知" in page
    with app.app_context():
        oid = db.session.scalar(select(User.id).where(User.username == "officer"))
        states = db.session.execute(select(Notification.title, Notification.read_at).where(
            Notification.user_id == oid, Notification.kind == "announcement")).all()
    assert len(states) == 5 and 0 < sum(1 for _t, r in states if r is None) < 5
    sup = app.test_client()
    auth.login(sup, "supervisor", "tiejun2021")
    assert "app-nav__dot" in sup.get("/me").get_data(as_text=True)  # the office's newest is unread
    mine = sup.get("/notices/announcements").get_data(as_text=True)
    assert "专题党课补课安排" in mine and "人未读" in mine
    others = sup.get("/notices/announcements?view=others").get_data(as_text=True)
    assert "请保持每日2小时学习目标" in others
    with app.app_context():
        sent = db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "announcement.send"))
    assert sent == 5
