"""Phone-first officer tables and the officer page (issue 16, point 2), in a real browser as the
supervisor (小店分局), the leader and the campaign office, at 360×640 and at 1366×768.

On the phone each officer is a card with every number in view and a sort menu above; at the
desk the table keeps every column and its headers sort it; a name opens the officer page.
Screenshots go to tests/artifacts/screens/phone_tables_*.png.
"""
from __future__ import annotations

import re
import sqlite3

import pytest

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 640}
DESK = {"width": 1366, "height": 768}


def unit_id(live_db, name: str) -> int:
    with sqlite3.connect(live_db) as conn:
        return conn.execute("SELECT id FROM units WHERE name = ?", (name,)).fetchone()[0]


@pytest.fixture
def open_page(browser, live_server, page_log):
    contexts = []

    def opener(viewport):
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server)
        context.set_default_timeout(15_000)
        contexts.append(context)
        pg = context.new_page()
        page_log.attach(pg)
        return pg

    yield opener
    for context in contexts:
        context.close()


def hours(page) -> list[float]:
    return [float(t) for t in page.locator('.rt-officers td[data-label="学时"]').all_inner_texts()]


def assert_cards_show_every_number(page, rows: int = 6) -> None:
    """The first cards: header row hidden, each labelled cell visible, inside the 360 px screen,
    with its label above a non-empty value."""
    assert not page.locator(".rt-officers thead").is_visible()
    assert page.locator(".rt-sortbar").is_visible()
    cards = page.locator(".rt-officers tbody tr")
    assert cards.count() > 0
    for i in range(min(rows, cards.count())):
        card = cards.nth(i)
        assert card.locator(".rt-title a").is_visible()
        for cell in card.locator("td[data-label]").all():
            box = cell.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, cell.inner_text()
            label = cell.evaluate("e => getComputedStyle(e, '::before').content")
            assert label == f'"{cell.get_attribute("data-label")}"' and cell.inner_text().strip(), label
    assert horizontal_overflow(page) == []


@pytest.mark.parametrize("role", ["supervisor", "leader", "admin"])
def test_phone_officer_cards_sort_and_open_the_officer_page(open_page, page_log, live_db, screens, role):
    """At 360×640 officers are cards with every number visible, the sort menu reorders them, a tapped name opens the officer page."""
    page = open_page(PHONE)
    login(page, role)
    station, branch = unit_id(live_db, "坞城派出所"), unit_id(live_db, "小店分局")
    page.goto(f"/reports/?unit={branch}")
    units = page.locator(".rt-units tbody tr")
    assert units.count() > 0 and not page.locator(".rt-units thead").is_visible()
    for cell in units.first.locator("td[data-label]").all():
        box = cell.bounding_box()
        assert box and box["x"] + box["width"] <= PHONE["width"] + 0.5, cell.inner_text()
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / f"phone_tables_{role}_units_360.png"), full_page=True)

    page.goto(f"/reports/?unit={branch}&only=exam_not_taken")  # officers of several stations: unit shown
    assert_cards_show_every_number(page)
    assert page.locator(".rt-officers .rt-sub").first.is_visible()
    page.locator("section:has(.rt-officers)").screenshot(path=str(screens / f"phone_tables_{role}_branch_360.png"))

    page.goto(f"/reports/?unit={station}")  # one station: no unit line on every card
    assert_cards_show_every_number(page)
    assert page.locator(".rt-officers .rt-sub").count() == 0
    page.locator("section:has(.rt-officers)").screenshot(path=str(screens / f"phone_tables_{role}_station_360.png"))
    for key, ordered in (("study_seconds", sorted), ("-study_seconds", lambda xs: sorted(xs, reverse=True))):
        with page.expect_navigation():
            page.select_option("#officer-sort", key)
        assert f"sort={key}" in page.url
        assert hours(page) == ordered(hours(page)) and len(hours(page)) > 1
    page.locator("section:has(.rt-officers)").screenshot(path=str(screens / f"phone_tables_{role}_sorted_360.png"))

    first = page.locator(".rt-officers .rt-title a").first
    name = first.inner_text()
    box = first.bounding_box()
    assert box["height"] >= 44, box  # a name is a full-size tap target
    with page.expect_navigation():
        first.click()
    assert re.search(r"/reports/officers/\d+$", page.url)
    assert page.locator("h1").inner_text().startswith(name)
    page.wait_for_selector("#chart-officer-weeks[data-live] canvas")
    assert page.locator(".of-weeks tbody tr").count() == 12
    assert page.locator("#chart-officer-weeks").get_attribute("data-drawn") is not None
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / f"phone_tables_{role}_officer_360.png"), full_page=True)
    page_log.assert_clean()


@pytest.mark.parametrize("role", ["supervisor", "leader", "admin"])
def test_desk_table_keeps_every_column_and_headers_sort(open_page, page_log, live_db, screens, role):
    """At 1366×768 the officer table keeps every column, its headers sort it both ways, a name opens the officer page."""
    page = open_page(DESK)
    login(page, role)
    branch = unit_id(live_db, "小店分局")
    page.goto(f"/reports/?unit={branch}&only=exam_not_taken")
    heads = page.locator(".rt-officers thead th").all_inner_texts()
    assert [h.strip(" ↑↓") for h in heads][:4] == ["姓名", "单位", "学时", "成绩"] and heads[-1] == "状态"
    assert not page.locator(".rt-sortbar").is_visible()
    with page.expect_navigation():
        page.click(".rt-officers thead a:has-text('学时')")
    assert hours(page) == sorted(hours(page))
    with page.expect_navigation():
        page.click(".rt-officers thead a:has-text('学时')")
    assert "sort=-study_seconds" in page.url and hours(page) == sorted(hours(page), reverse=True)
    page.locator("section:has(.rt-officers)").screenshot(path=str(screens / f"phone_tables_{role}_desk_1366.png"))
    with page.expect_navigation():
        page.locator(".rt-officers .rt-title a").first.click()
    assert re.search(r"/reports/officers/\d+$", page.url)
    page.wait_for_selector("#chart-officer-weeks[data-live] canvas")
    page.screenshot(path=str(screens / f"phone_tables_{role}_officer_1366.png"), full_page=True)
    page_log.assert_clean()


def test_phone_admin_people_list_is_cards_and_links_officers(open_page, page_log, screens):
    """At 360×640 the campaign office's people list is one card per person with every field in view; an officer's 学习情况 opens the officer page."""
    page = open_page(PHONE)
    login(page, "admin")
    page.goto("/admin/users?q=%E6%9D%8E")  # 李: officers and others
    cards = page.locator(".rt-cards tbody tr")
    assert cards.count() > 0 and not page.locator(".rt-cards thead").is_visible()
    for i in range(min(5, cards.count())):
        for cell in cards.nth(i).locator("td[data-label]").all():
            box = cell.bounding_box()
            assert box and box["x"] + box["width"] <= PHONE["width"] + 0.5, cell.inner_text()
    assert horizontal_overflow(page) == []
    page.screenshot(path=str(screens / "phone_tables_admin_people_360.png"))
    link = page.locator("a.rt-action").first
    assert link.bounding_box()["height"] >= 44
    with page.expect_navigation():
        link.click()
    assert re.search(r"/reports/officers/\d+$", page.url)
    page_log.assert_clean()
