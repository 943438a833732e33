"""Demo study content and history, the recheck command, and the seed time budget."""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from app.db import db
from app.models import MODULES, StudyDay, StudyItem, StudyProgress, Unit, User
from app.seed.services import seed_demo
from app.seed import films
from app.seed import study_demo as demo
from app.study import flags, queries
from app.study.cli import recheck
from app.timeutils import day_bounds_utc, local_day, week_key
from tests.test_study_credit import beat, logged_in, make_item


@pytest.fixture
def demo_city(app, clock, tmp_path):
    """``seed demo`` at the frozen clock (Monday 10:00 local), committed."""
    with app.app_context():
        seed_demo(db.session, clock.now, demo_password="tiejun2021", hash_method="pbkdf2:sha256:1000")
        db.session.commit()
    return tmp_path


def test_demo_content_and_video(app, demo_city, clock):
    """seed demo publishes at least 30 items in all five modules city-wide from five weeks ago, a daily lecture per working day, and locally made videos."""
    with app.app_context():
        s = db.session
        items = s.scalars(select(StudyItem)).all()
        articles = [i for i in items if not i.slug.startswith("lecture-")]
        assert len(articles) >= 30 and {i.module for i in articles} == set(MODULES)
        assert all(i.is_published and i.target_unit_id is None and i.publish_at == clock.now - timedelta(weeks=5)
                   for i in articles)
        lectures = [i for i in items if i.slug.startswith("lecture-")]
        assert len(lectures) == 25 and all(i.kind == "video" and i.credited_minutes == 120 for i in lectures)
        # Released at 00:00 local (16:00 UTC the day before) on Monday–Friday of five weeks.
        releases = sorted(local_day(i.publish_at + timedelta(hours=8)) for i in lectures)
        assert all(d.weekday() < 5 for d in releases) and len(set(releases)) == 25
        assert all((i.publish_at + timedelta(hours=8)).time() == datetime.min.time() for i in lectures)
        video = next(i for i in items if i.slug == "warning-film-intro")
        assert video.media_type == "video/webm"
        assert (demo_city / "media" / video.media_file).stat().st_size > 10_000
        assert all("<script" not in i.body_html for i in items)
        handbook = next(i for i in items if i.kind == "document")
        assert handbook.media_type == "application/pdf"
        assert (demo_city / "media" / handbook.media_file).read_bytes().startswith(b"%PDF-")
    # Monday 10:00: this Monday's lecture is out, Tuesday's to Friday's are scheduled, not visible.
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "tiejun2021"})
    visible = {i["title"] for i in client.get("/api/v1/study/items").get_json()["items"]}
    this_week = [i for i in lectures if i.publish_at > clock.now - timedelta(days=1)]
    assert [i.title in visible for i in sorted(this_week, key=lambda i: i.publish_at)] == [True, False, False, False, False]


def test_s6_demo_videos_last_at_least_their_credited_minutes(app, demo_city):
    """S6: every shipped video really lasts at least the minutes it credits (duration read from the WebM file)."""
    with app.app_context():
        videos = db.session.scalars(select(StudyItem).where(StudyItem.kind == "video")).all()
    assert len(videos) == 26
    for item in videos:
        seconds = films.film_seconds(demo_city / "media" / item.media_file)
        assert item.credited_minutes * 60 <= seconds < item.credited_minutes * 60 + 60, (item.slug, seconds)


def test_s6_demo_content_lets_a_diligent_officer_meet_every_weekly_target_within_the_caps(app, demo_city, clock):
    """S6/S7: with the shipped content and the default caps, an officer studying 2 h each working day meets the daily target every working day and the weekly target in each of the five campaign weeks."""
    today = local_day(clock.now)
    monday = today - timedelta(days=today.weekday())
    with app.app_context():
        s = db.session
        officer = s.scalar(select(User).where(User.username == "officer"))
        policy = queries.current_policy(s, clock.now)
        cap_seconds = {}   # item id -> seconds it may still earn (item cap)
        for week in range(4, -1, -1):
            first = monday - timedelta(weeks=week)
            week_total = 0
            for offset in range(7):
                day = first + timedelta(days=offset)
                evening = day_bounds_utc(day)[0] + timedelta(hours=20)  # 20:00 local
                visible = s.scalars(select(StudyItem).where(queries.visible_clause(officer, evening))
                                    .order_by(StudyItem.publish_at, StudyItem.id)).all()
                wanted = min(policy.daily_target_seconds, policy.daily_cap_seconds,
                             policy.weekly_target_seconds - week_total)
                studied = 0
                for item in visible:
                    left = cap_seconds.setdefault(item.id, int(policy.item_cap_multiple * item.credited_minutes * 60))
                    take = min(left, wanted - studied)
                    cap_seconds[item.id] -= take
                    studied += take
                if offset < 5:
                    assert studied == policy.daily_target_seconds, (day, studied)
                week_total += studied
            assert week_total >= policy.weekly_target_seconds, (first, week_total)


