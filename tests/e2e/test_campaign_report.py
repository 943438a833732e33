"""Issue 17 point 5 in a real browser: the campaign report (总结提升) reached from the dashboard,
at 360×640 and 1366×768, and on A4 portrait paper without cut columns."""
from __future__ import annotations

import pytest

from .conftest import login
from .test_reports_midweek import SIZES, sized_page  # noqa: F401 (fixture)
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", SIZES, ids=lambda v: str(v["width"]))
@pytest.mark.parametrize("role", ("supervisor", "leader"))
def test_campaign_report_reads_and_fits_a4(sized_page, page_log, screens, role, viewport):  # noqa: F811
    """Campaign report: from the dashboard's 成效报告 link; stages, weeks as 第N周, every section, Beijing time; A4 without cut columns."""
    page = sized_page(viewport)
    login(page, role)
    page.goto("/reports/")
    with page.expect_navigation():
        page.locator(".report-actions a", has_text="成效报告").first.click()
    report = page.locator(".report-campaign")
    text = report.inner_text()
    assert "教育整顿成效报告" in text and "生成时间：" in text and "北京时间" in text
    assert "学习教育" in text and "查纠整改" in text and "第" in text and "周（" in text and "-W" not in text
    for key in ("study", "exams", "tasks"):
        assert page.locator(f"#section-{key} table tbody tr").count() >= 2
    assert ("小店分局" in text) and (("迎泽分局" in text) == (role == "leader"))
    if viewport["width"] == 360:
        assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / f"campaign_report_{role}_{viewport['width']}.png"), full_page=True)
    if viewport["width"] == 1366:
        # A4's printable width at 96 dpi less the 12 mm margins of @page (reports.css): 703 px.
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 703, "height": 1000})
        assert not page.locator("button[data-print]").is_visible()
        overflow = page.evaluate("""() => [...document.querySelectorAll('.report-campaign table')].map(t =>
            [t.getBoundingClientRect().right - document.documentElement.clientWidth,
             t.parentElement.scrollWidth - t.parentElement.clientWidth])
            .filter(([right, scroll]) => right > 0 || scroll > 0)""")
        assert overflow == []
        page.set_viewport_size({"width": 794, "height": 1123})
        page.screenshot(path=str(screens / f"campaign_report_{role}_a4.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000
        (screens / f"campaign_report_{role}.pdf").write_bytes(pdf)
    page_log.assert_clean()


def test_campaign_workbook_downloads(sized_page, page_log):  # noqa: F811
    """The report's 导出 Excel link downloads campaign-<unit>-<date>.xlsx."""
    page = sized_page(SIZES[0])
    login(page, "supervisor")
    page.goto("/reports/campaign")
    with page.expect_download() as info:
        page.locator(".report-print__tools a", has_text="导出 Excel").click()
    assert info.value.suggested_filename.startswith("campaign-") and info.value.suggested_filename.endswith(".xlsx")
    page_log.assert_clean()
