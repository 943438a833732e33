"""Campaign tasks in a real browser at 360×640 (issue #6 "Done when").

The campaign office publishes a reflection task for the current stage; the demo officer writes
it with a photo carrying GPS metadata and submits; the demo supervisor returns it with a
comment; the officer sees the returned notice and the unread badge on the tab bar, reads the
notices (the badge goes away), fixes and resubmits; the supervisor accepts; the officer's unit's
task completion figure (``/api/v1/reports/units``) moves. A draft survives a reload, and the
supervisor confirms the party lecture for several officers at once.

A fresh task (with a unique title) keeps the flow independent of the seeded submissions and of
the order the e2e files run in.
"""
from __future__ import annotations

import io
import re
import secrets
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from app.timeutils import week_key

from .conftest import VIEWPORT, login
from .test_shell import horizontal_overflow

pytestmark = pytest.mark.e2e

LOCAL = ZoneInfo("Asia/Shanghai")
FIRST = ("学习警示教育片后，我对照“六大顽瘴痼疾”逐条查摆，发现自己在接处警回访中存在敷衍了事的问题，"
         "今后每起警情都按规定回访并登记。")
FIX = "整改措施：一、本周内补齐三月以来全部警情回访记录；二、每周五由所长抽查回访台账，发现问题当场纠正。"


def gps_jpeg(path) -> None:
    """A phone photo with the camera's GPS position in its EXIF block."""
    img = Image.new("RGB", (1200, 900), (40, 96, 170))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (37.0, 52.0, 12.0), 3: "E", 4: (112.0, 33.0, 1.0)}
    img.save(path, format="JPEG", exif=exif.tobytes())
    assert Image.open(path).getexif().get_ifd(0x8825), "the sample photo really carries GPS"


def fits(page, what: str) -> None:
    """Nothing sticks out past the right edge of the 360 px phone."""
    sticking_out = horizontal_overflow(page)
    assert not sticking_out, f"{what} scrolls sideways at 360 px:\n" + "\n".join(sticking_out[:12])


def tap_target_ok(locator, min_height: int = 40) -> None:
    box = locator.bounding_box()
    assert box is not None and box["height"] >= min_height and box["width"] >= 44, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"] + 0.5, box


def badge(page) -> int:
    """The unread count on the tab bar's 我的 tab (0 when no badge is shown)."""
    el = page.locator("nav.app-tabbar .app-badge")
    if el.count() == 0:
        return 0
    text = el.inner_text().strip()
    return 100 if text == "99+" else int(text)


def read_everything(page) -> None:
    """Read every notice: 全部标为已读 for reminders, then open what is still unread (an
    announcement counts as read only once opened)."""
    page.goto("/notices/")
    read_all = page.get_by_role("button", name="全部标为已读")
    if read_all.count():
        with page.expect_navigation():
            read_all.click()
    for _ in range(50):
        page.goto("/notices/")
        unread = page.locator(".notice.is-unread")
        if unread.count() == 0:
            return
        with page.expect_navigation():
            unread.first.click()
    raise AssertionError("notices stay unread after opening them")


def flash(page) -> str:
    return " ".join(page.locator(".app-flash").all_inner_texts())


def unit_of(live_db, username: str) -> int:
    conn = sqlite3.connect(live_db)
    try:
        return conn.execute("SELECT unit_id FROM users WHERE username = ?", (username,)).fetchone()[0]
    finally:
        conn.close()


def completion(page, week: str, unit_id: int) -> tuple[float | None, int]:
    """The unit's task_completion_rate and the demo officer's tasks_done, as the supervisor's API says."""
    units = page.request.get(f"/api/v1/reports/units?week={week}&unit={unit_id}")
    assert units.ok, units.text()
    row = next(r for r in units.json()["rows"] if r["unit_id"] == unit_id)
    officers = page.request.get(f"/api/v1/reports/units/{unit_id}/officers?week={week}")
    assert officers.ok, officers.text()
    mine = next(o for o in officers.json()["officers"] if o["name"] == "李晓东")
    return row["task_completion_rate"], mine["tasks_done"] or 0


