"""谈心谈话 in a real browser at 360×640 (issue 17 point 4): the 小店分局 supervisor finds the
dashboard's coverage card, records a talk with an officer of 坞城派出所, the branch's 纪检督察 reads
the note from the subtree list, and the officer sees only that a talk took place — and, on the
talk's page, who has read its note.
Screenshots go to tests/artifacts/screens/."""
from __future__ import annotations

import re

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

NOTE = "谈到近期加班较多、孩子升学压力大，已协调调休一天。"


def fits(page, what: str) -> None:
    sticking_out = horizontal_overflow(page)
    assert not sticking_out, f"{what} scrolls sideways at 360 px:\n" + "\n".join(sticking_out[:12])


def test_supervisor_records_a_talk_the_inspector_reads_it_the_officer_sees_only_the_day(browser, live_server, page,
                                                                                         page_log, screens):
    """Record → the subtree inspector reads the note → the officer sees day and kind, not the note."""
    login(page, "supervisor")
    page.goto("/reports/")
    card = page.locator("#dashboard-talks")
    assert "谈心谈话覆盖率" in card.inner_text()
    page.click("#dashboard-talks-link")
    page.wait_for_url(re.compile(r"/talks/\?unit=\d+"))
    fits(page, "the talks page")
    page.screenshot(path=str(screens / "talks-index-360.png"), full_page=True)
    page.click("#talk-new")
    station = page.locator("#unit option", has_text="坞城派出所").first.get_attribute("value")
    page.select_option("#unit", station)
    with page.expect_navigation():
        page.click("form[method=get] button[type=submit]")
    page.select_option("#kind", "heart")
    page.check("#topics-1")
    page.check("#topics-2")
    page.fill("#note", NOTE)
    fits(page, "the record form")
    page.screenshot(path=str(screens / "talks-new-360.png"), full_page=True)
    with page.expect_navigation():
        page.click("#talk-form button[type=submit]")
    assert re.search(r"/talks/\d+$", page.url)
    talk_url = page.url
    assert NOTE in page.locator("#talk-note").inner_text()
    officer_name = page.locator("#talk dd").nth(1).inner_text().strip()

    page.context.clear_cookies()
    login(page, "inspector")
    page.goto("/talks/")
    page.locator("#talks-subtree a", has_text=officer_name).first.click()
    page.wait_for_url(re.compile(r"/talks/\d+$"))
    assert NOTE in page.locator("#talk-note").inner_text()
    fits(page, "the talk page")
    page.screenshot(path=str(screens / "talks-inspector-360.png"), full_page=True)

    page.context.clear_cookies()
    login(page, "officer")
    page.goto("/talks/")
    page.screenshot(path=str(screens / "talks-officer-360.png"), full_page=True)
    assert NOTE not in page.content()
    assert talk_url

    # The officer's own talk page names the recorder and lists who read the note (查阅记录).
    page.locator("#my-talks a").first.click()
    page.wait_for_url(re.compile(r"/talks/\d+$"))
    own_url = page.url
    page.context.clear_cookies()
    login(page, "inspector")
    page.goto(own_url)
    assert page.locator("#talk-note").count() == 1
    page.context.clear_cookies()
    login(page, "officer")
    page.goto(own_url)
    assert page.locator("#talk-note").count() == 0
    assert page.locator("#talk-reads li").count() >= 1
    fits(page, "the officer's talk page")
    page.screenshot(path=str(screens / "talks-officer-show-360.png"), full_page=True)
    page_log.assert_clean()
