"""The people import's preview (issue 16 point 3) in Chromium, on a phone (360×640) and at a desk
(1366×768): the template with a new, a changed and a bad row previews each kind, changes
nobody, and reads without sideways scrolling. Nothing is confirmed: the live database is shared
with the other browser tests."""
from __future__ import annotations

import io
import sqlite3

import pytest
from openpyxl import load_workbook

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 640}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def users_table(live_db) -> list[tuple]:
    with sqlite3.connect(live_db) as conn:
        return conn.execute("SELECT * FROM users ORDER BY id").fetchall()


def filled_template(page, live_db) -> bytes:
    """The downloaded template, untouched, plus a new officer, a renamed and moved one, an
    unchanged one and a phone with a full-width digit."""
    with sqlite3.connect(live_db) as conn:
        same = conn.execute("SELECT u.badge_no, u.name, n.code FROM users u JOIN units n ON n.id = u.unit_id "
                            "WHERE u.badge_no = '140100003'").fetchone()
    wb = load_workbook(io.BytesIO(page.request.get("/admin/users/import/template.xlsx").body()))
    ws = wb.active
    ws.append(["140199001", "李新民", "TY-GA-XD-01", "干警", "13912345678"])
    ws.append(["140100002", "王改名", "TY-GA-XD-02", "单位管理员", None])
    ws.append([same[0], same[1], same[2], "干警", None])
    ws.append(["140199002", "赵全角", "TY-GA-XD-01", "干警", "1391234567８"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def preview(page, data: bytes) -> None:
    page.goto("/admin/users/import")
    page.set_input_files("#file", files=[{"name": "人员.xlsx", "mimeType": XLSX, "buffer": data}])
    page.check("#skip_invalid")
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["360", "1366"])
def test_import_preview_lists_each_kind_and_changes_nobody(browser, live_server, live_db, page_log, screens,
                                                           viewport):
    """The preview shows 1 new, 1 changed (old → new), 1 unchanged and the bad row with its number; the update box is off; no account changed; no sideways scroll."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page_log.attach(page)
    try:
        login(page, "admin")
        before = users_table(live_db)
        preview(page, filled_template(page, live_db))
        body = page.inner_text("main")
        assert "新建账号（1 人）" in body and "李新民" in body
        assert "已有账号的变化（1 人）" in body and "→ 王改名" in body and "→ 单位管理员" in body
        assert "已有账号无变化（1 人）" in body
        assert "手机号应为 11 位数字" in body and "第 2、3 行" in body
        assert not page.is_checked("input[name=update_existing]")
        assert users_table(live_db) == before
        page.screenshot(path=str(screens / f"admin_import_preview_{viewport['width']}.png"), full_page=True)
        if viewport is PHONE:
            assert horizontal_overflow(page) == []
        page_log.assert_clean()
    finally:
        context.close()