def test_demo_officer_history(app, demo_city, clock):
    """The demo officer has history, a streak, a partly done today, an item to continue and raw beats that recheck."""
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "tiejun2021"})
    progress = client.get("/api/v1/study/progress").get_json()
    assert 0 < progress["today_seconds"] < progress["daily_target_seconds"]
    assert progress["streak_days"] >= 3
    items = client.get("/api/v1/study/items").get_json()["items"]
    assert any(i["done"] for i in items) and any(not i["done"] and i["studied_seconds"] == 0 for i in items)
    assert not next(i for i in items if i["kind"] == "video")["done"]
    home = client.get("/home").get_data(as_text=True)
    assert "从上次位置继续" in home
    with app.app_context():
        s = db.session
        officer = s.scalar(select(User.id).where(User.username == "officer"))
        days = s.scalars(select(StudyDay.day).where(StudyDay.user_id == officer)).all()
        assert min(days) <= local_day(clock.now) - timedelta(days=21)
        assert recheck(s) == (1, [])
        assert flags.detect_flags(s, week_key(clock.now), clock.now) == 0


def test_demo_spread_some_units_diligent_some_behind(app, demo_city, clock):
    """History has a realistic spread: stations' average weekly time differs widely."""
    today = local_day(clock.now)
    with app.app_context():
        rows = db.session.execute(
            select(User.unit_id, func.sum(StudyDay.seconds) / func.count(func.distinct(User.id)))
            .join(StudyDay, StudyDay.user_id == User.id)
            .where(StudyDay.day >= today - timedelta(days=28), StudyDay.day < today)
            .group_by(User.unit_id)).all()
    averages = sorted(float(a) for _, a in rows)
    assert len(averages) > 20
    assert averages[-1] > 1.8 * averages[0]


def test_recheck_command_reports_mismatches(app, city, auth, clock):
    """`flask study recheck` recomputes daily totals from raw beats: exit 0 when they agree, 1 with the mismatch named."""
    item = make_item(app)
    client = logged_in(app, auth)
    for _ in range(4):
        beat(client, item)
        clock.advance(seconds=30)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["study", "recheck"])
    assert ok.exit_code == 0 and "checked 1 officer-days" in ok.output and "0 mismatch" in ok.output
    with app.app_context():
        db.session.execute(update(StudyDay).values(seconds=StudyDay.seconds + 7))
        db.session.commit()
    bad = runner.invoke(args=["study", "recheck", "--day", "2026-03-09"])
    assert bad.exit_code == 1 and "beats 90 s, stored 97 s" in bad.output
    assert runner.invoke(args=["study", "recheck", "--day", "2026-03-08"]).exit_code == 0


def _bulk_city(session, officers: int) -> list[int]:
    """A flat synthetic city: 1 root and ~officers/33 stations, officers inserted in bulk."""
    root = Unit(code="B", name="预算测试市", level="city", depth=0, path="")
    session.add(root)
    session.flush()
    root.path = f"/{root.id}/"
    stations = []
    for n in range(officers // 33 + 1):
        unit = Unit(code=f"B-{n}", name=f"第{n}所", level="system", depth=1, parent_id=root.id, path="")
        session.add(unit)
        stations.append(unit)
    session.flush()
    for unit in stations:
        unit.path = f"{root.path}{unit.id}/"
    session.execute(insert(User), [
        {"username": f"b{i:05d}", "name": f"干警{i}", "unit_id": stations[i % len(stations)].id, "role": "officer",
         "password_hash": "!", "is_active": True, "is_demo": True} for i in range(officers)])
    return list(session.scalars(select(User.id).where(User.role == "officer")))


@pytest.mark.slow
def test_seed_city_study_part_fits_the_budget(app, clock, request):
    """seed city --officers 10028 --weeks 12: the study part (content + history, bulk inserts) takes at most 20 s."""
    if "postgresql" in request.node.name:
        pytest.skip("the budget is for the embedded SQLite default")
    with app.app_context():
        s = db.session
        officer_ids = _bulk_city(s, 10028)
        started = time.perf_counter()
        demo.load_content(s, clock.now)
        demo.seed_activity(s, clock.now, officer_ids, 12, random.Random(7))
        s.commit()
        elapsed = time.perf_counter() - started
        days = s.scalar(select(func.count()).select_from(StudyDay))
        progress = s.scalar(select(func.count()).select_from(StudyProgress))
    print(f"study seed: {elapsed:.1f}s for {days} day rows and {progress} progress rows")
    assert days > 10028 * 84 * 0.4 and progress > 10028 * 5
    assert elapsed <= 20, elapsed


def test_s6_policy_page_figure_new_content_this_week_matches_the_demo(app, demo_city, clock):
    """S6: this week's new city-wide content in the demo (five 2-hour lectures) equals the 10-hour weekly target."""
    with app.app_context():
        new, available = queries.week_content_seconds(db.session, week_key(local_day(clock.now)), 1.0)
    assert new == 600 * 60 and available > new
