"""The rectification ledger in a real browser at 360×640 (issue 17 "Done when"): a unit closes a
ledger item with a photo and the supervisor above accepts it.

The demo's 坞城派出所 supervisor (``wucheng``) opens the station's open item, writes what was done,
attaches a phone photo and asks for 销号; the item waits (its own supervisor has no accept button);
the 小店分局 ``supervisor`` finds it under 待我验收, sees the photo and accepts; the item is 已销号
and the branch's 整改完成率 on /ledger/ rises. Screenshots go to tests/artifacts/screens/.
"""
from __future__ import annotations

import re

import pytest
from PIL import Image

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

DONE = "已责令该民警书面说明情况，其配偶已于本月停止经营；全所完成经商办企业情况再排查，均已登记备案。"


def fits(page, what: str) -> None:
    sticking_out = horizontal_overflow(page)
    assert not sticking_out, f"{what} scrolls sideways at 360 px:\n" + "\n".join(sticking_out[:12])


def rate(page) -> str:
    return page.locator("#ledger-rate").inner_text().strip()


def test_unit_closes_an_item_with_a_photo_and_the_supervisor_above_accepts(browser, live_server, page, page_log,
                                                                          screens, tmp_path):
    """A station asks for 销号 with a photo; only the branch above can accept it, and does."""
    photo = tmp_path / "scene.jpg"
    Image.new("RGB", (1200, 900), (40, 120, 90)).save(photo, format="JPEG")

    # The branch supervisor's completion rate before.
    sup_ctx = browser.new_context(viewport=page.viewport_size, locale="zh-CN", base_url=live_server)
    sup = sup_ctx.new_page()
    page_log.attach(sup)
    login(sup, "supervisor")
    sup.goto("/ledger/")
    before = rate(sup)

    # The station's own supervisor works on the open item of 坞城派出所.
    login(page, "wucheng")
    page.goto("/me")
    page.click("#me-ledger")
    page.wait_for_url(re.compile(r"/ledger/"))
    item = page.locator(".lg-list a", has_text="配偶在辖区经营").first
    item.click()
    page.wait_for_url(re.compile(r"/ledger/items/\d+"))
    item_url = page.url
    page.fill("#text", DONE)
    page.set_input_files("#files", str(photo))
    fits(page, "the evidence form")
    page.screenshot(path=str(screens / "ledger-evidence-360.png"), full_page=True)
    with page.expect_navigation():
        page.click("#evidence-form button[value=submit]")
    assert page.locator("#item-status").inner_text().strip() == "待验收"
    assert page.locator("#item-evidence img").count() == 2  # the demo's draft photo and this one
    assert page.locator("#review-form").count() == 0, "the unit may not close its own item"
    page.screenshot(path=str(screens / "ledger-submitted-360.png"), full_page=True)

    # The supervisor above accepts it.
    sup.goto("/ledger/")
    sup.locator("#ledger-awaiting a", has_text="配偶在辖区经营").click()
    sup.wait_for_url(re.compile(re.escape(item_url.split("?")[0]) + r"(\?|$)"))  # its own list in the query
    img = sup.locator("#item-evidence img").last
    assert sup.locator("#item-evidence img").count() == 2 and img.evaluate("i => i.complete && i.naturalWidth > 0")
    sup.screenshot(path=str(screens / "ledger-review-360.png"), full_page=True)
    with sup.expect_navigation():
        sup.click("#review-form button[value=accept]")
    assert "已销号" in sup.locator(".weui-toptips, .app-flash, [role=status], body").first.inner_text()
    fits(sup, "the ledger page")
    sup.screenshot(path=str(screens / "ledger-index-360.png"), full_page=True)
    after = rate(sup)
    assert float(after.rstrip("%")) > float(before.rstrip("%")), (before, after)

    page.goto(item_url)
    assert page.locator("#item-status").inner_text().strip() == "已销号"
    sup_ctx.close()
    page_log.assert_clean()


def test_dashboard_card_and_orders_at_360(browser, live_server, page, page_log, screens):
    """The dashboard's 整改台账 card links to the ledger; the 督办令 page shows each unit's answer;
    the city-wide ledger on a desk (1366×768) shows every unit's figures."""
    login(page, "admin")
    page.goto("/ledger/orders/")
    page.locator(".lg-list a").first.click()
    page.wait_for_url(re.compile(r"/ledger/orders/\d+"))
    states = page.locator("#order-targets").inner_text()
    assert "已回复" in states and "未回复" in states
    fits(page, "the order page")
    page.screenshot(path=str(screens / "ledger-order-360.png"), full_page=True)
    page.context.clear_cookies()
    login(page, "supervisor")
    page.goto("/reports/")
    card = page.locator("#dashboard-ledger")
    assert "整改完成率" in card.inner_text()
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(screens / "ledger-dashboard-card-360.png"), full_page=True)
    page.click("#dashboard-ledger-link")
    page.wait_for_url(re.compile(r"/ledger/\?unit=\d+"))
    desk_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    desk = desk_ctx.new_page()
    page_log.attach(desk)
    login(desk, "leader")
    desk.goto("/ledger/?status=overdue")
    assert desk.locator("#ledger-units tr[data-unit]").count() > 60
    desk.screenshot(path=str(screens / "ledger-city-1366.png"))
    desk_ctx.close()
    page_log.assert_clean()


