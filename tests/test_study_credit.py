"""Credited study time from heartbeats (QUALITY S1, S3–S8, A16, A19) and the /api/v1/study contract.

The clock fixture is frozen (Monday 2026-03-09 10:00 Asia/Shanghai); tests move it, never sleep.
Helpers here (``make_item``, ``beat``, ``set_policy``) are shared by the other test_study modules.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.models import StudyBeat, StudyCursor, StudyDay, StudyItem, StudyPolicy, StudyProgress

HEARTBEAT_KEYS = {"credited_seconds", "today_seconds", "item_seconds", "daily_target_seconds"}


def make_item(app, *, minutes: int = 30, module: str = "theory", required: bool = True, published: bool = True,
              target_unit_id: int | None = None, publish_at: datetime | None = None,
              unpublish_at: datetime | None = None, kind: str = "article", title: str | None = None) -> int:
    """A study item (flushed and committed); returns its id."""
    with app.app_context():
        count = db.session.scalar(select(func.count(StudyItem.id)))
        item = StudyItem(slug=f"t-{count + 1}-{module}", module=module, kind=kind, title=title or f"测试内容 {count + 1}",
                         body_html="<p>正文</p>", credited_minutes=minutes, required=required, stage="study",
                         target_unit_id=target_unit_id, publish_at=publish_at, unpublish_at=unpublish_at,
                         is_published=published)
        db.session.add(item)
        db.session.commit()
        return item.id


def set_policy(app, effective_from: datetime, **values) -> None:
    """Add a policy version (defaults for what is not given)."""
    from app.study.queries import policy_defaults

    with app.app_context():
        db.session.add(StudyPolicy(effective_from=effective_from, **{**policy_defaults(), **values}))
        db.session.commit()


def beat(client, item_id: int, **body):
    return client.post(f"/api/v1/study/items/{item_id}/heartbeat", json=body or {"inputs": 2, "scroll_pct": 10})


def logged_in(app, auth, username: str = "officer"):
    client = app.test_client()
    assert auth.login(client, username).status_code == 302
    return client


def totals(app, user_id: int) -> dict:
    """Stored figures of one officer: day totals, item totals, raw beats."""
    with app.app_context():
        s = db.session
        return {
            "days": dict(s.execute(select(StudyDay.day, StudyDay.seconds).where(StudyDay.user_id == user_id)).all()),
            "items": dict(s.execute(select(StudyProgress.item_id, StudyProgress.seconds)
                                    .where(StudyProgress.user_id == user_id)).all()),
            "beats": s.scalar(select(func.count(StudyBeat.id)).where(StudyBeat.user_id == user_id)),
            "beat_credit": s.scalar(select(func.coalesce(func.sum(StudyBeat.credited_seconds), 0))
                                    .where(StudyBeat.user_id == user_id)),
            "cursor": s.scalar(select(StudyCursor.last_beat_at).where(StudyCursor.user_id == user_id)),
        }


def test_s1_two_tabs_ten_minutes_credit_ten_minutes(app, city, auth, clock):
    """S1: two tabs beating alternately for 10 minutes are credited 10 minutes, not 20."""
    item = make_item(app, minutes=60)
    other = make_item(app, minutes=60)
    tab_a, tab_b = logged_in(app, auth), logged_in(app, auth)
    start = clock.now
    credited = 0
    for t in range(0, 601, 15):
        clock.now = start + timedelta(seconds=t)
        tab, item_id = (tab_a, item) if t % 30 == 0 else (tab_b, other)
        for client in (tab,):
            resp = beat(client, item_id)
            assert resp.status_code == 200, resp.get_json()
            credited += resp.get_json()["credited_seconds"]
        # Each tab's own 30-second timer would also fire 2 s after the other tab's beat: refused.
        late = beat(tab_b if tab is tab_a else tab_a, item_id)
        assert late.status_code in (200, 429)
    stored = totals(app, city.users["officer"])
    assert credited == 600
    assert sum(stored["days"].values()) == 600 == stored["beat_credit"]


def test_s3_client_durations_are_ignored(app, city, auth, clock):
    """S3: duration, seconds, client_time and similar fields are ignored; only server time counts."""
    item = make_item(app)
    client = logged_in(app, auth)
    assert beat(client, item).get_json()["credited_seconds"] == 0
    clock.advance(seconds=30)
    resp = beat(client, item, duration=99999, seconds=99999, client_time="2030-01-01T00:00:00Z",
                credited_seconds=99999, elapsed=99999, today_seconds=99999, inputs=3, scroll_pct=20)
    data = resp.get_json()
    assert resp.status_code == 200 and set(data) == HEARTBEAT_KEYS
    assert data["credited_seconds"] == 30 and data["today_seconds"] == 30 and data["item_seconds"] == 30


def test_s4_long_gap_earns_at_most_one_interval(app, city, auth, clock):
    """S4: after a 20-minute gap (phone locked) the next beat earns nothing beyond interval + slack."""
    item = make_item(app)
    client = logged_in(app, auth)
    beat(client, item)
    clock.advance(minutes=20)
    after_gap = beat(client, item).get_json()
    assert after_gap["credited_seconds"] <= 40 and after_gap["today_seconds"] <= 40
    clock.advance(seconds=30)
    assert beat(client, item).get_json()["credited_seconds"] == 30
    assert sum(totals(app, city.users["officer"])["days"].values()) <= 70


def test_s5_burst_and_replay_never_exceed_elapsed_time(app, city, auth, clock):
    """S5: 100 beats in one second and a replayed capture credit no more than the elapsed server time; extras get 429."""
    item = make_item(app)
    client = logged_in(app, auth)
    beat(client, item)
    clock.advance(seconds=30)
    start = clock.now
    statuses = []
    for i in range(100):
        clock.now = start + timedelta(milliseconds=10 * i)
        statuses.append(beat(client, item))
    ok = [r for r in statuses if r.status_code == 200]
    refused = [r for r in statuses if r.status_code == 429]
    assert len(ok) == 1 and len(refused) == 99
    assert refused[0].get_json()["error"]["code"] == "too_many_requests"
    # Replaying the same captured request at the same instant is refused too.
    assert beat(client, item).status_code == 429
    stored = totals(app, city.users["officer"])
    assert stored["beat_credit"] == sum(stored["days"].values()) == 30
    assert stored["beats"] == 2  # a refused beat stores nothing


def test_s6_item_credit_stops_at_its_credited_minutes(app, city, auth, clock):
    """S6: an article worth 10 minutes read for 40 is credited 10 minutes."""
    item = make_item(app, minutes=10)
    client = logged_in(app, auth)
    last = None
    for _ in range(81):
        last = beat(client, item).get_json()
        clock.advance(seconds=30)
    assert last["item_seconds"] == 600 and last["today_seconds"] == 600 and last["credited_seconds"] == 0
    with app.app_context():
        progress = db.session.get(StudyProgress, (city.users["officer"], item))
        assert progress.seconds == 600 and progress.done and progress.completed_at is not None


def test_s7_daily_cap(app, city, auth, clock):
    """S7: daily credit stops at the configured cap."""
    set_policy(app, clock.now - timedelta(days=1), daily_cap_seconds=300)
    items = [make_item(app, minutes=10) for _ in range(2)]
    client = logged_in(app, auth)
    for i in range(25):
        beat(client, items[i // 15])
        clock.advance(seconds=30)
    stored = totals(app, city.users["officer"])
    assert list(stored["days"].values()) == [300]
    assert stored["beat_credit"] == 300


def test_s7_midnight_splits_and_never_credits_a_past_day(app, city, auth, clock):
    """S7: reading across 00:00 Asia/Shanghai (16:00 UTC) splits between days; nothing is added to the past day."""
    from datetime import date

    item = make_item(app, minutes=60)
    clock.now = datetime(2026, 3, 9, 15, 59, 0)  # 23:59:00 local
    client = logged_in(app, auth)
    beat(client, item)
    clock.advance(seconds=30)  # 23:59:30
    assert beat(client, item).get_json()["credited_seconds"] == 30
    clock.advance(seconds=40)  # 00:00:10 on Tuesday
    after = beat(client, item).get_json()
    assert after["credited_seconds"] == 10 and after["today_seconds"] == 10
    stored = totals(app, city.users["officer"])
    assert stored["days"] == {date(2026, 3, 9): 30, date(2026, 3, 10): 10}


def test_s8_unavailable_items_credit_nothing(app, city, auth, clock):
    """S8: unpublished, outside the window, not targeted at the officer's unit, or unknown: 404 and nothing credited."""
    now = clock.now
    hidden = [
        make_item(app, published=False),
        make_item(app, publish_at=now + timedelta(hours=1)),
        make_item(app, unpublish_at=now - timedelta(minutes=1)),
        make_item(app, target_unit_id=city.branch_b),
        999999,
    ]
    visible = make_item(app, target_unit_id=city.branch_a)
    client = logged_in(app, auth)
    beat(client, visible)
    before = totals(app, city.users["officer"])
    for item_id in hidden:
        clock.advance(seconds=30)
        resp = beat(client, item_id)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found", item_id
    assert totals(app, city.users["officer"]) == before
    listed = {i["id"] for i in client.get("/api/v1/study/items").get_json()["items"]}
    assert listed == {visible}
    assert client.get(f"/study/items/{hidden[3]}").status_code == 404


