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
    page.locator("a.fm-row", has_text="满意度测评").first.click()
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
    assert "小店分局" in text and "对本次教育整顿的总体评价" in text and "平均" in text
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
