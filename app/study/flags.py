"""Study that looks automated (QUALITY S10–S12): flags for a supervisor to look at.

A flag never changes anyone's credit by itself; the credit stands until a supervisor (or the
campaign office) voids it on the review list, which writes an audit row. Detection reads the
raw beats of one ISO week, officer by officer, in time order. The rules:

* ``night`` (S11): on at least ``NIGHT_DAYS`` days of the week, more than half of the day's
  credited time (and at least ``NIGHT_DAY_MIN_SECONDS``) fell between 01:00 and 05:00 local.
* ``uniform`` (S10): ``UNIFORM_RUN`` or more consecutive items (in the order first studied)
  each dwelt on for the same time within ±``UNIFORM_TOLERANCE`` seconds. Dwell is the raw time
  between the officer's beats on the item, before the item cap (capped credit is naturally the
  same for everyone who reads longer than the credited minutes, so it proves nothing).
  Items glanced at for under 30 s neither extend nor break a run.
* ``no_interaction`` (S12): a stretch of at least ``QUIET_STRETCH_SECONDS`` of continuous beats
  that each report no input (for a playing video: no advancing playback) or repeat the previous
  beat's exact signature; or an article completed with its reader never scrolling past
  ``NO_SCROLL_PCT`` per cent. Our own page stops beating ``idle_seconds`` after the last input,
  so a long silent stretch means something else is sending the beats.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import audit
from ..models import StudyBeat, StudyCursor, StudyDay, StudyFlag, StudyItem, StudyProgress, User
from ..timeutils import day_bounds_utc, parse_week_key, to_local
from . import queries
from .services import dialect_insert

NIGHT_HOURS = range(1, 5)
NIGHT_DAYS = 3
NIGHT_DAY_MIN_SECONDS = 600
UNIFORM_RUN = 10
UNIFORM_TOLERANCE = 2
UNIFORM_MIN_DWELL = 30
QUIET_STRETCH_SECONDS = 20 * 60
NO_SCROLL_PCT = 25
NO_SCROLL_MIN_BEATS = 4


@dataclass
class _Officer:
    """What one pass over an officer's beats collects."""

    day_total: dict = field(default_factory=lambda: defaultdict(int))
    day_night: dict = field(default_factory=lambda: defaultdict(int))
    dwell: dict = field(default_factory=lambda: defaultdict(int))
    first_seen: dict = field(default_factory=dict)
    max_scroll: dict = field(default_factory=lambda: defaultdict(int))
    beats: dict = field(default_factory=lambda: defaultdict(int))
    quiet_longest: int = 0


def _scan(rows, limit: int) -> _Officer:
    """One officer's beats (time order): per-day night share, per-item dwell, quiet stretches."""
    acc = _Officer()
    prev = None
    quiet = 0
    for beat in rows:
        gap = int((beat.received_at - prev.received_at).total_seconds()) if prev else None
        continuous = gap is not None and gap <= limit
        acc.day_total[beat.day] += beat.credited_seconds
        if to_local(beat.received_at).hour in NIGHT_HOURS:
            acc.day_night[beat.day] += beat.credited_seconds
        acc.first_seen.setdefault(beat.item_id, beat.received_at)
        acc.beats[beat.item_id] += 1
        acc.max_scroll[beat.item_id] = max(acc.max_scroll[beat.item_id], beat.scroll_pct or 0)
        if continuous:
            acc.dwell[beat.item_id] += gap
        same_item = prev is not None and prev.item_id == beat.item_id
        playing = (beat.kind == "video" and same_item and beat.media_seconds is not None
                   and prev.media_seconds is not None and beat.media_seconds > prev.media_seconds)
        blank = beat.inputs == 0 and not playing
        repeat = (same_item and beat.kind != "video" and beat.inputs > 0
                  and (beat.inputs, beat.scroll_pct) == (prev.inputs, prev.scroll_pct))
        if continuous and (blank or repeat):
            quiet += gap
            acc.quiet_longest = max(acc.quiet_longest, quiet)
        else:
            quiet = 0
        prev = beat
    return acc


def _reasons(acc: _Officer, done_articles: set[int]) -> dict[str, str]:
    found = {}
    night_days = [d for d, total in acc.day_total.items()
                  if total >= NIGHT_DAY_MIN_SECONDS and acc.day_night[d] * 2 > total]
    if len(night_days) >= NIGHT_DAYS:
        found["night"] = f"days={len(night_days)} seconds={sum(acc.day_night[d] for d in night_days)}"

    order = sorted((i for i in acc.dwell if acc.dwell[i] >= UNIFORM_MIN_DWELL), key=acc.first_seen.get)
    best, best_dwell, run_start, run = 0, 0, None, 0
    for item_id in order:
        d = acc.dwell[item_id]
        if run_start is not None and abs(d - run_start) <= UNIFORM_TOLERANCE:
            run += 1
        else:
            run_start, run = d, 1
        if run > best:
            best, best_dwell = run, run_start
    if best >= UNIFORM_RUN:
        found["uniform"] = f"items={best} seconds={best_dwell}"

    unscrolled = [i for i in done_articles
                  if acc.beats.get(i, 0) >= NO_SCROLL_MIN_BEATS and acc.max_scroll.get(i, 0) < NO_SCROLL_PCT]
    if acc.quiet_longest >= QUIET_STRETCH_SECONDS or unscrolled:
        found["no_interaction"] = f"quiet={acc.quiet_longest} unscrolled={len(unscrolled)}"
    return found


