"""Study writes: credited time from heartbeats, the crediting policy, content. They flush;
the request, command or job commits (ARCHITECTURE rule 4).

Crediting (QUALITY S1–S8) uses the server's receipt time only:

* Each officer has one cursor, the time of their last accepted beat. A beat advances it with
  a compare-and-set ``UPDATE … WHERE last_beat_at = :prev`` and a rowcount check, so two tabs,
  two devices or two processes never earn the same second twice (S1, S2). A beat that loses
  the race, or comes less than ``min_gap_seconds`` after the last accepted one, is refused
  (429) and changes nothing (S5).
* The credit of an accepted beat is the time since the previous accepted beat, on any item,
  if that gap is at most one interval plus slack; after a longer gap, or for the very first
  beat, it is 0 (S4): the beat only re-anchors the cursor.
* Credit goes to the Asia/Shanghai day of the beat and never exceeds the seconds since that
  day's midnight, so no second is ever added to a past day (S7).
* Then the caps: per item ``item_cap_multiple × credited minutes`` (S6) and per day
  ``daily_cap_seconds`` (S7). Anything the client says about time is ignored (S3); what it
  reports about the reader (inputs, scroll, playback position) is stored for the flags.
* Every acknowledged beat is stored as a raw ``StudyBeat`` row, even with 0 credit, beside the
  per-day (``StudyDay``) and per-item (``StudyProgress``) totals, so the totals can be
  recomputed from the raw log (``flask study recheck``).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import audit
from ..models import StudyBeat, StudyCursor, StudyDay, StudyItem, StudyPolicy, StudyProgress, User
from ..notices import reminders
from ..timeutils import day_bounds_utc, local_day, week_key
from . import queries
from .sanitize import clean_html

SIGNAL_LIMITS = {"scroll_pct": (0, 100), "media_seconds": (0, 10_000_000), "inputs": (0, 10_000)}


class NotAvailable(LookupError):
    """Unknown item, or one the officer may not study now (unpublished, outside its window,
    not targeted at their unit): answered 404 (S8)."""


class TooSoon(RuntimeError):
    """A beat within ``min_gap_seconds`` of the last accepted one, or one that lost the race
    for the cursor: answered 429, nothing credited (S5)."""


class ContentError(ValueError):
    """A content change the admin must correct; the message is shown as it is."""


@dataclass(frozen=True)
class Signals:
    """What the page reports about the reader. Informational only: never used for credit."""

    scroll_pct: int | None = None
    media_seconds: int | None = None
    inputs: int = 0

    @classmethod
    def parse(cls, payload) -> "Signals":
        """Known fields must be integers in range (ValueError otherwise); unknown fields, such
        as ``duration`` or ``client_time``, are ignored (S3)."""
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise ValueError("body must be a JSON object")
        values = {}
        for name, (low, high) in SIGNAL_LIMITS.items():
            value = payload.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ValueError(f"{name} must be a number")
            values[name] = int(max(low, min(high, value)))
        return cls(**values)


@dataclass(frozen=True)
class Credit:
    credited_seconds: int
    today_seconds: int
    item_seconds: int
    daily_target_seconds: int


def ensure_policy(session: Session, now: datetime) -> StudyPolicy:
    """The policy in force, creating the default row when there is none yet."""
    policy = queries.latest_policy(session, now)
    if policy is None:
        policy = StudyPolicy(effective_from=queries.POLICY_EPOCH, **queries.policy_defaults())
        session.add(policy)
        session.flush()
    return policy


def add_policy(session: Session, now: datetime, actor: User | None, **values) -> StudyPolicy:
    """A new policy version, in force from ``now``; earlier beats keep the row they were
    credited under, so past figures stay explainable."""
    before = queries.latest_policy(session, now)
    policy = StudyPolicy(effective_from=now, created_by_id=getattr(actor, "id", None), **values)
    session.add(policy)
    session.flush()
    audit.record(session, "content.policy", target=policy, before=_policy_dict(before) if before else None,
                 after=_policy_dict(policy))
    return policy


def _policy_dict(policy: StudyPolicy) -> dict:
    return {k: getattr(policy, k) for k in queries.policy_defaults()}


def dialect_insert(session: Session):
    """INSERT with ON CONFLICT support for the session's backend (SQLite or PostgreSQL)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# The write half of a heartbeat runs inside SQLite's single write lock, so its statements are
