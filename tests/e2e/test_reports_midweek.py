"""Issue 16 points 1 and 8 in a real browser: the dashboard of a week in progress and the
printable weekly report, as supervisor, leader and admin, at 360×640 and 1366×768.

The live server runs on the real clock (no frozen CLOCK under gunicorn), and the demo data always
has a current week in progress, so "mid-week" is whatever day this runs on.
"""
from __future__ import annotations

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

ROLES = ("supervisor", "leader", "admin")
SIZES = ({"width": 360, "height": 640}, {"width": 1366, "height": 768})


@pytest.fixture
def sized_page(browser, page_log):
    """A fresh zh-CN page of a given size with page_log listening."""
    contexts = []

    def make(viewport):
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=page_log.base)
        context.set_default_timeout(15_000)
        contexts.append(context)
        pg = context.new_page()
        page_log.attach(pg)
        return pg

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", SIZES, ids=lambda v: str(v["width"]))
@pytest.mark.parametrize("role", ROLES)
def test_dashboard_mid_week_reads_in_progress(sized_page, page_log, screens, role, viewport):
    """Dashboard this week: 本周进行中（截至…）, 进度达标 with its rule, 暂定 marks, weeks as 第N周 in the picker, a dashed hollow last trend point (SVG, then ECharts)."""
    page = sized_page(viewport)
    login(page, role)
    page.goto("/reports/")
    progress = page.locator(".report-progress")
    assert progress.count() == 1 and "本周进行中（截至" in progress.inner_text()
    assert page.locator(".report-pace").count() == 1 and "进度达标" in page.locator(".report-pace").inner_text()
    assert "进度达标：" in page.locator(".report-rule").first.inner_text() or "进度达标从周二起" in page.content()
    assert page.locator(".report-provisional").count() >= 1
    labels = page.locator("#week-picker option").all_inner_texts()
    assert labels and all(label.startswith("第") and "周（" in label for label in labels)
    # The server's SVG: the week in progress ends each line with a dashed segment and a hollow point.
    # Read in one evaluate: ECharts may replace the SVG between two separate queries.
    drawn = page.evaluate("""() => { const svg = document.querySelector('#chart-trend svg.ch-svg');
        return svg && { open: svg.querySelectorAll('.ch-dot--open').length,
                        dashes: svg.querySelectorAll('line.ch-dash').length,
                        desc: (svg.querySelector('desc') || {}).textContent || '' }; }""")
    if drawn:  # (ECharts may already have taken over on a fast machine)
        assert drawn["open"] == 4  # three lines and the legend
        assert drawn["dashes"] >= 3
        assert "本周进行中" in drawn["desc"]
    # Then ECharts after the load event: the same, with tooltips.
    page.wait_for_function("() => { const el = document.getElementById('chart-trend');"
                           " return el && el.hasAttribute('data-live') && el.querySelector('canvas'); }")
    dashed = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-trend')).getOption()"
                           ".series.filter(s => s.lineStyle && s.lineStyle.type === 'dashed').length")
    assert dashed >= 3
    tip = page.evaluate("""() => { const el = document.getElementById('chart-trend');
        const chart = echarts.getInstanceByDom(el), n = chart.getOption().xAxis[0].data.length;
        chart.dispatchAction({ type: 'showTip', seriesIndex: 1, dataIndex: n - 1 });
        return el.innerText; }""")
    assert "本周进行中" in tip and "综合得分" in tip, tip
    if viewport["width"] == 360:
        assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / f"midweek_dashboard_{role}_{viewport['width']}.png"), full_page=True)
    page_log.assert_clean()


@pytest.mark.parametrize("viewport", SIZES, ids=lambda v: str(v["width"]))
@pytest.mark.parametrize("role", ROLES)
def test_print_report_reads_and_fits_a4(sized_page, page_log, screens, role, viewport, tmp_path):
    """Print page: week as 第N周 with dates, ranked units, officers behind by unit, Beijing time, signature; A4 without cut columns."""
    page = sized_page(viewport)
    login(page, role)
    page.goto("/reports/")
    with page.expect_navigation():
        page.locator(".report-actions a", has_text="打印周报").first.click()
    text = page.locator(".report-print").inner_text()
    assert "第" in text and "周（" in text and "生成时间：" in text and "北京时间" in text
    assert "审核人（签字）" in text and "-W" not in text
    assert page.locator(".report-print__table tbody tr").count() >= 2
    assert page.locator(".report-print__unit").count() >= 1
    assert page.locator("button[data-print]").is_visible()
    if viewport["width"] == 360:
        assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / f"print_report_{role}_{viewport['width']}.png"), full_page=True)
    if viewport["width"] == 1366:
        # Paper: the table fits A4's printable width — 794 CSS px at 96 dpi less the 12 mm
        # margins of @page (reports.css), 703 px — with no column cut or scrolled away.
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 703, "height": 1000})
        assert not page.locator("button[data-print]").is_visible()
        widths = page.evaluate("() => { const t = document.querySelector('.report-print__table');"
                               " return [t.getBoundingClientRect().right, document.documentElement.clientWidth,"
                               " t.parentElement.scrollWidth - t.parentElement.clientWidth]; }")
        assert widths[0] <= widths[1] and widths[2] <= 0, widths
        page.set_viewport_size({"width": 794, "height": 1123})
        page.screenshot(path=str(screens / f"print_report_{role}_a4.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:5] == b"%PDF-" and len(pdf) > 10_000
        (screens / f"print_report_{role}.pdf").write_bytes(pdf)
    page_log.assert_clean()


def test_week_without_data_is_said_in_the_browser(sized_page, page_log, screens):
    """A week before the platform's data, typed into the URL, shows the designed empty state."""
    page = sized_page(SIZES[0])
    login(page, "leader")
    page.goto("/reports/?week=2021-W01")
    assert "这一周没有学习或测试数据" in page.locator(".report-nodata").inner_text()
    assert page.locator(".report-table").count() == 0 and page.locator("#chart-trend").count() == 0
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "midweek_no_data_360.png"), full_page=True)
    page_log.assert_clean()


def test_leaderboard_names_parents_mid_week(sized_page, page_log, screens):
    """红榜/黑榜 give each unit its parent and mark a week in progress 暂定."""
    page = sized_page(SIZES[0])
    login(page, "supervisor")
    page.goto("/reports/leaderboard")
    assert "本周进行中（截至" in page.locator(".report-progress").inner_text()
    assert page.locator(".report-parent").count() >= 1
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "midweek_leaderboard_360.png"), full_page=True)
    page_log.assert_clean()