def test_a19_heartbeat_is_post_only(app, city, auth):
    """A19: a GET on the heartbeat URL is refused and stores nothing."""
    item = make_item(app)
    client = logged_in(app, auth)
    assert client.get(f"/api/v1/study/items/{item}/heartbeat").status_code == 405
    assert totals(app, city.users["officer"])["beats"] == 0


def test_a16_officer_sees_only_own_progress(app, city, auth, clock):
    """A16: officer A cannot read B's progress (no user parameter is honoured) or study B's unit-only item."""
    item_b = make_item(app, target_unit_id=city.station_b1)
    shared = make_item(app)
    b = logged_in(app, auth, "officer_b")
    beat(b, item_b)
    clock.advance(seconds=30)
    beat(b, item_b)
    b_before = totals(app, city.users["officer_b"])
    a = logged_in(app, auth)
    progress = a.get(f"/api/v1/study/progress?user_id={city.users['officer_b']}").get_json()
    assert progress["today_seconds"] == 0 and progress["week_seconds"] == 0
    assert a.get(f"/api/v1/study/items?user_id={city.users['officer_b']}").get_json()["items"][0]["studied_seconds"] == 0
    assert [i["id"] for i in a.get("/api/v1/study/items").get_json()["items"]] == [shared]
    assert beat(a, item_b).status_code == 404
    assert a.get(f"/study/items/{item_b}/media").status_code == 404
    assert totals(app, city.users["officer_b"]) == b_before