def publish_reflection(browser, base: str, screens, title: str, due_local: datetime) -> None:
    """The campaign office (admin) publishes a required reflection for the current stage."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base)
    page = context.new_page()
    login(page, "admin")
    page.goto("/tasks/manage")
    page.locator("summary", has_text="布置新任务").click()
    stage = page.locator("#stage_id option", has_text="查纠整改").get_attribute("value")
    page.select_option("#stage_id", stage)
    page.select_option("#kind", "reflection")
    page.select_option("#target_unit_id", "0")
    page.fill("#title", title)
    page.fill("#description", "结合本岗位查纠整改情况，写出问题和整改措施，不少于 40 字。")
    page.fill("#min_chars", "40")
    page.fill("#due_at", due_local.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.get_by_role("button", name="发布任务").click()
    assert "任务已发布" in flash(page)
    page.screenshot(path=str(screens / "tasks_manage.png"), full_page=True)
    fits(page, "/tasks/manage")
    # Its edit page (nothing changed here): the campaign office may edit, delete or withdraw it.
    row = page.locator(".tk-managed", has_text=title)
    tap_target_ok(row.get_by_role("link", name="修改"))
    with page.expect_navigation():
        row.get_by_role("link", name="修改").click()
    assert page.locator("#title").input_value() == title
    assert page.locator("#due_at").input_value() == due_local.strftime("%Y-%m-%dT%H:%M")
    assert page.get_by_role("button", name="删除任务").is_visible()
    page.screenshot(path=str(screens / "tasks_edit.png"), full_page=True)
    fits(page, "the task edit page")
    context.close()


def test_task_flow_submit_return_badge_resubmit_accept(browser, page, page_log, screens, live_server, live_db,
                                                       tmp_path):
    """Issue 6 done-when: write a reflection with a photo on the phone, submit; the supervisor
    returns it with a comment; the officer gets a notice and the tab-bar badge, fixes and
    resubmits; the supervisor accepts; the unit's task completion moves."""
    title = f"撰写整改心得（浏览器测试 {secrets.token_hex(2)}）"
    due = datetime.now(LOCAL).replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(days=1)
    week = week_key(due.date())
    publish_reflection(browser, live_server, screens, title, due)
    photo = tmp_path / "IMG_20260309_101500.jpg"
    gps_jpeg(photo)

    # --- the officer: this stage's tasks, the form, a photo, submit -----------------------
    login(page, "officer")
    page.goto("/tasks/")
    assert "当前阶段：查纠整改" in page.locator(".tk-lead").inner_text()
    row = page.locator("a.tk-row", has_text=title)
    assert row.count() == 1 and "未完成" in row.inner_text()
    assert page.locator("a.tk-row.is-overdue").count() >= 1  # the seeded party lecture is overdue, shown plainly
    page.screenshot(path=str(screens / "tasks_officer_list.png"), full_page=True)
    fits(page, "/tasks/")
    with page.expect_navigation():
        row.click()
    task_url = page.url
    assert page.locator("h1").inner_text() == title
    page.fill("#text", FIRST)
    assert int(page.locator("[data-char-count]").inner_text()) == len(re.sub(r"\s", "", FIRST))
    page.set_input_files("#photos", str(photo))
    page.screenshot(path=str(screens / "tasks_officer_form.png"), full_page=True)
    fits(page, "the completion form")
    for button in ("保存草稿", "提交审核"):
        tap_target_ok(page.get_by_role("button", name=button))
    with page.expect_navigation():
        page.get_by_role("button", name="提交审核").click()
    assert "已提交，等待单位审核" in flash(page)
    assert "待审核" in page.locator("a.tk-row", has_text=title).inner_text()
    badge_before = badge(page)

    # --- the supervisor returns it with a comment --------------------------------------------
    sup_context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=live_server)
    sup = sup_context.new_page()
    page_log.attach(sup)
    login(sup, "supervisor")
    unit_id = unit_of(live_db, "officer")
    rate_before, done_before = completion(sup, week, unit_id)
    sup.goto("/tasks/review")
    sup.screenshot(path=str(screens / "tasks_review_list.png"), full_page=True)
    fits(sup, "/tasks/review")
    line = sup.locator("a.tk-sub", has_text=title)
    assert line.count() == 1 and "李晓东" in line.inner_text()
    tap_target_ok(line)
    with sup.expect_navigation():
        line.click()
    assert FIRST in sup.locator(".tk-text").inner_text()
    proof = sup.locator(".tk-photos img")
    assert proof.count() == 1
    proof.scroll_into_view_if_needed()
    sup.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=proof.element_handle())
    # The stored photo is a fresh JPEG without the GPS block (A34).
    served = sup.request.get(proof.get_attribute("src"))
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(served.body()))
    assert not stored.getexif() and "exif" not in stored.info
    sup.screenshot(path=str(screens / "tasks_review_form.png"), full_page=True)
    fits(sup, "the review page")
    sup.fill("#comment", "请写出具体整改措施和完成时限后重新提交。")
    with sup.expect_navigation():
        sup.get_by_role("button", name="退回修改").click()
    assert "已退回" in flash(sup)

    # --- the officer: the badge, the notice, fix and resubmit -----------------------------------
    page.goto("/home")
    assert badge(page) == badge_before + 1
    page.screenshot(path=str(screens / "tasks_officer_badge.png"))
    home_card = page.locator("#campaign-stage")
    assert "被退回" in home_card.inner_text()
    page.locator("nav.app-tabbar .weui-tabbar__item", has_text="我的").click()
    page.wait_for_url("**/me")
    page.goto("/notices/")
    note = page.locator(".notice", has_text=title)
    assert note.count() == 1 and "请写出具体整改措施" in note.inner_text()
    assert "is-unread" in (note.get_attribute("class") or "")
    page.screenshot(path=str(screens / "tasks_officer_notices.png"), full_page=True)
    fits(page, "/notices/")
    with page.expect_navigation():
        note.click()  # reading the notice leads to the task
    assert badge(page) == badge_before, "reading the return notice takes it off the badge"
    read_everything(page)
    page.goto("/home")
    assert badge(page) == 0, "the badge goes away once the notices are read"
    assert page.locator("nav.app-tabbar .app-badge").count() == 0

    page.goto(task_url)
    assert "请写出具体整改措施" in page.locator(".app-card--error").inner_text()
    assert page.locator("#text").input_value() == FIRST
    assert page.locator(".tk-photos img").count() == 1  # the photo is kept for the resubmission
    page.fill("#text", FIRST + "\n" + FIX)
    page.screenshot(path=str(screens / "tasks_officer_returned.png"), full_page=True)
    fits(page, "the returned task")
    with page.expect_navigation():
        page.get_by_role("button", name="提交审核").click()
    assert "已提交" in flash(page)

    # --- the supervisor accepts; the unit's completion moves -------------------------------------
    sup.goto("/tasks/review")
    with sup.expect_navigation():
        sup.locator("a.tk-sub", has_text=title).click()
    assert FIX in sup.locator(".tk-text").inner_text()
    with sup.expect_navigation():
        sup.get_by_role("button", name="通过").click()
    assert "已通过" in flash(sup)
    rate_after, done_after = completion(sup, week, unit_id)
    assert done_after == done_before + 1
    assert rate_after is not None and (rate_before or 0) < rate_after
    sup_context.close()

    page.goto(task_url)
    assert page.locator("#task-status").inner_text() == "已通过"
    page.goto("/tasks/")
    page.screenshot(path=str(screens / "tasks_officer_done.png"), full_page=True)
    page_log.assert_clean()


