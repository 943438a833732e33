"""Mid-week judgements of officers (issue 16, point 1): while the week is in progress the
dashboard's study filter, its chips and 一键提醒 judge officers against the pro-rated target
(figures.pace_target_seconds, the one definition); past weeks keep the full target."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import db
from app.models import StudyDay, Unit
from app.reports import queries
from tests.test_reports import MONDAY, WEEK, make_exam
from tests.test_reports_midweek import MONDAY_0005, NEXT_MONDAY_0000, THURSDAY_1400

#: Hours studied on Monday of the week: at Thursday 14:00 the pace is 10 h × 3/7 = 4.3 h.
HOURS = {"officer": 5, "officer2": 1, "officer_a2": 3, "officer_b": 12}


@pytest.fixture
def week_city(app, city, clock):
    """The small test city (officer_c studied nothing) with an exam and Monday's study."""
    clock.now = THURSDAY_1400
    with app.app_context():
        make_exam(db.session)
        for name, hours in HOURS.items():
            db.session.add(StudyDay(user_id=city.users[name], day=MONDAY, seconds=hours * 3600))
        db.session.commit()
    return city


def _behind(app, now) -> set[str]:
    with app.app_context():
        root = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
        return {r["name"] for r in queries.officer_rows(db.session, WEEK, now, root, only="target_not_met")}


def test_study_filter_mid_week_selects_officers_behind_pace(app, week_city):
    """Thursday 14:00: 学习进度落后 selects those below 3/7 of the target, not officer (5 h: short of 10 h but on pace)."""
    assert _behind(app, THURSDAY_1400) == {"officer2", "officer_a2", "officer_c"}


def test_study_filter_of_a_past_week_keeps_the_full_target(app, week_city):
    """A past week: the filter is 学习未达标 against the whole target, as before (officer's 5 h counts as short)."""
    assert _behind(app, NEXT_MONDAY_0000 + timedelta(days=1)) == {"officer", "officer2", "officer_a2", "officer_c"}


def test_nobody_is_behind_on_the_first_day(app, week_city):
    """Monday: no pace yet (the 进度达标 figure starts on Tuesday), so the filter selects nobody."""
    assert _behind(app, MONDAY_0005) == set()


def _rows(html: str) -> dict[str, str]:
    """Each officer row of the table: name → the row's HTML."""
    return {m.group(2): m.group(0) for m in re.finditer(r'<tr class="([^"]*)">\s*<td class="rt-title"><a [^>]*>([^<]+)</a>.*?</tr>',
                                                        html, re.S)}


def _unit_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Unit.id).where(Unit.name == name))


def test_dashboard_mid_week_chips_say_behind_pace_or_met(app, week_city, auth):
    """Thursday: a station's officers read 进度落后 when below the pace, nothing when on pace, 已达标 once the week's target is met; no 学习未达标."""
    client = app.test_client()
    auth.login(client, "leader")
    a1 = _rows(client.get(f"/reports/?week={WEEK}&unit={_unit_id(app, '甲一所')}").get_data(as_text=True))
    assert "is-behind" in a1["officer2"] and "进度落后" in a1["officer2"]
    assert "is-behind" not in a1["officer"] and "进度落后" not in a1["officer"] and "学习未达标" not in a1["officer"]
    b1 = _rows(client.get(f"/reports/?week={WEEK}&unit={_unit_id(app, '乙一所')}").get_data(as_text=True))
    assert "已达标" in b1["officer_b"] and "is-behind" not in b1["officer_b"]
    html = client.get(f"/reports/?week={WEEK}&only=target_not_met").get_data(as_text=True)
    assert "学习进度落后" in html and ">学习未达标<" not in html
    assert set(_rows(html)) == {"officer2", "officer_a2", "officer_c"}


def test_dashboard_of_a_past_week_is_unchanged(app, week_city, auth, clock):
    """After the week: the filter reads 学习未达标, officer (5 h) is flagged 学习未达标 against the full target."""
    clock.now = NEXT_MONDAY_0000 + timedelta(days=1)
    client = app.test_client()
    auth.login(client, "leader")
    a1 = _rows(client.get(f"/reports/?week={WEEK}&unit={_unit_id(app, '甲一所')}").get_data(as_text=True))
    assert "is-behind" in a1["officer"] and "学习未达标" in a1["officer"] and "进度落后" not in a1["officer"]
    html = client.get(f"/reports/?week={WEEK}&only=target_not_met").get_data(as_text=True)
    assert "学习进度落后" not in html and set(_rows(html)) == {"officer", "officer2", "officer_a2", "officer_c"}


def test_remind_mid_week_reaches_only_officers_behind_pace(app, week_city, auth):
    """一键提醒 for the study filter on Thursday counts the supervisor's officers behind pace (officer2, officer_a2), not officer."""
    client = app.test_client()
    auth.login(client, "supervisor")
    html = client.get(f"/reports/remind?week={WEEK}&unit={_unit_id(app, '甲分局')}&only=target_not_met").get_data(as_text=True)
    assert "将向 2 名干警发送「本周学习时长还未达标」提醒" in html