def test_contract_items(app, city, auth, clock):
    """GET /study/items: exactly the contract fields, required first, ?module= filters, a bad module is 422."""
    optional = make_item(app, required=False, module="warning")
    required = make_item(app, module="warning", minutes=1)
    other = make_item(app, module="theory")
    client = logged_in(app, auth)
    beat(client, required)
    clock.advance(seconds=30)
    beat(client, required)
    clock.advance(seconds=30)
    beat(client, required)
    items = client.get("/api/v1/study/items?module=warning").get_json()["items"]
    assert [i["id"] for i in items] == [required, optional]
    assert set(items[0]) == {"id", "title", "module", "kind", "credited_minutes", "required", "studied_seconds", "done"}
    assert items[0]["studied_seconds"] == 60 and items[0]["done"] is True and items[1]["done"] is False
    assert other in {i["id"] for i in client.get("/api/v1/study/items").get_json()["items"]}
    bad = client.get("/api/v1/study/items?module=nope")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid"


def test_contract_progress_and_streak(app, city, auth, clock):
    """GET /study/progress: day, today/week seconds, targets and the streak; ?day= reads another day; a bad day is 422."""
    from datetime import date

    officer = city.users["officer"]
    with app.app_context():
        for d, s in ((date(2026, 3, 6), 7300), (date(2026, 3, 7), 7200), (date(2026, 3, 8), 8000),
                     (date(2026, 3, 5), 100), (date(2026, 3, 9), 600)):
            db.session.add(StudyDay(user_id=officer, day=d, seconds=s))
        db.session.commit()
    client = logged_in(app, auth)
    today = client.get("/api/v1/study/progress").get_json()
    assert today == {"day": "2026-03-09", "today_seconds": 600, "daily_target_seconds": 7200, "week_seconds": 600,
                     "weekly_target_seconds": 36000, "streak_days": 3}
    sunday = client.get("/api/v1/study/progress?day=2026-03-08").get_json()
    assert sunday["today_seconds"] == 8000 and sunday["week_seconds"] == 8000 + 7200 + 7300 + 100
    assert sunday["streak_days"] == 3
    for bad in ("2026-13-01", "yesterday", "2026-3-9", "2026-03-09T00:00"):
        resp = client.get(f"/api/v1/study/progress?day={bad}")
        assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid", bad


