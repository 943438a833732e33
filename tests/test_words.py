"""Words people read outside the reports (issue 16 point 5): weeks as 第N周 with their dates on
the study pages, and exports stamped in Beijing time even when the UTC date differs."""
from __future__ import annotations

import io
import re
from datetime import datetime

from openpyxl import load_workbook

from app.db import db
from app.models import AuditLog, StudyFlag
from tests.test_study_credit import logged_in


def test_study_history_names_the_week(app, city, auth):
    """/study/history titles the shown week 第N周（MM-dd～MM-dd）, never the ISO key."""
    client = logged_in(app, auth, "officer")
    page = client.get("/study/history").get_data(as_text=True)
    assert "第11周（03-09～03-15）" in page  # the frozen clock's week
    page = client.get("/study/history?week=2026-W09&month=2026-02").get_data(as_text=True)
    assert "第9周（02-23～03-01）" in page and "2026-W09</" not in page


def test_flag_list_and_void_message_name_the_flags_week(app, city, auth):
    """A flag of last week reads 第10周（03-02～03-08） on the list, in the confirm text and in the message after voiding."""
    with app.app_context():
        flag = StudyFlag(user_id=city.users["officer"], week="2026-W10", reason="night", detail="days=3 seconds=5400")
        db.session.add(flag)
        db.session.commit()
        flag_id = flag.id
    sup = logged_in(app, auth, "supervisor")
    page = sup.get("/study/flags").get_data(as_text=True)
    assert "第10周（03-02～03-08）：" in page and "确定作废 officer 第10周（03-02～03-08） 的全部学时" in page
    assert "2026-W10" not in page
    resp = sup.post(f"/study/flags/{flag_id}", data={"action": "void"}, follow_redirects=True)
    assert "已作废该干警第10周（03-02～03-08）的 0 分钟学时" in resp.get_data(as_text=True)


def test_audit_export_is_stamped_in_beijing_time(app, city, auth, clock):
    """At 17:30 UTC on 03-08 (01:30 on 03-09 in Taiyuan) the audit export's file name, title and row times are 03-09."""
    clock.now = datetime(2026, 3, 8, 17, 30)
    with app.app_context():
        db.session.add(AuditLog(action="auth.login", actor_name="officer", at=datetime(2026, 3, 8, 17, 0)))
        db.session.commit()
    admin = logged_in(app, auth, "admin")
    resp = admin.get("/admin/audit/export.xlsx?actor=officer")
    assert 'audit-20260309-0130.xlsx' in resp.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert "2026-03-09 01:30 北京时间" in rows[0][0]
    assert rows[2][0] == "2026-03-09 01:00:00" and rows[2][3] == "登录"
    csv_resp = admin.get("/admin/audit/export.csv?actor=officer")
    assert "audit-20260309-0130.csv" in csv_resp.headers["Content-Disposition"]
    assert "2026-03-09 01:00:00" in csv_resp.get_data(as_text=True)


def test_bank_export_named_by_the_beijing_day(app, city, auth, clock):
    """The question-bank export is named by the local day (03-09 at 01:30 Taiyuan time, 03-08 in UTC)."""
    clock.now = datetime(2026, 3, 8, 17, 30)
    admin = logged_in(app, auth, "admin")
    resp = admin.get("/admin/questions/export.yaml")
    assert resp.status_code == 200
    name = re.search(r"filename\*?=(?:UTF-8'')?([^;]+)", resp.headers["Content-Disposition"]).group(1)
    assert "20260309" in name


def test_exam_tab_is_english_in_english(app, city, auth):
    """The officer's tab bar reads Exams in English (its entry had gone obsolete: templates/_macros was never extracted)."""
    client = logged_in(app, auth, "officer")
    client.set_cookie("lang", "en")
    resp = client.get("/", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "weui-tabbar" in page, (resp.status_code, resp.request.path)
    tabbar = page.split("weui-tabbar", 1)[1]
    assert "Exams" in tabbar and "考试" not in tabbar
