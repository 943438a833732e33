"""Announcements in a real browser at 360×640 (issue #6): the officer's unread badge, reading an
announcement (the read receipt), and the supervisor's receipts moving."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def badge(page) -> int:
    """The number on the 我的 tab (0 when no badge)."""
    loc = page.locator("nav.app-tabbar .app-badge")
    return int(loc.inner_text()) if loc.count() else 0


def read_count(page) -> int:
    page.goto("/notices/announcements")
    row = page.locator("a.ann-row", has_text="专题党课补课安排")
    return int(re.search(r"已读 (\d+) /", row.inner_text()).group(1))


def test_badge_reading_and_receipts(browser, page, page_log, screens, live_server):
    """The officer sees the badge, opens the supervisor's unread notice (badge drops by one, the
    notice reads as read); the supervisor's read count for it rises by one."""
    sup_ctx = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", base_url=live_server)
    sup = sup_ctx.new_page()
    login(sup, "supervisor")
    before = read_count(sup)

    login(page, "officer")
    page.goto("/home")
    unread = badge(page)
    assert unread >= 1
    page.locator("nav.app-tabbar .weui-tabbar__item", has_text="我的").click()
    page.wait_for_url("**/me")
    page.locator("a.weui-cell", has_text="消息").click()
    page.wait_for_url("**/notices/")
    card = page.locator("button.notice.is-unread", has_text="专题党课补课安排")
    assert card.is_visible()
    page.screenshot(path=str(screens / "notices_officer_list.png"), full_page=True)
    with page.expect_navigation():
        card.click()
    assert re.search(r"/notices/\d+$", page.url)
    assert page.locator(".notice-article__body").inner_text().startswith("尚未参加教育整顿专题党课")
    assert "已读于" in page.content()
    page.screenshot(path=str(screens / "notices_officer_read.png"), full_page=True)
    assert badge(page) == unread - 1

    assert read_count(sup) == before + 1
    sup.locator("a.ann-row", has_text="专题党课补课安排").click()
    sup.wait_for_url(re.compile(r"/notices/announcements/\d+$"))
    assert "李晓东" not in sup.locator("section", has_text="未读人员").inner_text()
    sup.screenshot(path=str(screens / "notices_supervisor_receipts.png"), full_page=True)
    sup_ctx.close()
    page_log.assert_clean()
