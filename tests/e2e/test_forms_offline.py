"""A weak signal loses nothing typed into a form (walk report #1): an autosave that fails is
kept in the tab, shown as waiting, retried when the phone is back online, and restored after a
reload; the server ends up with what was typed. Real Chromium at 360×640, the autosave
request made to fail by the browser itself."""
from __future__ import annotations

import re

import pytest

from .conftest import login

pytestmark = pytest.mark.e2e

TEXT = "信号不好时写下的自查情况：已主动说明。"


def test_a_draft_typed_offline_is_kept_restored_and_saved_when_back_online(browser, live_server, page, page_log, screens):
    """Autosave fails → the note says it waits; a reload restores the text from the tab; back online it is saved, and a new session reads it from the server."""
    login(page, "officer")
    page.goto("/forms/")
    page.locator("a.fm-row", has_text="自查自纠报告").click()
    page.wait_for_url(re.compile(r"/forms/\d+$"))
    form_url = page.url
    note = page.locator("[data-saved-note]")

    page.route("**/autosave", lambda route: route.abort("internetdisconnected"))
    page.fill("#f_found", TEXT)
    page.wait_for_function("() => document.querySelector('[data-saved-note]').textContent.includes('暂存')")
    page.screenshot(path=str(screens / "forms-offline-waiting-360.png"), full_page=False)

    page.reload()
    assert page.input_value("#f_found") == TEXT  # restored from the tab, not from the server
    page.unroute("**/autosave")
    page.context.set_offline(True)
    page.context.set_offline(False)  # the "online" event: retried at once
    page.wait_for_function("() => document.querySelector('[data-saved-note]').textContent.includes('草稿已自动保存')")
    assert re.search(r"\d{2}:\d{2}$", note.inner_text().strip())

    fresh = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 640})
    other = fresh.new_page()
    try:
        login(other, "officer")
        other.goto(form_url)
        assert other.input_value("#f_found") == TEXT  # the server has it
    finally:
        fresh.close()
