"""满意度测评 results in a real browser at 360×640 (issue 17 point 5): the 小店分局 supervisor opens
the survey from the 查纠整改 desk and sees 小店分局 and its stations, the small ones suppressed;
the leader sees the city's top units. No page shows a name or an answer sheet.
Screenshots go to tests/artifacts/screens/."""
from __future__ import annotations

import re

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e


def fits(page, what: str) -> None:
    sticking_out = horizontal_overflow(page)
    assert not sticking_out, f"{what} scrolls sideways at 360 px:\n" + "\n".join(sticking_out[:12])


def open_results(page) -> None:
    page.goto("/forms/desk")
    page.locator("a.fm-row", has_text="学习教育环节满意度测评").click()
    page.wait_for_url(re.compile(r"/forms/desk/\d+$"))
    assert "匿名测评" in page.locator("main").inner_text()
    page.click("#survey-results-link")
    page.wait_for_url(re.compile(r"/forms/desk/\d+/results$"))


def test_supervisor_sees_the_branch_and_its_stations_with_small_ones_suppressed(browser, live_server, page,
                                                                                  page_log, screens):
    """Supervisor: 小店分局 with figures (bars per option, a mean), 坞城派出所 shown, 北格派出所 (3 sheets) suppressed; nothing outside the branch."""
    login(page, "supervisor")
    open_results(page)
    text = page.locator("main").inner_text()
    assert "小店分局" in text and "对学习教育环节的总体评价" in text and "平均" in text
    assert "迎泽分局" not in text
    assert page.locator("svg.sv-bar").count() >= 4
    beige = page.locator("section.sv-group", has_text="北格派出所")
    assert "答卷不足5份，结果不予显示" in beige.inner_text() and beige.locator("svg.sv-bar").count() == 0
    fits(page, "the survey results")
    page.screenshot(path=str(screens / "survey-results-supervisor-360.png"), full_page=True)
    station = page.locator("section.sv-group", has_text="坞城派出所")
    station.locator("summary").click()
    assert station.locator("svg.sv-bar").first.is_visible()
    page.screenshot(path=str(screens / "survey-results-supervisor-open-360.png"), full_page=False)
    page_log.assert_clean()


def test_leader_sees_the_city_and_its_top_units(browser, live_server, page, page_log, screens):
    """Leader: the city's results and its four top units, then drills into one (a unit's own children)."""
    login(page, "leader")
    open_results(page)
    text = page.locator("main").inner_text()
    assert "太原市政法系统" in text and "太原市公安局" in text and "太原市司法局" in text
    fits(page, "the city's survey results")
    page.screenshot(path=str(screens / "survey-results-leader-360.png"), full_page=True)
    page.locator("section.sv-group a", has_text="太原市公安局").click()
    page.wait_for_url(re.compile(r"/results\?unit=\d+$"))
    assert page.locator("h1").inner_text().endswith("太原市公安局")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=str(screens / "survey-results-leader-1366.png"), full_page=False)
    page_log.assert_clean()


def test_office_sees_the_survey_level_explained_in_the_builder(browser, live_server, page, page_log, screens):
    """Admin: the builder's settings offer 匿名测评, explained under the select (who reads what, the minimum of 5)."""
    login(page, "admin")
    page.goto("/forms/manage/")
    # The demo's open survey by its exact title (other browser tests add forms whose titles contain it).
    page.locator("a", has_text=re.compile("^满意度测评$")).click()
    page.wait_for_url(re.compile(r"/forms/manage/\d+$"))
    assert page.locator("#confidentiality").input_value() == "survey"
    help_text = page.locator("#level-help").inner_text()
    assert "任何人都不能查看或导出个人答卷" in help_text and "不足 5 份答卷" in help_text
    fits(page, "the builder")
    page.locator("#level-help").scroll_into_view_if_needed()
    page.screenshot(path=str(screens / "survey-builder-level-360.png"), full_page=False)
    page_log.assert_clean()


def test_officer_fills_the_survey_and_only_they_read_it(browser, live_server, page, page_log, screens):
    """The demo officer fills 满意度测评 on the phone, told it is anonymous; after submitting they read their own sheet, and its URL is 404 to the supervisor."""
    login(page, "officer")
    page.goto("/forms/")
    closed = page.locator(".fm-row", has_text="学习教育环节满意度测评")
    assert "已结束" in closed.inner_text() and closed.evaluate("e => e.tagName") == "DIV"  # closed: leads nowhere
    page.locator("a.fm-row", has=page.locator(".fm-row__title", has_text=re.compile("^满意度测评$"))).click()
    page.wait_for_url(re.compile(r"/forms/\d+$"))
    assert "除您本人外，任何人都不能查看您的答卷" in page.locator("main").inner_text()
    page.check("input[name=f_overall][value=满意]")
    page.check("input[name=f_practical][value=是]")
    page.fill("#f_style", "8")
    page.fill("#f_advice", "希望多组织实地教学。")
    fits(page, "the survey form")
    page.screenshot(path=str(screens / "survey-fill-360.png"), full_page=True)
    with page.expect_navigation():
        page.once("dialog", lambda dialog: dialog.accept())  # 提交后不能修改：the page asks first
        page.click("button[value=submit]")
    assert re.search(r"/forms/submissions/\d+$", page.url)
    sheet_url = page.url
    assert "希望多组织实地教学。" in page.locator("main").inner_text()
    page_log.assert_clean()  # before the 404 below, which the browser logs as a failed load
    page.context.clear_cookies()
    login(page, "supervisor")
    assert page.goto(sheet_url).status == 404
