"""每日一练 in a real browser at 360×640 (issue #14; QUALITY E29, with E26/E28 seen from the page)."""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.timeutils import local_day
from tests.e2e.conftest import VIEWPORT, login

pytestmark = pytest.mark.e2e

#: Screens a reviewer looks at after a run (the brief's /tmp/shots), besides tests/artifacts/screens.
SHOTS = Path("/tmp/shots")
HEADER = 48  # the sticky app header's height: what an anchor must land below


def shot(page, screens, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for folder in (Path(screens), SHOTS):
        page.screenshot(path=str(folder / f"practice_{name}.png"))


def _utc(dt: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores it in SQLite."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


class _ExamOpenNow:
    """This week's exam open now on the live server (which reads the real clock): on a weekday
    it already is; run at the weekend's edges (Sunday after 22:00, Monday before 08:00) its
    window is widened to hold now, and put back on exit. Yields the exam's id."""

    def __init__(self, db):
        self.db = db

    def __enter__(self) -> int:
        now = datetime.utcnow()
        conn = sqlite3.connect(self.db)
        with conn:
            self.exam_id, self.opens_at, self.closes_at = conn.execute(
                "SELECT id, opens_at, closes_at FROM exams WHERE scope = 'city' ORDER BY week DESC LIMIT 1").fetchone()
            conn.execute("UPDATE exams SET opens_at = min(opens_at, ?), closes_at = max(closes_at, ?) WHERE id = ?",
                         (_utc(now - timedelta(hours=1)), _utc(now + timedelta(hours=2)), self.exam_id))
        conn.close()
        return self.exam_id

    def __exit__(self, *exc):
        conn = sqlite3.connect(self.db)
        with conn:
            conn.execute("UPDATE exams SET opens_at = ?, closes_at = ? WHERE id = ?",
                         (self.opens_at, self.closes_at, self.exam_id))
        conn.close()


def practising_officer(db, exam_id: int) -> tuple[str, int]:
    """The demo officer if they have neither started this week's exam nor practised today, else
    the first officer of the demo city in that state."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT username, id FROM users WHERE role = 'officer' AND (username = 'officer' OR username GLOB '1401*')"
            " AND id NOT IN (SELECT user_id FROM attempts WHERE exam_id = ?)"
            " AND id NOT IN (SELECT user_id FROM practice_sets WHERE day = ?)"
            " ORDER BY username != 'officer', id LIMIT 1", (exam_id, local_day(datetime.utcnow()).isoformat())).fetchone()
    finally:
        conn.close()


def question(db, version_id: int) -> dict:
    conn = sqlite3.connect(db)
    try:
        qtype, options, key = conn.execute(
            "SELECT q.qtype, v.options, v.answer FROM question_versions v JOIN questions q ON q.id = v.question_id"
            " WHERE v.id = ?", (version_id,)).fetchone()
    finally:
        conn.close()
    return {"type": qtype, "options": [k for k, _t in json.loads(options)], "key": json.loads(key)}


def choose(card, q: dict, right: bool) -> list[str]:
    """Answer the question on ``card`` right (the key) or wrong; returns what was chosen."""
    if q["type"] == "fill":
        given = [q["key"][0] if right else "不知道"]
        card.locator("input[name=answer]").fill(given[0])
        return given
    wrong = [k for k in q["options"] if k not in q["key"]]
    given = q["key"] if right else wrong[:1]
    for key in given:
        card.locator(f"label.exam-option:has(input[value='{key}'])").click()
    return given


def in_view(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= HEADER - 1 and box["y"] + min(box["height"], 44) <= VIEWPORT["height"]


def fits_phone(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_e29_five_practice_questions_on_a_weekday_while_the_exam_is_open(page, page_log, live_db, screens):
    """E29: while the weekly exam is open and untaken, 每日一练 gives five questions one at a time, none from this week's pool, each graded with its key and 解析."""
    with _ExamOpenNow(live_db) as exam_id:
        username, user_id = practising_officer(live_db, exam_id)
        conn = sqlite3.connect(live_db)
        pool = {qid for (qid,) in conn.execute(
            "SELECT v.question_id FROM exam_pool p JOIN question_versions v ON v.id = p.question_version_id"
            " WHERE p.exam_id = ?", (exam_id,))}
        conn.close()
        assert pool, "this week's exam has a pool"

        login(page, username)
        assert page.url.endswith("/home")
        card = page.locator("#practice-card")
        assert "今日 0 / 5 题" in card.inner_text()
        assert card.get_by_role("link", name="去练习").bounding_box()["height"] >= 44
        page.goto("/exams/")
        assert page.locator("summary.exam-start__open").count() == 1, "the exam is open and not started"
        page.go_back()
        with page.expect_navigation():
            page.locator("#practice-card").get_by_role("link", name="去练习").click()
        assert page.url.endswith("/exams/practice")

        shown, checked_multiple = [], False
        for n in range(1, 6):
            current = page.locator(".practice-current")
            assert current.count() == 1 and page.locator(".exam-q").count() == n, "one question at a time"
            version_id = int(current.get_attribute("id").removeprefix("p-"))
            shown.append(version_id)
            q = question(live_db, version_id)
            assert f"第 {n} 题，共 5 题" in current.inner_text()
            for target in current.locator("label.exam-option, button[type=submit]").all():
                assert target.bounding_box()["height"] >= 44
            if q["type"] != "multiple":
                assert not current.locator("form").evaluate("f => f.checkValidity()"), "the browser blocks an empty answer"
            if n == 1 or (q["type"] == "multiple" and not checked_multiple):
                # Nothing chosen and nothing blocking it (a checkbox group cannot be required; an
                # old browser ignores `required`): the server refuses it and says why.
                checked_multiple = checked_multiple or q["type"] == "multiple"
                current.locator("form").evaluate("f => { f.noValidate = true; }")
                with page.expect_navigation():
                    current.locator("button[type=submit]").click()
                flash = page.locator(".app-flash--error")
                assert "请先选择或填写答案" in flash.inner_text() and in_view(flash)
                assert f"今日 {n - 1} / 5 题" in page.locator("#practice-count").inner_text()
                if n == 1:
                    shot(page, screens, "empty_answer")
                else:
                    page.locator(".practice-continue").click()
                    assert in_view(page.locator(".practice-current"))
                current = page.locator(".practice-current")
                assert current.get_attribute("id") == f"p-{version_id}", "the same question is still to answer"
            right = n != 1  # the first one wrong, to see a mistake marked
            given = choose(current, q, right)
            if n == 1:
                shot(page, screens, "first_question")
            with page.expect_navigation():
                current.locator("button[type=submit]").click()

            # The page lands on the answer: verdict, key and 解析 of this question.
            assert page.url.endswith(f"/exams/practice#p-{version_id}")
            done = page.locator(f"#p-{version_id}")
            verdict = done.locator(".exam-state")
            assert verdict.inner_text().strip().endswith("回答正确" if right else "回答错误")
            assert in_view(verdict), "the result is on screen, below the header"
            assert ("is-right" if right else "is-wrong") in done.get_attribute("class")
            key_text = done.locator(".practice-answer__key").inner_text()
            assert key_text == (" / " if q["type"] == "fill" else "、").join(q["key"])
            assert done.locator(".exam-explain").is_visible() and "解析" in done.locator(".exam-explain").inner_text()
            if q["type"] != "fill":
                assert done.locator(".exam-option.is-key").count() == len(q["key"])
                assert done.locator(".exam-option.is-wrong-pick").count() == (0 if right else len(given))
            assert f"今日 {n} / 5 题" in page.locator("#practice-count").inner_text()
            assert page.locator("#practice-progress").get_attribute("value") == str(n)
            assert fits_phone(page)
            if not right:
                shot(page, screens, "wrong_result")
            nxt = done.locator(".practice-next")
            assert nxt.bounding_box()["height"] >= 44
            if n < 5:
                nxt.scroll_into_view_if_needed()
                nxt.click()
                assert in_view(page.locator(".practice-current")), "下一题 shows the next question"
            else:
                assert nxt.get_attribute("href") == "#practice-done"
                nxt.click()

        finished = page.locator("#practice-done")
        assert in_view(finished)
        text = finished.inner_text()
        streak = int(re.search(r"已连续练习 (\d+) 天", text).group(1))
        assert "今日练习已完成" in text and streak >= 1
        assert page.locator(".practice-current").count() == 0
        assert f"连续练习 {streak} 天" in page.locator("#practice-streak").inner_text()
        shot(page, screens, "done")

        conn = sqlite3.connect(live_db)
        rows = conn.execute("SELECT i.question_id, i.question_version_id FROM practice_items i JOIN practice_sets s"
                            " ON s.id = i.set_id WHERE s.user_id = ? AND s.day = ? ORDER BY i.position",
                            (user_id, local_day(datetime.utcnow()).isoformat())).fetchall()
        conn.close()
        assert [vid for _qid, vid in rows] == shown
        assert not {qid for qid, _vid in rows} & pool, "nothing from this week's pool before the keys are out"

        page.goto("/exams/")
        card = page.locator("#practice-card")
        assert "今日已完成" in card.inner_text() and f"连续 {streak} 天" in card.inner_text()
        assert card.get_by_role("link", name="查看今日练习").bounding_box()["height"] >= 44
        mistakes = page.locator("a[href$='/exams/mistakes']")
        assert mistakes.count() == 1 and mistakes.bounding_box()["height"] >= 44, "the 错题本 link stays"
        assert page.locator("summary.exam-start__open").count() == 1, "practising started no exam"
        card.scroll_into_view_if_needed()
        shot(page, screens, "exams_card")

        page.goto("/home")
        card = page.locator("#practice-card")
        assert "今日已完成" in card.inner_text()
        assert card.locator("progress").get_attribute("value") == "5"
        card.scroll_into_view_if_needed()
        shot(page, screens, "home_card")
    page_log.assert_clean()
