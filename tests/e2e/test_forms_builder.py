"""The office's form builder in a real browser, on a phone (360×640) and at a desk (1366×768).

The admin creates a small 满意度测评 form (aimed at 郝庄派出所, so no other browser test's people
see it), publishes version 1, edits a field's label in place, moves it up past a section heading,
moves another question straight into section 二 from its own page, sees the "draft differs"
badge, and publishes version 2. Every control on the builder and on the
field's edit page is a tap target of at least 44×44 CSS px.
"""
from __future__ import annotations

import re

import pytest

from .conftest import login
from .test_a11y import MIN_TARGET, TAP_TARGETS_JS
from .test_forms import fits

pytestmark = pytest.mark.e2e

VIEWPORTS = {"phone": {"width": 360, "height": 640}, "desk": {"width": 1366, "height": 768}}


def small_targets(page) -> list[str]:
    return page.evaluate(TAP_TARGETS_JS, MIN_TARGET)


def field_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#fields .fm-builder__text strong").all_inner_texts()]


def add_field(page, kind: str, label: str, options: str = "") -> None:
    page.select_option("#kind", kind)
    page.fill("#label", label)
    if options:
        page.fill("#options", options)
    with page.expect_navigation():
        page.click("button:has-text('添加')")


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_admin_edits_and_moves_a_field_then_publishes(browser, live_server, page_log, screens, size):
    """Edit a label in place and move the field into the section above; the badge shows the unpublished change; publishing gives version 2; tap targets ≥ 44 px."""
    ctx = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN", base_url=live_server)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page_log.attach(page)
    login(page, "admin")
    title = f"满意度测评（{size}）"
    page.goto("/forms/manage/new")
    page.fill("#title", title)
    unit = page.eval_on_selector("#target_unit_id",
                                 "s => [...s.options].find(o => o.text.includes('郝庄派出所')).value")
    page.select_option("#target_unit_id", unit)
    page.fill("#due_at", "2027-01-15T18:00")
    with page.expect_navigation():
        page.click("button:has-text('创建')")
    assert re.search(r"/forms/manage/\d+$", page.url)
    add_field(page, "section", "一、总体评价")
    add_field(page, "single", "总体评价", "满意\n基本满意\n不满意")
    add_field(page, "section", "二、意见建议")
    add_field(page, "textarea", "意见建议")
    with page.expect_navigation():
        page.click("#publish button")
    assert "已发布第 1 版" in page.inner_text("body")
    assert page.locator("#draft-differs").count() == 0

    # Edit the last field's label in place: the page is prefilled and says when changes apply.
    page.click("#field-f4 a:has-text('修改')")
    page.wait_for_url(re.compile(r"/fields/3/edit$"))
    assert page.input_value("#label") == "意见建议"
    notice = page.inner_text(".fm-notice")
    assert "发布新版本" in notice and "保留原来的版本" in notice
    assert not small_targets(page), small_targets(page)
    if size == "phone":
        fits(page, "the field's edit page")
    page.screenshot(path=str(screens / f"forms-builder-field-{size}.png"), full_page=True)
    page.fill("#label", "对教育整顿的意见和建议")
    with page.expect_navigation():
        page.click("button:has-text('保存修改')")
    assert page.url.endswith("#field-f4")
    assert field_labels(page)[3] == "对教育整顿的意见和建议"
    assert page.locator("#draft-differs").is_visible()

    # Move it up past the heading of section 二: it now belongs to section 一.
    with page.expect_navigation():
        page.click("#field-f4 button[aria-label^='上移']")
    assert field_labels(page) == ["一、总体评价", "总体评价", "对教育整顿的意见和建议", "二、意见建议"]
    assert not small_targets(page), small_targets(page)
    if size == "phone":
        fits(page, "the builder")
    # And 总体评价 straight into section 二 from its own page.
    page.click("#field-f2 a:has-text('修改')")
    page.select_option("#section", label="二、意见建议")
    with page.expect_navigation():
        page.click("#move-section button")
    assert field_labels(page) == ["一、总体评价", "对教育整顿的意见和建议", "二、意见建议", "总体评价"]
    page.locator("#fields").screenshot(path=str(screens / f"forms-builder-moved-{size}.png"))
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar would sit mid-page in a full-page shot
    page.screenshot(path=str(screens / f"forms-builder-edit-{size}.png"), full_page=True)

    page.goto("/forms/manage/")
    row = page.locator("tr", has_text=title)
    assert "草稿有未发布的修改" in row.inner_text()
    page.screenshot(path=str(screens / f"forms-builder-list-{size}.png"), full_page=size == "phone")
    row.locator("a", has_text=title).click()
    with page.expect_navigation():
        page.click("#publish button:has-text('发布新版本')")
    assert "已发布第 2 版" in page.inner_text("body") and page.locator("#draft-differs").count() == 0
    page.goto("/forms/manage/")
    row = page.locator("tr", has_text=title)
    assert "第 2 版" in row.inner_text() and "草稿有未发布的修改" not in row.inner_text()
    page_log.assert_clean()
    ctx.close()
