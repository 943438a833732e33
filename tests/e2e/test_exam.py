"""The weekly exam in a real browser at 360×640 (issue #4; QUALITY E3, E4, E12, E13, E19, E20, E30, A19)."""
from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

#: Screens a reviewer looks at after a run (the brief's /tmp/shots), besides tests/artifacts/screens.
SHOTS = "/tmp/shots"


def shot(page, screens, name: str, full_page: bool = False) -> None:
    from pathlib import Path

    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for folder in (str(screens), SHOTS):
        page.screenshot(path=f"{folder}/{name}.png", full_page=full_page)


def untaken_officer(live_db) -> str:
    """An officer of the demo city with no attempt on this week's exam yet."""
    conn = sqlite3.connect(live_db)
    try:
        return conn.execute(
            "SELECT u.username FROM users u WHERE u.role = 'officer' AND u.username GLOB '1401*' AND u.id NOT IN "
            "(SELECT a.user_id FROM attempts a JOIN exams e ON e.id = a.exam_id "
            " WHERE e.week = (SELECT max(week) FROM exams)) ORDER BY u.id LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def start_exam(page) -> None:
    """On /exams/: tap 开始考试, then 确认开始 in the confirmation, and land on the attempt."""
    page.goto("/exams/")
    opener = page.locator("summary.exam-start__open")
    if opener.count() == 0:
        if page.locator(".exam-card").count() == 0 or "未开始" in page.content():
            pytest.skip("this week's exam is not open yet (it opens Monday 08:00 Asia/Shanghai)")
        pytest.skip("the officer's weekly exam is already taken or closed")
    opener.click()
    with page.expect_navigation():
        page.locator(".exam-start__confirm button[type=submit]").click()
    assert re.search(r"/exams/attempts/\d+(#.*)?$", page.url)


def attempt_id_of(page) -> int:
    return int(re.search(r"/exams/attempts/(\d+)", page.url).group(1))


def goto_question(page, index: int) -> None:
    """Show question ``index`` (0-based) through the 答题卡."""
    page.click("#exam-sheet-open")
    page.locator("#exam-grid .exam-cell").nth(index).click()
    page.wait_for_selector("#exam-sheet", state="hidden")
    assert page.locator(".exam-q").nth(index).is_visible()


def answer(page, index: int | None = None) -> None:
    """Answer question ``index`` (0-based; the one on screen when None): the first option, or a
    word for a fill blank."""
    if index is not None:
        goto_question(page, index)
    q = page.locator(".exam-q.is-current")
    if q.get_attribute("data-type") == "fill":
        q.locator("input").fill("忠诚")
        q.locator("input").dispatch_event("change")
    else:
        q.locator(".exam-option").first.click()


def test_e12_take_exam_offline_reload_submit(page, page_log, screens):
    """E12: an officer takes the exam; answers given offline show 未保存 and reach the server on
    reconnect; a reload shows the same paper and answers; submit shows the score."""
    login(page, "officer")
    page.goto("/exams/")
    page.screenshot(path=str(screens / "exam_index.png"), full_page=True)
    start_exam(page)
    timer = page.locator("#exam-timer").inner_text()
    assert re.match(r"\d\d:\d\d", timer)

    answer(page, 0)
    page.wait_for_selector("#exam-save.is-saved")
    first_stems = page.locator(".exam-q__stem").all_text_contents()

    page.context.set_offline(True)
    answer(page, 1)
    page.wait_for_selector("#exam-save.is-unsaved", timeout=15000)
    assert "未保存" in page.locator("#exam-save").inner_text()
    page.screenshot(path=str(screens / "exam_offline.png"))
    page.context.set_offline(False)
    page.wait_for_selector("#exam-save.is-saved", timeout=40000)

    # While the attempt is open, leaving asks first (beforeunload); accept to reload.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.reload()
    assert dialogs == ["beforeunload"]
    assert page.locator(".exam-q.is-current").get_attribute("data-qid") == \
        page.locator(".exam-q").nth(1).get_attribute("data-qid"), "a reload stays on the question shown"
    assert page.locator(".exam-q__stem").all_text_contents() == first_stems
    assert page.locator(".exam-q").nth(0).locator("input:checked").count() == 1
    second = page.locator(".exam-q").nth(1)
    if second.get_attribute("data-type") != "fill":
        assert second.locator("input:checked").count() == 1
    assert page.locator("#exam-count").inner_text().startswith("2/")
    page.screenshot(path=str(screens / "exam_taking.png"))

    page.click("#exam-sheet-open")
    page.click("#exam-submit")
    assert "未作答" in page.locator("#exam-unanswered").inner_text()
    page.screenshot(path=str(screens / "exam_confirm.png"))
    with page.expect_navigation():
        page.click("#exam-confirm-yes")
    page.wait_for_selector(".exam-score")
    assert page.locator(".exam-score__value").inner_text().strip() != ""
    page.screenshot(path=str(screens / "exam_result.png"), full_page=True)
    page.goto("/exams/mistakes")
    page.screenshot(path=str(screens / "exam_mistakes.png"), full_page=True)
    # The offline stretch was deliberate: its failed requests are expected, nothing else is.
    page_log.console_errors = [e for e in page_log.console_errors if "ERR_INTERNET_DISCONNECTED" not in e]
    page_log.failed = [f for f in page_log.failed if "ERR_INTERNET_DISCONNECTED" not in f]
    page_log.assert_clean()


def test_e4_return_after_deadline_shows_auto_submitted(page, page_log, live_db, screens):
    """E4: coming back to the page after the deadline passed re-syncs with the server and shows 已自动交卷."""
    login(page, untaken_officer(live_db))
    start_exam(page)
    answer(page, 0)
    page.wait_for_selector("#exam-save.is-saved")
    attempt_id = attempt_id_of(page)
    # The phone was locked past the deadline: move the server-side deadline into the past.
    conn = sqlite3.connect(live_db)
    with conn:
        conn.execute("UPDATE attempts SET deadline = datetime('now', '-2 minutes') WHERE id = ?", (attempt_id,))
    conn.close()
    with page.expect_navigation(timeout=20000):
        page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector(".exam-score")
    assert "已自动交卷" in page.content()
    page.screenshot(path=str(screens / "exam_auto_submitted.png"), full_page=True)
    page_log.assert_clean()


def _utc(dt: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores it in SQLite."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


class _PastClose:
    """Move this week's exam past its close on the live server (the server reads the real clock):
    the close, every deadline still running on it and every make-up on it end a minute ago, so its
    keys are released (E27). Everything is put back on exit for the tests that follow."""

    def __init__(self, db, exam_id: int):
        self.db, self.exam_id = db, exam_id

    def __enter__(self):
        past = _utc(datetime.utcnow() - timedelta(minutes=1))
        conn = sqlite3.connect(self.db)
        with conn:
            self.closes_at = conn.execute("SELECT closes_at FROM exams WHERE id = ?", (self.exam_id,)).fetchone()[0]
            self.deadlines = conn.execute("SELECT id, deadline FROM attempts WHERE exam_id = ? AND status = 'in_progress' "
                                          "AND deadline > ?", (self.exam_id, past)).fetchall()
            self.grants = conn.execute("SELECT id, ends_at FROM exam_grants WHERE exam_id = ? AND ends_at > ?",
                                       (self.exam_id, past)).fetchall()
            conn.execute("UPDATE exams SET closes_at = ? WHERE id = ?", (past, self.exam_id))
            conn.executemany("UPDATE attempts SET deadline = ? WHERE id = ?", [(past, i) for i, _ in self.deadlines])
            conn.executemany("UPDATE exam_grants SET ends_at = ? WHERE id = ?", [(past, i) for i, _ in self.grants])
        conn.close()
        return self

    def __exit__(self, *exc):
        conn = sqlite3.connect(self.db)
        with conn:
            conn.execute("UPDATE exams SET closes_at = ? WHERE id = ?", (self.closes_at, self.exam_id))
            conn.executemany("UPDATE attempts SET deadline = ? WHERE id = ?", [(d, i) for i, d in self.deadlines])
            conn.executemany("UPDATE exam_grants SET ends_at = ? WHERE id = ?", [(e, i) for i, e in self.grants])
        conn.close()


def test_e30_exam_flow_confirm_sheet_unanswered_neutral_then_released(page, page_log, live_db, screens):
    """E30/A19: start is confirmed (GET starts nothing); 答题卡 jumps/flags; 交卷 lists unanswered links; results neutral until the close, then right/wrong and 解析."""
    username = untaken_officer(live_db)
    login(page, username)
    page.goto("/exams/")
    opener = page.locator("summary.exam-start__open")
    if opener.count() == 0:
        pytest.skip("this week's exam is not open for this officer now")
    confirm = page.locator(".exam-start__confirm")
    assert not confirm.is_visible()
    opener.click()
    assert confirm.is_visible() and not opener.is_visible()
    text = confirm.inner_text()
    assert "只有一次机会" in text and re.search(r"限时 \d+ 分钟", text) and "自动保存" in text and "计时" in text
    button = confirm.locator("button[type=submit]")
    assert button.bounding_box()["height"] >= 44 and button.bounding_box()["y"] + 44 <= 640, "确认开始 on screen"
    shot(page, screens, "1_start_confirm")
    # A19: a GET on the start URL starts nothing.
    action = confirm.locator("form").get_attribute("action")
    assert page.request.get(action, max_redirects=0).status in (404, 405)
    conn = sqlite3.connect(live_db)
    user_id = conn.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()[0]
    assert conn.execute("SELECT count(*) FROM attempts WHERE user_id = ? AND exam_id = "
                        "(SELECT id FROM exams WHERE week = (SELECT max(week) FROM exams))", (user_id,)).fetchone()[0] == 0
    conn.close()
    with page.expect_navigation():
        button.click()
    attempt_id = attempt_id_of(page)

    # The attempt: no tab bar, a leave guard, one question on screen.
    assert page.locator("nav.app-tabbar").count() == 0
    assert page.evaluate("() => { const e = new Event('beforeunload', {cancelable: true});"
                         " window.dispatchEvent(e); return e.defaultPrevented; }")
    timer = page.locator("#exam-timer").inner_text()
    page.wait_for_timeout(2100)
    assert page.locator("#exam-timer").inner_text() < timer, "the countdown runs"
    total = page.locator(".exam-q").count()
    assert total >= 6 and page.locator(".exam-q:visible").count() == 1
    for sel in ("#exam-prev", "#exam-next", "#exam-sheet-open"):
        assert page.locator(sel).bounding_box()["height"] >= 44, sel

    # The 答题卡 jumps to question 5; flag it, answer it and the next one.
    page.click("#exam-sheet-open")
    assert page.locator("#exam-sheet").is_visible()
    for box in (page.locator("#exam-grid .exam-cell").nth(i).bounding_box() for i in range(total)):
        assert box["height"] >= 44 and box["width"] >= 44
    shot(page, screens, "2_attempt_sheet_open")
    page.locator("#exam-grid .exam-cell").nth(4).click()
    expect_current(page, 4)
    assert not page.locator("#exam-sheet").is_visible()
    page.locator(".exam-q.is-current .exam-flag").click()
    assert page.locator(".exam-q.is-current .exam-flag").get_attribute("aria-pressed") == "true"
    answer(page)
    page.click("#exam-next")
    expect_current(page, 5)
    answer(page)
    page.click("#exam-prev")
    expect_current(page, 4)
    page.wait_for_selector("#exam-save.is-saved")
    page.click("#exam-sheet-open")
    cells = page.locator("#exam-grid .exam-cell")
    assert "is-flagged" in cells.nth(4).get_attribute("class") and "is-answered" in cells.nth(4).get_attribute("class")
    assert "is-answered" in cells.nth(5).get_attribute("class") and "is-answered" not in cells.nth(0).get_attribute("class")
    shot(page, screens, "2b_attempt_sheet_marked")
    page.click("#exam-sheet [data-close]")
    shot(page, screens, "2c_attempt_question")

    # 交卷 from the last question: the unanswered questions as links; follow the first one.
    goto_question(page, total - 1)
    page.click("#exam-last")
    review = page.locator("#exam-review")
    assert review.is_visible()
    assert f"还有 {total - 2} 道题未作答" in review.locator("#exam-unanswered").inner_text()
    assert review.locator("#exam-unanswered-links a").count() == total - 2
    assert review.locator("#exam-flagged-links a").count() == 1
    shot(page, screens, "3_submit_unanswered_list")
    review.locator("#exam-unanswered-links a").first.click()
    expect_current(page, 0)
    assert not review.is_visible()
    answer(page)
    page.wait_for_selector("#exam-save.is-saved")
    page.click("#exam-sheet-open")
    page.click("#exam-submit")
    assert review.locator("#exam-unanswered-links a").count() == total - 3
    answered_types = [page.locator(".exam-q").nth(i).get_attribute("data-type") for i in (0, 4, 5)]
    with page.expect_navigation():
        page.click("#exam-confirm-yes")

    # Before the close: neutral (E30).
    page.wait_for_selector(".exam-score")
    assert page.locator(".is-wrong, .is-right, .is-mine, .is-key, .exam-explain, .exam-state--wrong").count() == 0
    assert page.locator(".exam-q.is-neutral").count() == total
    assert page.locator(".exam-state", has_text="已作答").count() == 3
    assert page.locator(".exam-option.is-chosen").count() == sum(t != "fill" for t in answered_types)
    assert re.search(r"标准答案和解析将于 \d\d-\d\d \d\d:\d\d 公布", page.locator("#exam-reveal-note").inner_text())
    assert "解析" not in page.locator(".exam-questions").inner_text()
    shot(page, screens, "4_result_neutral")
    shot(page, screens, "4_result_neutral_full", full_page=True)

    # After the close: right in green, wrong in red, the key and 解析.
    conn = sqlite3.connect(live_db)
    exam_id = conn.execute("SELECT exam_id FROM attempts WHERE id = ?", (attempt_id,)).fetchone()[0]
    conn.close()
    with _PastClose(live_db, exam_id):
        page.reload()
        page.wait_for_selector(".exam-score")
        assert page.locator("#exam-reveal-note").count() == 0
        graded = page.locator(".exam-q.is-right, .exam-q.is-wrong").count()
        withheld = page.locator(".exam-withheld").count()
        assert graded + withheld == total and graded > 0
        assert page.locator(".exam-q.is-wrong").count() >= total - 3  # the unanswered ones at least
        assert page.locator(".exam-explain").count() >= 1 and page.locator(".exam-option.is-key").count() >= 1
        assert "正确答案" in page.locator(".exam-questions").inner_text()
        shot(page, screens, "5_result_released")
        shot(page, screens, "5_result_released_full", full_page=True)
    page_log.assert_clean()


def expect_current(page, index: int) -> None:
    """Question ``index`` (0-based) is the one on screen, and the only one."""
    qid = page.locator(".exam-q").nth(index).get_attribute("data-qid")
    page.wait_for_selector(f".exam-q.is-current[data-qid='{qid}']")
    assert page.locator(".exam-q:visible").count() == 1
    assert page.url.endswith(f"#q-{qid}")