# built once (bound parameters, compiled once per engine) and run on the session's connection
# without the ORM unit of work: three writes after one read, nothing else (issue #7).
_PROGRESS = StudyProgress.__table__
_DAY = StudyDay.__table__
_STATE = select(
    select(StudyCursor.last_beat_at).where(StudyCursor.user_id == bindparam("uid"))
    .scalar_subquery().label("last_beat_at"),
    select(_PROGRESS.c.seconds).where(_PROGRESS.c.user_id == bindparam("uid"), _PROGRESS.c.item_id == bindparam("iid"))
    .scalar_subquery().label("item_seconds"),
    select(_PROGRESS.c.done).where(_PROGRESS.c.user_id == bindparam("uid"), _PROGRESS.c.item_id == bindparam("iid"))
    .scalar_subquery().label("done"),
    select(_DAY.c.seconds).where(_DAY.c.user_id == bindparam("uid"), _DAY.c.day == bindparam("day"))
    .scalar_subquery().label("day_seconds"),
    # This week so far (Monday to today): the beat that crosses the weekly target resolves the
    # week's study reminders.
    select(func.sum(_DAY.c.seconds)).where(_DAY.c.user_id == bindparam("uid"), _DAY.c.day >= bindparam("monday"),
                                           _DAY.c.day <= bindparam("day"))
    .scalar_subquery().label("week_seconds"),
)
_ADVANCE = (update(StudyCursor.__table__)
            .where(StudyCursor.__table__.c.user_id == bindparam("uid"),
                   StudyCursor.__table__.c.last_beat_at == bindparam("prev"))
            .values(last_beat_at=bindparam("now")))
_BEAT = StudyBeat.__table__.insert()
_UPSERTS: dict[str, tuple] = {}


def _upserts(dialect: str) -> tuple:
    """(progress upsert, day upsert) for the backend, built on first use."""
    if dialect not in _UPSERTS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        prog = insert(_PROGRESS).values(user_id=bindparam("uid"), item_id=bindparam("iid"), seconds=bindparam("seconds"),
                                        done=bindparam("done"), position=bindparam("position"),
                                        updated_at=bindparam("now"), completed_at=bindparam("completed_at"))
        prog = prog.on_conflict_do_update(index_elements=["user_id", "item_id"], set_={
            "seconds": prog.excluded.seconds, "done": prog.excluded.done, "updated_at": prog.excluded.updated_at,
            # No position in this beat: keep where the officer stopped.
            "position": func.coalesce(bindparam("new_position", type_=Integer), _PROGRESS.c.position),
            "completed_at": func.coalesce(_PROGRESS.c.completed_at, prog.excluded.completed_at)})
        day = insert(_DAY).values(user_id=bindparam("uid"), day=bindparam("day"), seconds=bindparam("credit"))
        day = day.on_conflict_do_update(index_elements=["user_id", "day"],
                                        set_={"seconds": _DAY.c.seconds + day.excluded.seconds})
        _UPSERTS[dialect] = (prog, day)
    return _UPSERTS[dialect]


_FIRST_CURSORS: dict[str, object] = {}


def _first_cursor(conn, user_id: int, now: datetime) -> None:
    """The officer's first beat ever: create the cursor (TooSoon if a concurrent one won)."""
    dialect = conn.dialect.name
    if dialect not in _FIRST_CURSORS:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = StudyCursor.__table__
        _FIRST_CURSORS[dialect] = (insert(table).values(user_id=bindparam("uid"), last_beat_at=bindparam("now"))
                                   .on_conflict_do_nothing(index_elements=["user_id"]).returning(table.c.user_id))
    if conn.execute(_FIRST_CURSORS[dialect], {"uid": user_id, "now": now}).first() is None:
        raise TooSoon()


def record_heartbeat(session: Session, user: User, item_id: int, now: datetime, signals: Signals,
                     reader: Session | None = None) -> Credit:
    """Credit one heartbeat of ``user`` on ``item_id`` received at ``now`` (UTC).

    ``reader`` (default: ``session``) answers the checks that do not decide amounts — is the
    item visible, which policy is in force — before the write transaction starts. Everything
    the credit is computed from (cursor, item and day totals) is read inside it, and the
    cursor's compare-and-set makes a concurrent beat of the same officer fail rather than
    write from stale totals (S1, S2; on PostgreSQL the loser waits on the cursor's row lock,
    then finds ``last_beat_at`` moved).

    The same two steps (``beat_checks``, then ``write_beat``) serve the express lane
    (app/express.py), so crediting has one implementation whichever way the request came."""
    reader = reader or session
    item, policy = beat_checks(reader.connection(), user.unit.path, item_id, now)
    policy = policy or ensure_policy(session, now)
    return write_beat(session.connection(), user.id, item, policy, now, signals)


def beat_checks(reader, unit_path: str | None, item_id: int, now: datetime):
    """``(item, policy)`` for a beat at ``now``, read on the connection ``reader`` before any write
    lock: the item as ``(id, kind, credited_minutes)`` (NotAvailable when the officer of a unit
    at ``unit_path`` may not study it now, S8) and the policy row in force (None before the
    first policy exists: the caller creates the default one)."""
    item = queries.beat_target(reader, unit_path, item_id, now)
    if item is None:
        raise NotAvailable(item_id)
    return item, queries.policy_row(reader, now)