#: The ledger's pages each demo account can open (GET only, nothing changes).
LEDGER_PAGES = {
    "officer": ["/ledger/", "/ledger/items/2", "/home"],
    "wucheng": ["/ledger/", "/ledger/new", "/ledger/items/1"],
    "supervisor": ["/ledger/", "/ledger/?status=all", "/ledger/?status=overdue", "/ledger/new", "/ledger/orders/",
                   "/ledger/orders/1", "/ledger/items/4"],
    "leader": ["/ledger/", "/ledger/orders/", "/ledger/orders/1"],
    "admin": ["/ledger/", "/ledger/new", "/ledger/orders/", "/ledger/orders/new", "/ledger/items/5"],
}


@pytest.mark.parametrize("role", list(LEDGER_PAGES))
def test_ledger_pages_fit_360_without_console_errors(page, page_log, screens, role):
    """Every ledger page of every role opens (200), carries the CSRF meta, fits 360 px, and shows no
    console error, CSP violation or foreign request."""
    login(page, role)
    for path in LEDGER_PAGES[role]:
        response = page.goto(path)
        assert response is not None and response.status == 200, (role, path, response and response.status)
        assert page.locator('meta[name="csrf-token"]').get_attribute("content")
        page.screenshot(path=str(screens / f"ledger_{role}_{path.strip('/').replace('/', '_').replace('?', '_')}.png"),
                        full_page=True)
        fits(page, f"{role} {path}")
    page_log.assert_clean()


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_walk_findings_at_360(browser, live_server, page, page_log, screens):
    """Walk report #4, #15, #16, #17 at 360×640: wucheng's 工作台 shows the unanswered 督办令 on the
    first screen; the ledger's status filters all show (全部 included, none cut off); the by-unit
    table's names sit on the line of their figures; every attachment link is at least 44×44; the
    supervisor's 消息 has the 待验收 notice that opens the item."""
    login(page, "wucheng")
    assert "/reports/" in page.url
    todo = page.locator("#todo-orders")
    assert "待本单位回复 1 份" in todo.inner_text()
    box = todo.bounding_box()
    assert box["y"] + box["height"] <= 640 and box["height"] >= 44, box
    page.screenshot(path=str(screens / "ledger-wucheng-landing-360.png"))
    with page.expect_navigation():
        todo.click()
    assert re.search(r"/ledger/orders/\d+$", page.url) and page.locator("#respond-form").count() == 1
    fits(page, "the order wucheng must answer")
    page.context.clear_cookies()

    login(page, "supervisor")
    page.goto("/ledger/")
    chips = page.locator(".lg-filters a")
    assert chips.count() == 5
    for i in range(5):
        b = chips.nth(i).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= 360 and b["height"] >= 44, (chips.nth(i).inner_text(), b)
    assert chips.last.inner_text().strip() == "全部" and chips.last.is_visible()
    row = page.locator("#ledger-units tr[data-unit]").nth(1)
    name, figure = row.locator("td").first.locator("a"), row.locator("td.num").first
    name_mid = name.bounding_box()["y"] + name.bounding_box()["height"] / 2
    figure_mid = figure.bounding_box()["y"] + figure.bounding_box()["height"] / 2
    assert abs(name_mid - figure_mid) <= 3, (name_mid, figure_mid)
    page.locator("#ledger-units").scroll_into_view_if_needed()
    page.screenshot(path=str(screens / "ledger-filters-360.png"), full_page=True)
    for cell in page.locator("#ledger-units td.num").all():
        assert cell.evaluate("c => getComputedStyle(c).whiteSpace") == "nowrap"

    page.goto("/notices/")
    with page.expect_navigation():  # an open request: one answered earlier reads 已完成
        page.locator("button.notice:not(.is-done)", has_text="待您验收").first.click()
    assert re.search(r"/ledger/items/\d+$", page.url), page.url
    assert page.locator("#review-form").count() == 1
    for link in page.locator("#item-evidence a").all():
        b = link.bounding_box()
        assert b["width"] >= 44 and b["height"] >= 44, b
    page.screenshot(path=str(screens / "ledger-evidence-files-360.png"), full_page=True)

    page.goto("/ledger/orders/")
    page.locator(".lg-list a", has_text="近亲属从事律师职业").click()
    page.wait_for_url(re.compile(r"/ledger/orders/\d+"))
    attach = page.locator(".lg-attach").first
    b = attach.bounding_box()
    assert b["width"] >= 44 and b["height"] >= 44, b
    attach.scroll_into_view_if_needed()
    page.screenshot(path=str(screens / "ledger-order-attachment-360.png"))
    page_log.assert_clean()
