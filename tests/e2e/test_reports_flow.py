"""The supervisor's dashboard in a real browser at 360×640: filter the officers who have not
taken this week's test and remind them with one tap.

The remind button lives in the dashboard's cached body and submits a form outside it (HTML's
``form=`` attribute, issue #7, L8): the browser must really send the form through that button.
It opens the confirmation (issue #16), whose form carries this session's CSRF token.
"""
from __future__ import annotations

import re

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e


def test_l8_remind_button_outside_its_form_sends_the_reminders(page, page_log, screens):
    """L8/A18: 一键提醒 submits the separate remind form with the session's token and reports how many were reminded."""
    login(page, "supervisor")
    page.goto("/reports/?only=exam_not_taken")
    button = page.locator('button[form="remind-form"]')
    if button.count() == 0:
        pytest.fail("the demo supervisor's unit has nobody without this week's test: the demo data changed")
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "supervisor_remind.png"), full_page=True)
    n = int(re.search(r"(\d+)", button.inner_text()).group(1))
    with page.expect_navigation():
        button.click()
    # The confirmation (issue #16) posts with this session's token; only its button sends.
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("确认发送")).click()
    flash = page.locator(".app-flash").inner_text()
    assert f"已向 {n} 名干警发送提醒" in flash, flash
    assert "only=exam_not_taken" in page.url
    page_log.assert_clean()