def write_beat(conn, user_id: int, item, policy, now: datetime, signals: Signals) -> Credit:
    """The write half of a heartbeat, on the connection ``conn`` inside its write transaction:
    reads the cursor and totals, advances the cursor (TooSoon when within ``min_gap_seconds``
    or when another beat moved it first), stores the raw beat and both totals. The caller
    commits, or rolls back on TooSoon (nothing is written then)."""
    day = local_day(now)
    midnight, _ = day_bounds_utc(day)
    params = {"uid": user_id, "iid": item.id, "day": day, "now": now}
    state = conn.execute(_STATE, {**params, "monday": day - timedelta(days=day.weekday())}).one()
    prev = state.last_beat_at
    if prev is None:
        _first_cursor(conn, user_id, now)
        gap = None
    else:
        gap = (now - prev).total_seconds()
        if gap < policy.min_gap_seconds:
            raise TooSoon()
        if conn.execute(_ADVANCE, {**params, "prev": prev}).rowcount != 1:
            raise TooSoon()  # another beat advanced the cursor first
    credit = 0
    if gap is not None and gap <= policy.heartbeat_seconds + policy.slack_seconds:
        credit = min(int(gap), int((now - midnight).total_seconds()))
    item_before, day_before = state.item_seconds or 0, state.day_seconds or 0
    item_cap = int(policy.item_cap_multiple * item.credited_minutes * 60)
    credit = max(0, min(credit, item_cap - item_before, policy.daily_cap_seconds - day_before))

    item_seconds = item_before + credit
    was_done = bool(state.done)
    done = was_done or item_seconds >= item.credited_minutes * 60
    position = signals.media_seconds if item.kind == "video" else signals.scroll_pct
    conn.execute(_BEAT, {"user_id": user_id, "item_id": item.id, "received_at": now, "day": day,
                         "credited_seconds": credit, "policy_id": policy.id, "inputs": signals.inputs,
                         "scroll_pct": signals.scroll_pct, "media_seconds": signals.media_seconds})
    progress_upsert, day_upsert = _upserts(conn.dialect.name)
    conn.execute(progress_upsert, {**params, "seconds": item_seconds, "done": done, "position": position or 0,
                                   "new_position": position, "completed_at": now if done and not was_done else None})
    conn.execute(day_upsert, {**params, "credit": credit})
    week_before = state.week_seconds or 0
    if credit and week_before < policy.weekly_target_seconds <= week_before + credit:
        reminders.resolve(conn, "study_target_met", week_key(day), [user_id], now)
    return Credit(credit, day_before + credit, item_seconds, policy.daily_target_seconds)


# --- content -----------------------------------------------------------------------------

CONTENT_FIELDS = ("module", "kind", "title", "summary", "body_html", "media_file", "media_type", "media_url",
                  "credited_minutes", "required", "stage", "target_unit_id", "publish_at", "unpublish_at",
                  "is_published", "sort_order")


def _content_dict(item: StudyItem) -> dict:
    data = {k: getattr(item, k) for k in CONTENT_FIELDS}
    data["body_html"] = f"{len(item.body_html or '')} chars"
    for key in ("publish_at", "unpublish_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _check(values: dict) -> None:
    if values.get("publish_at") and values.get("unpublish_at") and values["unpublish_at"] <= values["publish_at"]:
        raise ContentError("unpublish_before_publish")
    kind = values.get("kind")
    if kind == "video" and not (values.get("media_file") or values.get("media_url")):
        raise ContentError("video_needs_media")
    if kind == "document" and not values.get("media_file"):
        raise ContentError("document_needs_file")
    if kind == "article" and not values.get("body_html"):
        raise ContentError("article_needs_body")


def create_item(session: Session, actor: User | None, **values) -> StudyItem:
    """A new item (unpublished unless ``is_published``); the body is cleaned with nh3 here."""
    values["body_html"] = clean_html(values.get("body_html"))
    _check(values)
    item = StudyItem(slug=values.pop("slug", None) or f"item-{secrets.token_hex(6)}",
                     created_by_id=getattr(actor, "id", None), **values)
    session.add(item)
    session.flush()
    audit.record(session, "content.create", target=item, after=_content_dict(item))
    return item


def update_item(session: Session, item: StudyItem, **values) -> StudyItem:
    before = _content_dict(item)
    if "body_html" in values:
        values["body_html"] = clean_html(values["body_html"])
    _check({**{k: getattr(item, k) for k in CONTENT_FIELDS}, **values})
    for key, value in values.items():
        setattr(item, key, value)
    session.flush()
    audit.record(session, "content.update", target=item, before=before, after=_content_dict(item))
    return item


def set_published(session: Session, item: StudyItem, published: bool) -> StudyItem:
    before = {"is_published": item.is_published}
    item.is_published = published
    session.flush()
    audit.record(session, "content.publish", target=item, before=before, after={"is_published": published})
    return item