def test_draft_survives_reload(browser, page, page_log, screens, live_server, live_db):
    """A saved draft is on the server (a reload, or another phone, shows it); text typed after the
    last save survives a reload of the same tab."""
    conn = sqlite3.connect(live_db)
    username = conn.execute(
        "SELECT u.username FROM users u WHERE u.role = 'officer' AND u.is_active AND u.username GLOB '1401*' "
        "AND u.id NOT IN (SELECT s.user_id FROM task_submissions s JOIN tasks t ON t.id = s.task_id "
        "                 WHERE t.title = '撰写警示教育学习心得') ORDER BY u.id DESC LIMIT 1").fetchone()[0]
    task_id = conn.execute("SELECT id FROM tasks WHERE title = '撰写警示教育学习心得'").fetchone()[0]
    conn.close()
    login(page, username)
    page.goto(f"/tasks/{task_id}")
    page.fill("#text", "草稿：看了警示教育片，")
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    assert "草稿已保存" in flash(page)
    assert page.locator("#task-status").inner_text() == "草稿"
    page.reload()
    assert page.locator("#text").input_value() == "草稿：看了警示教育片，"

    # Typed but not saved: the same tab brings it back after a reload.
    page.fill("#text", "草稿：看了警示教育片，深受触动，")
    page.reload()
    assert page.locator("#text").input_value() == "草稿：看了警示教育片，深受触动，"
    assert page.locator("#tk-restored").is_visible()
    page.screenshot(path=str(screens / "tasks_draft_restored.png"), full_page=True)
    fits(page, "the draft")

    # Another phone of the same officer sees the server's draft (the unsaved words stay local).
    other = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=live_server)
    phone = other.new_page()
    login(phone, username)
    phone.goto(f"/tasks/{task_id}")
    assert phone.locator("#text").input_value() == "草稿：看了警示教育片，"
    assert not phone.locator("#tk-restored").is_visible()
    other.close()
    page_log.assert_clean()


