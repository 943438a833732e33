"""Demo study content and history, for ``seed demo`` and ``seed city``.

``load_content`` publishes the shipped items (``app/seed_data/study_items.yaml``, cleaned with
nh3 like any other content) to the whole city from five weeks ago, and one two-hour lecture
recording per working day of this week and the four before, each released at 00:00 local on its
day (so the rest of this week's are scheduled, not yet visible). Short articles alone add up to
about two hours in all, while the targets are 2 h a day and 10 h a week; with the item cap at
its credited minutes (S6), only new material each day can make the targets reachable, which is
what a campaign office does (a 专题讲座 recording a day). The films are written into the media
folder from ``films.ivf`` by ``app.seed.films`` (pure Python; each lasts exactly the minutes its
item credits). It also creates the default crediting policy.

``seed_activity`` writes history in bulk, one executemany per table: per-officer-per-day totals
(``StudyDay``) and per-item progress (``StudyProgress``) with a realistic spread: every unit
draws a profile (diligent, steady or behind), every officer a personal factor, weekends are
quieter, and today is partly done in proportion to the hour. Synthetic history has no raw
beats (a 10,028-officer city over 12 weeks would need tens of millions), so ``study recheck``
compares only officer-days that have raw beats. The demo ``officer`` account is the exception:
its study session this morning is written as real raw beats, credited by the same rules as
live heartbeats, so it can be rechecked, and its history ends in a streak.
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import MODULES, StudyBeat, StudyCursor, StudyDay, StudyItem, StudyProgress, User
from ..timeutils import day_bounds_utc, local_day
from ..study import media
from ..study.sanitize import clean_html
from ..study.services import ensure_policy
from . import films

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"
DEMO_OFFICER = "officer"


@dataclass(frozen=True)
class Profile:
    """How a unit studies: chance to study on a weekday / weekend day, minutes on such a day
    (mean, spread), and the share of items finished."""

    weekday: float
    weekend: float
    minutes: float
    spread: float
    done: tuple[float, float]


PROFILES = (
    (0.30, Profile(0.93, 0.65, 118, 22, (0.85, 1.0))),   # diligent
    (0.45, Profile(0.78, 0.45, 85, 30, (0.55, 0.85))),   # steady
    (0.25, Profile(0.45, 0.20, 45, 25, (0.15, 0.50))),   # behind
)


def load_content(session: Session, now: datetime) -> dict:
    """Publish the shipped items city-wide from five weeks ago, and the daily lectures on their
    release days (one per working day of this week and the four before; later days of this
    week are scheduled, not yet visible); returns {"items": n, "lectures": m}."""
    ensure_policy(session, now)
    entries = yaml.safe_load((SEED_DIR / "study_items.yaml").read_text(encoding="utf-8")) or []
    film_list, lectures = films.plan(entries)
    built = _build_films(film_list)
    order = {m: 0 for m in MODULES}
    start = now - timedelta(weeks=5)
    for entry in entries:
        order[entry["module"]] += 1
        media_file = media_type = None
        if entry.get("film"):
            media_file, media_type = built[entry["slug"]], "video/webm"
        elif entry.get("document"):
            stored = media.copy_into_media(SEED_DIR / "media" / entry["document"])
            media_file, media_type = stored.name, stored.mime
        session.add(StudyItem(
            slug=entry["slug"], module=entry["module"], kind=entry.get("kind", "article"), title=entry["title"],
            summary=entry.get("summary", ""), body_html=clean_html(entry.get("body")),
            credited_minutes=int(entry["credited_minutes"]), required=bool(entry.get("required", True)),
            stage=entry.get("stage", "study"), media_file=media_file, media_type=media_type,
            publish_at=start, is_published=True, sort_order=order[entry["module"]] * 10,
            created_at=start, updated_at=start))
    today = local_day(now)
    monday = today - timedelta(days=today.weekday())
    for lecture in lectures:
        release = monday - timedelta(weeks=films.LECTURE_WEEKS - 1 - lecture.week) + timedelta(days=lecture.weekday)
        publish_at = day_bounds_utc(release)[0]
        outline = "".join(f"<li>{html.escape(h)}</li>" for h in lecture.outline)
        session.add(StudyItem(
            slug=lecture.film.slug, module=lecture.module, kind="video", title=lecture.film.title[:120],
            summary=lecture.summary[:200], credited_minutes=films.LECTURE_MINUTES, required=True, stage="study",
            body_html=clean_html(f"<p>本讲按下列要点逐段讲解，可边看边对照本模块的同名文章：</p><ul>{outline}</ul>"),
            media_file=built[lecture.film.slug], media_type="video/webm", publish_at=publish_at, is_published=True,
            sort_order=1000 + lecture.week * 10, created_at=start, updated_at=start))
    session.flush()
    return {"items": len(entries), "lectures": len(lectures)}


def _build_films(film_list) -> dict[str, str]:
    """Write every demo film into the media folder (reruns overwrite); {slug: file name}."""
    ivf = SEED_DIR / "media" / "films.ivf"
    folder = media.media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    width, height, frames = films.read_ivf(ivf)
    cards = sum(len(f.cards) for f in film_list)
    if len(frames) != cards:
        raise RuntimeError(f"{ivf} has {len(frames)} frames for {cards} cards: "
                           "run app/seed_data/media/make_films.py")
    names = {}
    for film in film_list:
        names[film.slug] = f"{film.slug}.webm"
        films.build_film(film, (width, height, frames), folder / names[film.slug])
    return names


def _items(session: Session, now: datetime) -> list[tuple[int, int, bool, str]]:
    """(id, credited seconds, required, kind) of the city-wide items, required first."""
    rows = session.execute(select(StudyItem.id, StudyItem.credited_minutes, StudyItem.required, StudyItem.kind)
                           .where(StudyItem.is_published.is_(True), StudyItem.target_unit_id.is_(None),
                                  StudyItem.publish_at <= now)
                           .order_by(StudyItem.required.desc(), StudyItem.module, StudyItem.sort_order))
    return [(i, m * 60, bool(r), k) for i, m, r, k in rows]


def _day_fraction(now: datetime) -> float:
    """How much of a usual study day has passed at ``now`` (local 07:00 → 0, 21:00 → 1)."""
    local = now + timedelta(hours=8)
    hour = local.hour + local.minute / 60
    return max(0.0, min(1.0, (hour - 7) / 14))


def seed_activity(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    """``weeks`` weeks of history before today, plus today so far, for ``officer_ids``."""
    if weeks <= 0 or not officer_ids:
        return
    items = _items(session, now)
    if not items:
        return
    policy = ensure_policy(session, now)
    wanted = set(officer_ids)
    people = [(uid, unit_id, name) for uid, unit_id, name in session.execute(
        select(User.id, User.unit_id, User.username).where(User.role == "officer").order_by(User.id)) if uid in wanted]
    weights = [w for w, _ in PROFILES]
    unit_profile: dict[int, Profile] = {}
    today = local_day(now)
    history = [today - timedelta(days=n) for n in range(weeks * 7, 0, -1)]
    midnights = [day_bounds_utc(d)[0] for d in history]
    fraction = _day_fraction(now)
    cap = policy.daily_cap_seconds
    days_rows, progress_rows = [], []
    demo = None
    for uid, unit_id, username in people:
        profile = unit_profile.get(unit_id)
        if profile is None:
            profile = unit_profile[unit_id] = rng.choices([p for _, p in PROFILES], weights)[0]
        if username == DEMO_OFFICER:
            demo = uid
            continue
        factor = rng.uniform(0.75, 1.2)
        for day in history:
            chance = profile.weekend if day.weekday() >= 5 else profile.weekday
            if rng.random() < chance * min(1.0, factor):
                seconds = int(rng.gauss(profile.minutes * factor, profile.spread) * 60)
                if seconds > 60:
                    days_rows.append({"user_id": uid, "day": day, "seconds": min(cap, seconds)})
        if fraction and rng.random() < profile.weekday * fraction:
            seconds = int(rng.gauss(profile.minutes * factor, profile.spread) * 60 * fraction)
            if seconds > 60:
                days_rows.append({"user_id": uid, "day": today, "seconds": min(cap, seconds)})
        progress_rows.extend(_progress(uid, items, rng.uniform(*profile.done), midnights, now, rng))
    if demo is not None:
        demo_days, demo_progress = _demo_history(session, demo, items, history, now, rng, policy)
        days_rows.extend(demo_days)
        progress_rows.extend(demo_progress)
    # Core executemany on the session's connection: one statement per table, no ORM bookkeeping.
    connection = session.connection()
    if days_rows:
        connection.execute(insert(StudyDay.__table__), days_rows)
    if progress_rows:
        connection.execute(insert(StudyProgress.__table__), progress_rows)


def _progress(uid: int, items, share: float, midnights: list[datetime], now: datetime, rng: random.Random) -> list[dict]:
    """Finished items (required ones first) and one item in progress."""
    # As many finished items as there are articles times the share (required ones first, so
    # lectures too), which keeps the city-scale seed within its time budget.
    count = round(sum(1 for i in items if i[3] == "article") * share)
    required = [i for i in items if i[2]]
    optional = [i for i in items if not i[2]]
    chosen = required[:count] + rng.sample(optional, max(0, min(len(optional), count - len(required))))
    rows = []
    for item_id, target, _required, _kind in chosen:
        at = rng.choice(midnights) + timedelta(minutes=rng.randint(480, 1320))
        rows.append({"user_id": uid, "item_id": item_id, "seconds": target, "done": True, "position": 100,
                     "updated_at": at, "completed_at": at})
    rest = [i for i in items if i not in chosen]
    if rest:
        item_id, target, _required, kind = rest[0]
        at = now - timedelta(hours=rng.randint(2, 96))
        rows.append({"user_id": uid, "item_id": item_id, "seconds": rng.randint(30, max(31, target - 30)),
                     "done": False, "position": rng.randint(10, 70) if kind == "article" else rng.randint(1, 8),
                     "updated_at": at, "completed_at": None})
    return rows


def _demo_history(session: Session, uid: int, items, history: list[date], now: datetime, rng: random.Random,
                  policy) -> tuple[list[dict], list[dict]]:
    """The demo officer: a steady month ending in a four-day streak, a few items finished on
    earlier days, and this morning's session as raw beats (today partly done)."""
    days = []
    for n, day in enumerate(reversed(history)):
        if n < 4:
            seconds = rng.randint(policy.daily_target_seconds + 60, policy.daily_target_seconds + 1500)
        elif day.weekday() < 5 or rng.random() < 0.4:
            seconds = rng.randint(2400, policy.daily_target_seconds + 900)
        else:
            continue
        days.append({"user_id": uid, "day": day, "seconds": seconds})
    # Earlier days: the first required items of the theory and political modules.
    earlier = [i for i in items if i[2] and i[3] == "article"][:10]
    progress = {}
    for k, (item_id, target, _r, _k) in enumerate(earlier):
        at = day_bounds_utc(history[-1 - min(k // 3, len(history) - 1)])[0] + timedelta(hours=9, minutes=7 * k)
        progress[item_id] = {"user_id": uid, "item_id": item_id, "seconds": target, "done": True, "position": 100,
                             "updated_at": at, "completed_at": at}
    queue = [i for i in items if i[0] not in progress and i[3] == "article"]
    today_seconds = _demo_session(session, uid, queue, progress, now, rng, policy)
    if today_seconds is not None:
        days.append({"user_id": uid, "day": local_day(now), "seconds": today_seconds})
    return days, list(progress.values())


def _demo_session(session: Session, uid: int, queue, progress: dict, now: datetime, rng: random.Random,
                  policy) -> int | None:
    """Raw beats of a morning session ending ten minutes ago, credited by the live rules (gap
    ≤ interval + slack, item cap, daily cap); returns the day's credited seconds."""
    midnight, _ = day_bounds_utc(local_day(now))
    end = now - timedelta(minutes=10)
    start = max(midnight + timedelta(minutes=1), end - timedelta(minutes=50))
    if end - start < timedelta(minutes=2) or not queue:
        return None
    limit = policy.heartbeat_seconds + policy.slack_seconds
    beats, total, at, prev = [], 0, start, None
    dwell_left = rng.randint(200, 330)
    for item_id, target, _required, _kind in queue:
        row = progress.setdefault(item_id, {"user_id": uid, "item_id": item_id, "seconds": 0, "done": False,
                                            "position": 0, "updated_at": at, "completed_at": None})
        scroll = 0
        while at <= end and dwell_left > 0:
            gap = None if prev is None else int((at - prev).total_seconds())
            credit = gap if gap is not None and gap <= limit else 0
            credit = max(0, min(credit, target - row["seconds"], policy.daily_cap_seconds - total))
            scroll = min(100, scroll + rng.randint(4, 14))
            beats.append({"user_id": uid, "item_id": item_id, "received_at": at, "day": local_day(at),
                          "credited_seconds": credit, "policy_id": policy.id, "inputs": rng.choice((0, 1, 2, 3, 4, 6)),
                          "scroll_pct": scroll, "media_seconds": None})
            total += credit
            row["seconds"] += credit
            row["position"], row["updated_at"] = scroll, at
            if not row["done"] and row["seconds"] >= target:
                row["done"], row["completed_at"] = True, at
            prev = at
            step = rng.randint(28, 33)
            at += timedelta(seconds=step)
            dwell_left -= step
        if at > end:
            break
        dwell_left = rng.randint(200, 330)
    # The officer stopped inside an article (home shows "continue where I stopped"): if the
    # session ended on a finished one, they had opened the next and read a minute of it.
    last = progress.get(beats[-1]["item_id"]) if beats else None
    following = next((i for i in queue if i[0] not in progress), None)
    if last is not None and last["done"] and following is not None:
        row = progress.setdefault(following[0], {"user_id": uid, "item_id": following[0], "seconds": 0,
                                                 "done": False, "position": 0, "updated_at": prev,
                                                 "completed_at": None})
        for n, scroll in ((1, 8), (2, 17)):
            at = prev + timedelta(seconds=30)
            credit = max(0, min(30, following[1] - row["seconds"], policy.daily_cap_seconds - total))
            beats.append({"user_id": uid, "item_id": following[0], "received_at": at, "day": local_day(at),
                          "credited_seconds": credit, "policy_id": policy.id, "inputs": n + 1, "scroll_pct": scroll,
                          "media_seconds": None})
            total += credit
            row["seconds"] += credit
            row["position"], row["updated_at"] = scroll, at
            prev = at
    session.connection().execute(insert(StudyBeat.__table__), beats)
    session.add(StudyCursor(user_id=uid, last_beat_at=prev))
    return total