def detect_flags(session: Session, week: str, now: datetime) -> int:
    """Raise flags for ISO week ``week`` from the raw beats; returns how many are new.

    Idempotent: a flag is unique per (officer, week, reason), so reruns (the scheduler's
    catch-up, a manual ``flask study detect-flags``) add nothing, and a flag a supervisor has
    already reviewed keeps its status.
    """
    monday = parse_week_key(week)
    sunday = monday + timedelta(days=6)
    policy = queries.current_policy(session, now)
    limit = policy.heartbeat_seconds + policy.slack_seconds
    rows = session.execute(
        select(StudyBeat.user_id, StudyBeat.item_id, StudyBeat.received_at, StudyBeat.day,
               StudyBeat.credited_seconds, StudyBeat.inputs, StudyBeat.scroll_pct, StudyBeat.media_seconds,
               StudyItem.kind)
        .join(StudyItem, StudyItem.id == StudyBeat.item_id)
        .where(StudyBeat.day >= monday, StudyBeat.day <= sunday)
        .order_by(StudyBeat.user_id, StudyBeat.received_at, StudyBeat.id)
        .execution_options(yield_per=5000))
    done = _done_articles(session, monday, sunday)
    new_rows = []
    for user_id, beats in groupby(rows, key=lambda r: r.user_id):
        for reason, detail in _reasons(_scan(beats, limit), done.get(user_id, set())).items():
            new_rows.append({"user_id": user_id, "week": week, "reason": reason, "detail": detail[:255],
                             "status": "open", "created_at": now})
    if not new_rows:
        return 0
    stmt = (dialect_insert(session)(StudyFlag).on_conflict_do_nothing(index_elements=["user_id", "week", "reason"])
            .returning(StudyFlag.id))
    added = 0
    for row in new_rows:
        added += session.execute(stmt.values(**row)).first() is not None
    session.flush()
    return added


def _done_articles(session: Session, first: date, last: date) -> dict[int, set[int]]:
    start, _ = day_bounds_utc(first)
    _, end = day_bounds_utc(last)
    found: dict[int, set[int]] = defaultdict(set)
    for user_id, item_id in session.execute(
            select(StudyProgress.user_id, StudyProgress.item_id).join(StudyItem, StudyItem.id == StudyProgress.item_id)
            .where(StudyProgress.done.is_(True), StudyItem.kind == "article",
                   StudyProgress.completed_at >= start, StudyProgress.completed_at < end)):
        found[user_id].add(item_id)
    return found


class ReviewError(RuntimeError):
    """The flag was reviewed already (by someone else, or in another tab)."""


def review_flag(session: Session, flag: StudyFlag, reviewer: User, action: str, now: datetime) -> int:
    """Dismiss a flag, or void the officer's credited time of that week; returns the seconds
    voided. Voiding zeroes the week's raw beats' credit and takes the same seconds off the day
    and item totals (so ``study recheck`` still agrees); the audit row keeps the figures from
    before. Days of synthetic history that have no raw beats are left as they are."""
    status = {"dismiss": "dismissed", "void": "voided"}[action]
    moved = session.execute(update(StudyFlag).where(StudyFlag.id == flag.id, StudyFlag.status == "open")
                            .values(status=status, reviewed_by_id=reviewer.id, reviewed_at=now)
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise ReviewError()
    voided, by_day = 0, {}
    if action == "void":
        voided, by_day = _void_week(session, flag.user_id, flag.week)
    session.refresh(flag)
    audit.record(session, f"study.flag_{action}", target=flag, before={"status": "open", "seconds_by_day": by_day},
                 after={"status": status, "voided_seconds": voided}, detail=f"{flag.reason} {flag.week}")
    return voided


def _void_week(session: Session, user_id: int, week: str) -> tuple[int, dict]:
    # Lock the officer's cursor first: a heartbeat arriving meanwhile waits (PostgreSQL) or
    # already queues behind this write transaction (SQLite).
    session.execute(select(StudyCursor.user_id).where(StudyCursor.user_id == user_id).with_for_update())
    monday = parse_week_key(week)
    in_week = (StudyBeat.user_id == user_id, StudyBeat.day >= monday, StudyBeat.day <= monday + timedelta(days=6),
               StudyBeat.credited_seconds > 0)
    per_day, per_item = defaultdict(int), defaultdict(int)
    for day, item_id, seconds in session.execute(select(StudyBeat.day, StudyBeat.item_id, StudyBeat.credited_seconds)
                                                 .where(*in_week)):
        per_day[day] += seconds
        per_item[item_id] += seconds
    session.execute(update(StudyBeat).where(*in_week).values(credited_seconds=0)
                    .execution_options(synchronize_session=False))
    for day, seconds in per_day.items():
        row = session.get(StudyDay, (user_id, day))
        if row is not None:
            row.seconds = max(0, row.seconds - seconds)
    for item_id, seconds in per_item.items():
        row = session.get(StudyProgress, (user_id, item_id))
        item = session.get(StudyItem, item_id)
        if row is not None:
            row.seconds = max(0, row.seconds - seconds)
            if row.seconds < item.credited_minutes * 60:
                row.done, row.completed_at = False, None
    session.flush()
    return sum(per_day.values()), {d.isoformat(): s for d, s in sorted(per_day.items())}
