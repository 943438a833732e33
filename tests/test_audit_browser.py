"""The audit-log browser (/admin/audit): filters, paging, Excel/CSV export, admin-only access with
the second factor, formula-safe cells and no secrets (QUALITY A20, A25, A31)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.db import db
from app.models import AuditLog

ID_CARD = "110105199003071234"
SECRET = "hunter2-Secret!"
COOKIE = "COOKIEVALUE-9f8e7d"


def add(app, **fields) -> None:
    fields.setdefault("at", datetime(2026, 3, 9, 1, 0))
    with app.app_context():
        db.session.add(AuditLog(**fields))
        db.session.commit()


@pytest.fixture
def trail(app, city):
    """A small trail: logins and failures, a role change, a denied access, a failed job, one row
    with secrets that must never show, and one whose actor name is a spreadsheet formula."""
    u = city.users
    add(app, action="auth.login", actor_id=u["officer"], actor_name="officer", target_type="user",
        target_id=str(u["officer"]), ip="10.1.2.3", at=datetime(2026, 3, 8, 15, 30))  # 03-08 23:30 local
    add(app, action="auth.login_failed", actor_name="nobody", detail="unknown user", ip="10.9.9.9",
        at=datetime(2026, 3, 8, 16, 30))  # 03-09 00:30 local
    add(app, action="auth.login_failed", actor_id=u["officer2"], actor_name="officer2", target_type="user",
        target_id=str(u["officer2"]), detail="bad password", ip="10.1.2.4")
    add(app, action="user.update", actor_id=u["admin"], actor_name="admin", target_type="user",
        target_id=str(u["officer_b"]), before={"role": "officer", "phone": "13800000000"},
        after={"role": "supervisor", "phone": "13800000000"}, ip="127.0.0.1")
    add(app, action="access.denied", actor_id=u["officer"], actor_name="officer", target_type="endpoint",
        target_id="admin.users", detail="GET role", ip="10.1.2.3")
    add(app, action="exam.create_failed", actor_name="scheduler", target_type="week", target_id="2026-W11")
    add(app, action="user.update", actor_id=u["admin"], actor_name="admin", target_type="user",
        target_id=str(u["officer_c"]), before={"password": SECRET, "id_card": ID_CARD},
        after={"nested": {"session_cookie": COOKIE}, "note": f"证件 {ID_CARD}"}, detail=f"typed {ID_CARD}")
    add(app, action="auth.login_failed", actor_name=ID_CARD, detail="unknown user")
    add(app, action="auth.login_failed", actor_name='=HYPERLINK("http://x.example","点我")', detail="unknown user")
    add(app, action="report.remind", actor_id=u["supervisor"], actor_name="supervisor", target_type="officers",
        target_id="+1", detail="-2 @SUM(A1)")
    return city


def admin_client(app, auth):
    client = app.test_client()
    auth.login(client, "admin")
    return client


def tbody(html: str) -> str:
    """The result table's rows only (the filter's drop-downs carry every label too)."""
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""


def table_rows(html: str) -> int:
    return tbody(html).count("<tr>")


def listed(client, query: str) -> str:
    return tbody(client.get("/admin/audit/" + query).get_data(as_text=True))


def test_filters_by_category_action_actor_target_and_outcome(app, trail, auth):
    """Each filter narrows the list: category, exact action, actor (account or name), target, outcome, address."""
    c = admin_client(app, auth)
    assert listed(c, "?category=auth").count("<tr>") == 6  # the trail's five and the admin's own login
    failed = listed(c, "?action=auth.login_failed")
    assert failed.count("<tr>") == 4 and "密码错误" in failed and "账号不存在" in failed and "修改人员" not in failed
    by_actor = listed(c, "?actor=supervisor")
    assert "发送提醒" in by_actor and "修改人员" not in by_actor
    by_name = listed(c, "?actor=officer2")  # the account; the factory's names equal the usernames
    assert by_name.count("<tr>") == 1 and "密码错误" in by_name
    target = listed(c, f"?target_type=user&target_id={trail.users['officer_b']}")
    assert target.count("<tr>") == 1 and "修改人员" in target and "officer_b" in target  # the target's name
    failures = listed(c, "?outcome=failure")
    assert "越权访问被拒绝" in failures and "每周测试生成失败" in failures and "发送提醒" not in failures
    successes = listed(c, "?outcome=success")
    assert "越权访问被拒绝" not in successes and "登录失败" not in successes and "发送提醒" in successes
    assert listed(c, "?ip=10.1.2.").count("<tr>") == 3
    assert listed(c, "?category=auth&outcome=failure&actor=officer").count("<tr>") == 1


def test_date_range_is_asia_shanghai_days(app, trail, auth):
    """Dates are local calendar days, inclusive: 00:30 on 03-09 in Taiyuan (16:30 UTC the day before) is on 03-09."""
    c = admin_client(app, auth)
    day9 = c.get("/admin/audit/?date_from=2026-03-09&date_to=2026-03-09&actor=nobody").get_data(as_text=True)
    assert table_rows(day9) == 1
    day8 = c.get("/admin/audit/?date_to=2026-03-08").get_data(as_text=True)
    assert table_rows(day8) == 1 and "2026-03-08 23:30:00" in day8


def test_bad_dates_get_a_message(app, trail, auth):
    """A malformed date or a reversed range answers 400 with a plain message and lists nothing."""
    c = admin_client(app, auth)
    resp = c.get("/admin/audit/?date_from=2026-13-01")
    assert resp.status_code == 400 and "日期格式应为" in resp.get_data(as_text=True)
    resp = c.get("/admin/audit/?date_from=2026-03-09&date_to=2026-03-01")
    assert resp.status_code == 400 and "开始日期不能晚于结束日期" in resp.get_data(as_text=True)


def test_paged_with_filters_kept(app, city, auth):
    """120 matching rows: 50 per page, the pager keeps the filter, the last page has the rest."""
    with app.app_context():
        for i in range(120):
            db.session.add(AuditLog(action="content.update", actor_name="admin", target_type="studyitem",
                                    target_id=str(i), at=datetime(2026, 3, 1) + timedelta(minutes=i)))
        db.session.commit()
    c = admin_client(app, auth)
    first = c.get("/admin/audit/?action=content.update").get_data(as_text=True)
    assert table_rows(first) == 50 and "1 / 3" in first and "action=content.update" in first and "page=2" in first
    assert table_rows(c.get("/admin/audit/?action=content.update&page=3").get_data(as_text=True)) == 20


def test_changes_are_shown_and_unchanged_fields_left_out(app, trail, auth):
    """A role change shows before → after in words (角色：干警 → 单位管理员); an unchanged phone number is not repeated."""
    page = admin_client(app, auth).get(f"/admin/audit/?target_id={trail.users['officer_b']}").get_data(as_text=True)
    assert "角色：<del>干警</del> → <ins>单位管理员</ins>" in page and "13800000000" not in page


def test_no_password_cookie_or_id_card_on_the_page_or_in_exports(app, trail, auth):
    """A31: secrets that reached a row anyway (passwords, cookies, ID-card numbers) are masked in the browser, XLSX and CSV."""
    c = admin_client(app, auth)
    page = c.get("/admin/audit/").get_data(as_text=True)
    xlsx = c.get("/admin/audit/export.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.data))
    cells = " ".join(str(v) for row in wb.active.iter_rows(values_only=True) for v in row if v is not None)
    text = c.get("/admin/audit/export.csv").get_data(as_text=True)
    for where in (page, cells, text):
        assert SECRET not in where and COOKIE not in where and ID_CARD not in where
        assert "***" in where and "11****************" in where


def test_export_xlsx_and_csv_hold_the_filtered_rows(app, trail, auth):
    """Both exports carry exactly the filtered rows with human labels and local times, as attachments."""
    c = admin_client(app, auth)
    resp = c.get("/admin/audit/export.xlsx?action=auth.login_failed")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == "时间（北京时间）" and len(rows) == 2 + 4
    assert {r[3] for r in rows[2:]} == {"登录失败"} and {r[4] for r in rows[2:]} == {"auth.login_failed"}
    resp = c.get("/admin/audit/export.csv?action=auth.login_failed")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    parsed = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(parsed) == 1 + 4 and {r[5] for r in parsed[1:]} >= {"密码错误", "账号不存在"}
    assert "2026-03-09 00:30:00" in {r[0] for r in parsed[1:]}


def test_exported_cells_are_neutralised(app, trail, auth):
    """A25: values starting with = + - @ come out as text (a leading apostrophe) in both formats."""
    c = admin_client(app, auth)
    ws = load_workbook(io.BytesIO(c.get("/admin/audit/export.xlsx").data)).active
    values = [v for row in ws.iter_rows(min_row=3, values_only=True) for v in row if isinstance(v, str)]
    assert "'=HYPERLINK(\"http://x.example\",\"点我\")" in values
    assert "'+1" in values and "'-2 @SUM(A1)" in values
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    text = c.get("/admin/audit/export.csv").get_data(as_text=True)
    fields = [f for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for f in row]
    assert "'=HYPERLINK(\"http://x.example\",\"点我\")" in fields and "'+1" in fields
    assert not any(f.startswith(("=", "+", "-", "@")) for f in fields)


def test_export_is_audited(app, trail, auth):
    """Exporting the trail writes one audit row naming the format, the count and the filter."""
    admin_client(app, auth).get("/admin/audit/export.csv?category=auth")
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "audit.export"))
    assert row.actor_name == "admin" and row.after["format"] == "csv" and row.after["filters"] == {"category": "auth"}


def test_too_large_export_is_refused_not_cut(make_app, city, auth):
    """Over the export cap: no file, a message asking to narrow the filter (rows are never dropped silently)."""
    app = make_app(AUDIT_EXPORT_MAX=3)
    for i in range(5):
        add(app, action="content.update", actor_name="admin", target_id=str(i))
    c = app.test_client()
    auth.login(c, "admin")
    resp = c.get("/admin/audit/export.xlsx?action=content.update")
    assert resp.status_code == 302 and "/admin/audit/" in resp.headers["Location"]
    assert "超过一次导出的上限" in c.get(resp.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("username", ["officer", "supervisor", "leader"])
def test_only_admin_may_browse_or_export(app, city, auth, username):
    """Officers, supervisors and leaders get 403 on the browser and both exports."""
    c = app.test_client()
    auth.login(c, username)
    for path in ("/admin/audit/", "/admin/audit/export.xlsx", "/admin/audit/export.csv"):
        assert c.get(path).status_code == 403, path


def test_admin_needs_second_factor(make_app, city, auth):
    """A20: off the waived networks an admin without TOTP is sent to the second-factor page."""
    app = make_app(ADMIN_MFA_WAIVER_NETWORKS=[])
    c = app.test_client()
    auth.login(c, "admin")
    for path in ("/admin/audit/", "/admin/audit/export.csv"):
        resp = c.get(path)
        assert resp.status_code == 302 and "/account/mfa" in resp.headers["Location"], path
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "audit.export")) == 0


def test_real_failed_login_is_found(app, city, auth):
    """A failed login made through the login form shows under "登录失败" with its address, never the password."""
    auth.login(app.test_client(), "officer", "not-the-password-42")
    page = admin_client(app, auth).get("/admin/audit/?action=auth.login_failed").get_data(as_text=True)
    assert "密码错误" in page and "127.0.0.1" in page and "not-the-password-42" not in page
