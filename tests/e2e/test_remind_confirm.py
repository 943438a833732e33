"""一键提醒 at 360×640 (issue #16): the button opens a confirmation with the count; only its
confirm sends; tapped again the same day, the confirmation says everyone was already reminded.

Uses the 测试未及格 filter, which no other browser test reminds, so the live server's shared
database starts with nobody reminded of it today.
"""
from __future__ import annotations

import re

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e
FILTER = "/reports/?only=failed"


def _tap_remind(page) -> int:
    """Open the filtered dashboard, tap 一键提醒 and land on the confirmation; the button's count."""
    page.goto(FILTER)
    button = page.locator('button[form="remind-form"]')
    if button.count() == 0:
        pytest.fail("the demo supervisor's unit has nobody who failed this week's test: the demo data changed")
    n = int(re.search(r"(\d+)", button.inner_text()).group(1))
    with page.expect_navigation():
        button.click()
    assert "/reports/remind?" in page.url
    return n


def test_remind_asks_first_then_sends_once_a_day(page, page_log, screens):
    """一键提醒 → confirmation "将向 N 名干警发送…" → confirm → flash; tapped again: all N already reminded today."""
    login(page, "supervisor")
    n = _tap_remind(page)
    lead = page.locator(".remind-confirm__lead").inner_text()
    assert f"将向 {n} 名干警发送「本周测试未及格」提醒" in lead, lead
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "supervisor_remind_confirm.png"), full_page=True)
    confirm = page.get_by_role("button", name=re.compile("确认发送"))
    box = confirm.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    with page.expect_navigation():
        confirm.click()
    flash = page.locator(".app-flash").inner_text()
    assert f"已向 {n} 名干警发送提醒" in flash, flash
    page.screenshot(path=str(screens / "supervisor_remind_sent.png"), full_page=True)

    assert _tap_remind(page) == n
    lead = page.locator(".remind-confirm__lead").inner_text()
    assert f"这 {n} 名干警今天都已收到过「本周测试未及格」提醒" in lead, lead
    assert page.get_by_role("button", name=re.compile("确认发送")).count() == 0
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "supervisor_remind_already.png"), full_page=True)
    page_log.assert_clean()


def test_officer_sees_a_resolved_reminder_as_done(page, page_log, live_db, screens):
    """A resolved 本周测试还未参加 shows greyed with 已完成 in 消息, and the badge counts only the open one."""
    import sqlite3
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")
    with sqlite3.connect(live_db) as conn:
        uid = conn.execute("SELECT id FROM users WHERE username = 'officer'").fetchone()[0]
        conn.execute("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", (now, uid))
        conn.executemany(
            "INSERT INTO notifications (user_id, kind, title, body, link, created_at, subject, resolved_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'e2e', ?)",
            [(uid, "exam_reminder", "本周测试还未参加", "请在周日 22:00 前完成本周测试。", "/exams/", now, now),
             (uid, "study_reminder", "本周学习时长还未达标", "请抽空完成本周的学习任务。", "/study/", now, None)])
    login(page, "officer")
    page.goto("/me")
    assert "1 条未读" in page.locator("body").inner_text()
    page.goto("/notices/")
    done = page.locator(".notice.is-done").first
    assert "已完成" in done.inner_text() and "本周测试还未参加" in done.inner_text()
    assert page.locator(".notice.is-unread").count() == 1
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "officer_notices_resolved.png"))
    page_log.assert_clean()