def test_contract_heartbeat_errors(app, city, auth):
    """POST heartbeat: a non-numeric signal is 422 and a non-JSON body 400, both storing nothing."""
    item = make_item(app)
    client = logged_in(app, auth)
    resp = beat(client, item, inputs="many")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid"
    resp = client.post(f"/api/v1/study/items/{item}/heartbeat", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert totals(app, city.users["officer"])["beats"] == 0


@pytest.mark.parametrize("role", ["supervisor", "leader", "admin"])
def test_study_api_is_officer_only(app, city, auth, role):
    """The study API answers 403 to every role but officer."""
    item = make_item(app)
    client = logged_in(app, auth, role)
    for resp in (client.get("/api/v1/study/items"), client.get("/api/v1/study/progress"), beat(client, item)):
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"


def test_policy_is_versioned_and_beats_keep_theirs(app, city, auth, clock):
    """A policy change applies from its effective time; earlier beats keep the policy they were credited under."""
    item = make_item(app)
    client = logged_in(app, auth)
    beat(client, item)
    set_policy(app, clock.now + timedelta(seconds=1), heartbeat_seconds=10, slack_seconds=2, min_gap_seconds=3)
    clock.advance(seconds=30)
    assert beat(client, item).get_json()["credited_seconds"] == 0  # 30 s > 10 + 2 under the new policy
    clock.advance(seconds=10)
    assert beat(client, item).get_json()["credited_seconds"] == 10
    with app.app_context():
        policies = db.session.scalars(select(StudyBeat.policy_id).order_by(StudyBeat.id)).all()
    assert policies[0] != policies[1] == policies[2]


def test_pages_render_for_the_officer(app, city, auth, clock):
    """The study pages render: overview, module list, reader, history, and home with today's progress first."""
    item = make_item(app, minutes=3, module="theory", title="四项任务逐条读")
    client = logged_in(app, auth)
    beat(client, item)
    clock.advance(seconds=30)
    beat(client, item)
    home = client.get("/home").get_data(as_text=True)
    assert home.index("今日学习") < home.index("继续学习")
    assert "四项任务逐条读" in home
    for path in ("/study/", "/study/m/theory", f"/study/items/{item}", "/study/history",
                 "/study/history?week=2026-W09&month=2026-02"):
        resp = client.get(path)
        assert resp.status_code == 200, path
    reader = client.get(f"/study/items/{item}").get_data(as_text=True)
    assert 'data-heartbeat-url="/api/v1/study/items/%d/heartbeat"' % item in reader
    assert client.get("/study/m/nope").status_code == 404
    assert client.get("/study/history?week=2026-W99").status_code == 400
