"""Confidential 查纠整改 forms in a real browser at 360×640 (issue 17 "Done when").

The demo officer opens 个人有关事项报告 from the home page, answers, adds two relatives (the second
row through "添加一行"), attaches a photo, leaves; the typed answers were saved by the page's
autosave and the photo by "保存草稿". Back at the draft everything is there; the officer submits.
The demo inspector (纪检督察 of 小店分局) reads it from the desk and opens the photo; the demo
supervisor of the same branch sees only the status and gets 404 at the submission's URL; the
officer's page lists the inspector's reads. The inspector then sends it back with a reason: the
draft is the officer's again (404 to the inspector), the officer's list says it was sent back and
the fill page says why.
"""
from __future__ import annotations

import re

import pytest
from PIL import Image

from .conftest import login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

REASON = "第二位亲属的工作单位请写全称。"
RELATIVES = [("王磊", "儿子", "律师", "山西晋阳律师事务所"), ("赵敏", "儿媳", "律师助理", "山西汾河律师事务所")]


def fits(page, what: str) -> None:
    sticking_out = horizontal_overflow(page)
    assert not sticking_out, f"{what} scrolls sideways at 360 px:\n" + "\n".join(sticking_out[:12])


def test_officer_fills_inspector_reads_officer_sees_the_read(browser, live_server, page, page_log, screens, tmp_path):
    """Fill with two relatives and a photo, leave, return to the draft, submit; the inspector reads it; the supervisor gets 404; the officer sees the read."""
    photo = tmp_path / "proof.png"
    Image.new("RGB", (320, 240), (30, 90, 160)).save(photo, format="PNG")

    login(page, "officer")
    page.click("text=填报：个人有关事项报告")
    page.wait_for_url(re.compile(r"/forms/\d+$"))
    form_url = page.url
    page.check("input[name=f_marital][value=已婚]")
    page.check("input[name=f_lawyer][value=yes]")
    page.fill("#f_lawyer_details", "儿子、儿媳在律师事务所工作，已按规定报告。")
    for c, value in zip(("c1", "c2", "c3", "c4"), RELATIVES[0]):
        page.fill(f"#f_relatives__0__{c}", value)
    page.click("[data-add-row=relatives]")  # the script adds row 2 at once (the first blank row is row 1)
    for c, value in zip(("c1", "c2", "c3", "c4"), RELATIVES[1]):
        page.fill(f"#f_relatives__1__{c}", value)
    page.check("input[name=f_business][value=no]")
    page.check("input[name=f_interfere][value=no]")
    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        page.fill("textarea[name=f_other]", "无其他事项。")
    page.wait_for_selector("text=草稿已自动保存")
    fits(page, "the fill page")
    page.screenshot(path=str(screens / "forms-fill-360.png"), full_page=True)
    page.set_input_files("#file_proof", str(photo))
    with page.expect_navigation():
        page.click("button[name=action][value=draft]")
    assert "草稿已保存" in page.inner_text("body")

    # Leave and come back: the draft holds the answers, both relatives and the photo.
    page.goto("/home")
    page.goto(form_url)
    assert page.input_value("#f_relatives__1__c4") == RELATIVES[1][3]
    assert page.input_value("#f_relatives__0__c1") == RELATIVES[0][0]
    assert page.is_checked("input[name=f_lawyer][value=yes]")
    assert page.locator(".fm-file a").count() == 1
    page.once("dialog", lambda dialog: dialog.dismiss())  # 提交后不能修改：the page asks first; "cancel" keeps the draft
    page.click("button[name=action][value=submit]")
    assert page.url == form_url
    with page.expect_navigation():
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[name=action][value=submit]")
    assert "已提交" in page.inner_text("body")
    submission_url = page.url
    assert re.search(r"/forms/submissions/\d+$", submission_url)
    assert "还没有人查看过" in page.inner_text("#reads")
    page_log.assert_clean()

    # The inspector of 小店分局 finds it on the desk and reads it, photo included.
    inspector = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", base_url=live_server)
    ip = inspector.new_page()
    login(ip, "inspector")
    assert "/forms/desk" in ip.url
    ip.click("text=个人有关事项报告")
    fits(ip, "the inspector's desk")
    ip.screenshot(path=str(screens / "forms-desk-inspector-360.png"))
    ip.click("text=李晓东")
    assert ip.url == submission_url
    body = ip.inner_text("body")
    assert RELATIVES[1][3] in body and RELATIVES[0][0] in body
    fits(ip, "the inspector's view")
    ip.screenshot(path=str(screens / "forms-inspector-360.png"), full_page=True)
    with ip.expect_popup() as popup:
        ip.click(".fm-answer a[href*='/files/']")
    assert popup.value.url.startswith(submission_url + "/files/")
    inspector.close()

    # The branch's ordinary supervisor: status only, and 404 at the submission's address.
    sup = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", base_url=live_server)
    sp = sup.new_page()
    login(sp, "supervisor")
    assert sp.goto(submission_url).status == 404
    sup.close()

    # The officer sees who read it.
    page.reload()
    reads = page.inner_text("#reads")
    assert "小店分局纪检督察" in reads and "查看附件" in reads
    page.screenshot(path=str(screens / "forms-reads-360.png"), full_page=True)

    # The inspector sends it back with a reason: back on the desk, the draft is the officer's again (404).
    inspector = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", base_url=live_server)
    ip = inspector.new_page()
    login(ip, "inspector")
    ip.goto(submission_url)
    ip.fill("#reason", REASON)
    with ip.expect_navigation():
        ip.click("text=退回本人修改")
    assert "/forms/desk/" in ip.url and "已退回本人修改" in ip.inner_text("body")
    assert ip.goto(submission_url).status == 404
    inspector.close()
    # The officer: the list says it was sent back, the fill page says why.
    page.goto("/forms/")
    assert "已退回修改，请打开查看原因" in page.inner_text("body") and REASON not in page.content()
    page.goto(form_url)
    assert REASON in page.inner_text("[role=alert]")
    fits(page, "the reopened fill page")
    page.screenshot(path=str(screens / "forms-reopened-360.png"), full_page=False)


def test_desk_and_builder_on_a_desktop(browser, live_server, screens):
    """At 1366×768 the supervisor's desk shows the 个人事项 form's progress without answers, and the office's builder lists its questions."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    pg = ctx.new_page()
    login(pg, "supervisor")
    pg.goto("/forms/desk")
    pg.click("text=个人有关事项报告")
    body = pg.inner_text("body")
    assert "已提交" in body and "未提交" in body and "/forms/submissions/" not in pg.content()
    pg.screenshot(path=str(screens / "forms-desk-supervisor-1366.png"), full_page=False)
    ctx.close()
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    pg = ctx.new_page()
    login(pg, "admin")
    pg.goto("/forms/manage/")
    pg.click("text=个人有关事项报告")
    assert "亲属从业情况" in pg.inner_text("#fields")
    pg.screenshot(path=str(screens / "forms-builder-1366.png"), full_page=True)
    ctx.close()
