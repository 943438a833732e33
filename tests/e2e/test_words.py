"""The audit log as the campaign office reads it (issue 16 point 5) in Chromium, on a phone
(360×640) and at a desk (1366×768): actions, objects, fields and values in words, in Chinese and
in English, with no internal codes. A few typical rows are added to the shared live database
(audit rows only: the other browser tests never read them)."""
from __future__ import annotations

import json
import sqlite3

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 640}
ROWS = [
    ("content.update", "admin", "studyitem", "1", {"module": "theory", "body_html": "60 chars", "is_published": True},
     {"module": "warning", "body_html": "81 chars", "is_published": False}, None),
    ("access.denied", "officer", "endpoint", "admin.users", None, None, "GET role"),
    ("task.review", "supervisor", "tasksubmission", "3", {"status": "submitted"},
     {"status": "returned", "comment": "请补充现场照片"}, None),
    ("study.flag_void", "supervisor", "studyflag", "2", {"status": "open"}, {"status": "voided", "voided_seconds": 5400},
     "night 2026-W48"),
]
RAW = ("content.update", "studyitem", "tasksubmission", "body_html", "is_published", "GET role", "access.denied",
       "voided_seconds", "2026-W48", "chars", "endpoint")


@pytest.fixture(scope="module")
def typical_rows(live_db):
    with sqlite3.connect(live_db) as conn:
        for action, actor, ttype, tid, before, after, detail in ROWS:
            conn.execute("INSERT INTO audit_log (at, actor_name, action, target_type, target_id, before, after, detail, ip)"
                         " VALUES (datetime('now'), ?, ?, ?, ?, ?, ?, ?, '10.1.2.3')",
                         (actor, action, ttype, tid, json.dumps(before) if before else None,
                          json.dumps(after) if after else None, detail))
    return ROWS


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["360", "1366"])
def test_audit_log_reads_as_words(browser, live_server, page_log, screens, typical_rows, viewport):
    """The admin's audit log shows 修改学习内容, 模块 理论学习 → 警示教育, 打开页面被拒绝：角色无此权限… and no raw code; the phone has no sideways scroll."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page_log.attach(page)
    try:
        login(page, "admin")
        page.goto("/admin/audit/")
        table = page.inner_text("table.audit-table")
        for words in ("修改学习内容", "模块：理论学习 → 警示教育", "正文：60 字 → 81 字", "已发布：是 → 否",
                      "打开页面被拒绝：角色无此权限", "页面：管理后台", "学习内容 #1", "任务完成情况 #3",
                      "状态：待审核 → 已退回", "凌晨学习 · 第48周（11-23～11-29）", "作废学时：1 小时 30 分钟"):
            assert words in table, words
        for raw in RAW:
            assert raw not in table, raw
        page.screenshot(path=str(screens / f"admin_audit_words_{viewport['width']}.png"), full_page=True)
        if viewport is PHONE:
            assert horizontal_overflow(page) == []
        page_log.assert_clean()
    finally:
        context.close()


def test_audit_log_in_english(browser, live_server, page_log, screens, typical_rows):
    """In English the same rows read in English (Edit study content, Module: Theory → Warning education)."""
    context = browser.new_context(viewport=DESK, locale="en-GB", base_url=live_server)
    context.add_cookies([{"name": "lang", "value": "en", "url": live_server}])
    page = context.new_page()
    page_log.attach(page)
    try:
        login(page, "admin")
        page.goto("/admin/audit/")
        table = page.inner_text("table.audit-table")
        for words in ("Edit study content", "Module: Theory → Warning education", "Published: Yes → No",
                      "Opening a page was denied: the role has no access", "Week 48 (11-23 – 11-29)"):
            assert words in table, words
        for raw in RAW + ("修改", "模块"):
            assert raw not in table, raw
        page.screenshot(path=str(screens / "admin_audit_words_en_1366.png"))
        page_log.assert_clean()
    finally:
        context.close()