def test_supervisor_confirms_party_lecture_for_several_officers(page, page_log, screens, live_db):
    """The attendance list of an event task: who in the subtree has not confirmed; several
    officers confirmed at once."""
    login(page, "supervisor")
    page.goto("/tasks/events")
    card = page.locator("a.tk-row", has_text="参加专题党课")
    assert card.count() == 1
    page.screenshot(path=str(screens / "tasks_events.png"), full_page=True)
    fits(page, "/tasks/events")
    with page.expect_navigation():
        card.click()
    counts_before = page.locator("#tk-counts").inner_text()
    confirmed_before = int(re.search(r"已确认 (\d+)", counts_before).group(1))
    boxes = page.locator("input[name=user_id]")
    assert boxes.count() >= 3
    page.screenshot(path=str(screens / "tasks_attendance.png"))
    fits(page, "the attendance list")
    tap_target_ok(page.locator(".tk-attend__row").first, min_height=44)
    tap_target_ok(page.get_by_role("button", name="确认参加"))
    # Two officers other than the demo officer, whose lecture stays overdue for the demo.
    rows = page.locator(".tk-attend__row", has=page.locator("input[name=user_id]"))
    picked = [r for r in (rows.nth(i) for i in range(rows.count()))
              if r.locator(".tk-attend__name").inner_text() != "李晓东"][:2]
    names = [r.locator(".tk-attend__name").inner_text() for r in picked]
    for r in picked:
        r.locator("input[name=user_id]").check()
    page.get_by_role("button", name="确认参加").scroll_into_view_if_needed()
    page.screenshot(path=str(screens / "tasks_attendance_bottom.png"))
    with page.expect_navigation():
        page.get_by_role("button", name="确认参加").click()
    assert "已确认 2 人参加" in flash(page)
    after = page.locator("#tk-counts").inner_text()
    assert int(re.search(r"已确认 (\d+)", after).group(1)) == confirmed_before + 2
    page.goto(page.url.split("?")[0] + "?status=accepted")
    accepted = page.locator(".tk-attend__name").all_inner_texts()
    assert set(names) <= set(accepted)
    page.screenshot(path=str(screens / "tasks_attendance_done.png"))
    # Select all on the page (tasks.js) ticks every unconfirmed officer.
    page.goto(page.url.split("?")[0] + "?status=open")
    if page.locator("input[name=user_id]").count():
        page.check("[data-check-all]")
        assert page.locator("input[name=user_id]:not(:checked)").count() == 0
    page_log.assert_clean()
