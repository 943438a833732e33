"""Study reads: what an officer may see, their progress, weeks, calendars and flags.

Visibility of an item (QUALITY S8) is one definition, ``_visible``: published, inside its
publish window at ``now``, and targeted at the whole city or at a unit on the path from the city
to the officer's own unit (``app.auth.scope.aimed_at``). ``visible_clause`` and every statement
built once use it. Days and weeks are Asia/Shanghai days (``app.timeutils``).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, undefer

from ..auth.scope import aimed_at, people_in_scope
from ..models import MODULES, StudyDay, StudyFlag, StudyItem, StudyPolicy, StudyProgress, Unit, User
from ..timeutils import day_bounds_utc, parse_week_key, week_days, week_key

#: The default policy row is dated before the campaign so that it applies to all history.
POLICY_EPOCH = datetime(2021, 1, 1)


def policy_defaults() -> dict:
    """Column defaults of StudyPolicy (30 s beats, 10 s slack, 5 s min gap, 300 s idle, item
    cap 1× credited minutes, 4 h daily cap, 2 h daily and 10 h weekly targets)."""
    return {c.key: c.default.arg for c in StudyPolicy.__table__.columns
            if c.default is not None and c.default.is_scalar}


_LATEST_POLICY = (select(StudyPolicy).where(StudyPolicy.effective_from <= bindparam("now"))
                  .order_by(StudyPolicy.effective_from.desc(), StudyPolicy.id.desc()).limit(1))


def latest_policy(session: Session, now: datetime) -> StudyPolicy | None:
    """The policy in force at ``now``: the newest row whose effective_from ≤ now."""
    return session.scalars(_LATEST_POLICY, {"now": now}).first()


_POLICY = StudyPolicy.__table__
_POLICY_ROW = (select(_POLICY).where(_POLICY.c.effective_from <= bindparam("now"))
               .order_by(_POLICY.c.effective_from.desc(), _POLICY.c.id.desc()).limit(1))


def policy_row(conn, now: datetime):
    """``latest_policy`` as a plain row (same attribute names), for the heartbeat's hot path
    (on a Connection)."""
    return conn.execute(_POLICY_ROW, {"now": now}).first()


def current_policy(session: Session, now: datetime) -> StudyPolicy:
    """For reads: the policy in force, or an unsaved default one (a GET never inserts, A19)."""
    return latest_policy(session, now) or StudyPolicy(effective_from=POLICY_EPOCH, **policy_defaults())


def policy_history(session: Session, limit: int = 10) -> list[StudyPolicy]:
    return list(session.scalars(select(StudyPolicy).order_by(StudyPolicy.effective_from.desc(),
                                                             StudyPolicy.id.desc()).limit(limit)))


def _visible(now, unit_path):
    """The one definition of "an officer may study this item at ``now``" (S8): published, inside
    its publish window, and aimed at the whole city or at the officer's unit or one above it
    (``app.auth.scope.aimed_at``; ``unit_path`` is the officer's unit path)."""
    return and_(
        StudyItem.is_published.is_(True),
        or_(StudyItem.publish_at.is_(None), StudyItem.publish_at <= now),
        or_(StudyItem.unpublish_at.is_(None), StudyItem.unpublish_at > now),
        aimed_at(StudyItem.target_unit_id, unit_path),
    )


def visible_clause(user: User, now: datetime):
    """Items this officer may study at ``now`` (published, in window, targeted at them)."""
    return _visible(now, user.unit.path or "")


#: ``visible_clause`` with its values as bind parameters (``now``, ``unit_path``), for the
#: statements below that are built once: the officer's pages and the heartbeat run them on every
#: request, and building an ORM statement cost more CPU than SQLite spends running it (issue #7).
#: No expanding IN, so the heartbeat's statement compiles once for the express lane (app/express.py).
_VISIBLE = _visible(bindparam("now"), bindparam("unit_path", type_=String))


def _visible_params(user: User, now: datetime) -> dict:
    return {"now": now, "unit_path": user.unit.path or "", "user_id": user.id}


_VISIBLE_ITEM = select(StudyItem).where(StudyItem.id == bindparam("item_id"), _VISIBLE)


def visible_item(session: Session, user: User, item_id: int, now: datetime) -> StudyItem | None:
    return session.scalars(_VISIBLE_ITEM, {**_visible_params(user, now), "item_id": item_id}).first()


# The heartbeat's item: only the columns crediting needs (never the article body).
_BEAT_TARGET = (select(StudyItem.id, StudyItem.kind, StudyItem.credited_minutes)
                .where(StudyItem.id == bindparam("item_id"), _VISIBLE))


def beat_target(conn, unit_path: str | None, item_id: int, now: datetime):
    """``(id, kind, credited_minutes)`` of an item an officer of the unit at ``unit_path`` may
    study now, else None (on a Connection: the heartbeat's hot path)."""
    return conn.execute(_BEAT_TARGET, {"item_id": item_id, "now": now, "unit_path": unit_path or ""}).first()


@dataclass
class ItemRow:
    item: StudyItem
    seconds: int
    done: bool
    position: int
    updated_at: datetime | None

    @property
    def target_seconds(self) -> int:
        return self.item.credited_minutes * 60

    @property
    def pct(self) -> int:
        return 100 if self.done else min(99, self.seconds * 100 // max(1, self.target_seconds))

    @classmethod
    def of(cls, found) -> ItemRow:
        """From a row of ``_ROWS``: (item, seconds, done, position, updated_at)."""
        item, sec, done, pos, upd = found
        return cls(item, int(sec), bool(done), int(pos), upd)


#: The officer's own progress on each item (outer-joined: no row until they open it).
_OWN_PROGRESS = and_(StudyProgress.item_id == StudyItem.id, StudyProgress.user_id == bindparam("user_id"))
_DONE = func.coalesce(StudyProgress.done, False)
_ROWS = (select(StudyItem, func.coalesce(StudyProgress.seconds, 0), _DONE,
                func.coalesce(StudyProgress.position, 0), StudyProgress.updated_at)
         .outerjoin(StudyProgress, _OWN_PROGRESS).where(_VISIBLE))
_ROW_ORDER = (StudyItem.required.desc(), StudyItem.sort_order, StudyItem.id)
_ALL_ROWS = _ROWS.order_by(*_ROW_ORDER)
_MODULE_ROWS = _ROWS.where(StudyItem.module == bindparam("module")).order_by(*_ROW_ORDER)
_ONE_ROW = _ROWS.where(StudyItem.id == bindparam("item_id")).options(undefer(StudyItem.body_html))


def item_rows(session: Session, user: User, now: datetime, module: str | None = None) -> list[ItemRow]:
    """The officer's items, required (规定) first, then by the admin's order."""
    params = _visible_params(user, now)
    stmt = _ALL_ROWS
    if module:
        stmt, params["module"] = _MODULE_ROWS, module
    return [ItemRow.of(found) for found in session.execute(stmt, params)]


def item_row(session: Session, user: User, item_id: int, now: datetime) -> ItemRow | None:
    found = session.execute(_ONE_ROW, {**_visible_params(user, now), "item_id": item_id}).first()
    return ItemRow.of(found) if found is not None else None


#: The home page's study card: how many items the officer sees, how many required ones are
#: not done, and the row to continue (``continue_row``'s choice, made in SQL: the unfinished
#: item touched last, else the first unfinished one in the list's order).
_HOME_COUNTS = (select(func.count(StudyItem.id),
                       func.sum(case((and_(StudyItem.required.is_(True), _DONE.is_(False)), 1), else_=0)))
                .select_from(StudyItem).outerjoin(StudyProgress, _OWN_PROGRESS).where(_VISIBLE))
_RESUME_ROW = (_ROWS.where(_DONE.is_(False))
               .order_by(StudyProgress.updated_at.is_(None), StudyProgress.updated_at.desc(), *_ROW_ORDER).limit(1))


def home_rows(session: Session, user: User, now: datetime) -> tuple[int, int, ItemRow | None]:
    """``(visible items, required items not done, continue_row)`` without loading every item:
    the same figures as ``len(item_rows(...))``, the required-and-not-done count and
    ``continue_row(item_rows(...))``."""
    params = _visible_params(user, now)
    total, required_left = session.execute(_HOME_COUNTS, params).one()
    found = session.execute(_RESUME_ROW, params).first() if total else None
    return int(total or 0), int(required_left or 0), ItemRow.of(found) if found is not None else None


def continue_row(rows: list[ItemRow]) -> ItemRow | None:
    """Where the officer stopped: the unfinished item touched last, else the first required
    item not done (``rows`` come from ``item_rows``, required first), else None."""
    open_rows = [r for r in rows if not r.done]
    started = [r for r in open_rows if r.updated_at is not None]
    if started:
        return max(started, key=lambda r: r.updated_at)
    return open_rows[0] if open_rows else None


def next_unfinished(rows: list[ItemRow], item_id: int) -> ItemRow | None:
    """The first unfinished item after ``item_id`` in ``rows`` (the reader's "next" button)."""
    ids = [r.item.id for r in rows]
    later = rows[ids.index(item_id) + 1:] if item_id in ids else []
    return next((r for r in later if not r.done), None)


@dataclass
class ModuleRow:
    code: str
    items: int
    done: int
    required: int
    required_done: int
    seconds: int
    target_seconds: int

    @property
    def pct(self) -> int:
        return self.done * 100 // self.items if self.items else 0


_MODULES = (select(StudyItem.module, func.count(StudyItem.id),
                   func.sum(case((_DONE.is_(True), 1), else_=0)),
                   func.sum(case((StudyItem.required.is_(True), 1), else_=0)),
                   func.sum(case((and_(StudyItem.required.is_(True), _DONE.is_(True)), 1), else_=0)),
                   func.sum(func.coalesce(StudyProgress.seconds, 0)),
                   func.sum(StudyItem.credited_minutes * 60))
            .outerjoin(StudyProgress, _OWN_PROGRESS).where(_VISIBLE).group_by(StudyItem.module))


def module_rows(session: Session, user: User, now: datetime) -> list[ModuleRow]:
    """Per module: visible items, done, required and required done, credited seconds, one SQL
    aggregation; every module appears, also when it has nothing published yet."""
    found = {m: ModuleRow(m, *(int(v or 0) for v in rest))
             for m, *rest in session.execute(_MODULES, _visible_params(user, now))}
    return [found.get(code) or ModuleRow(code, 0, 0, 0, 0, 0, 0) for code in MODULES]


_DAYS = select(StudyDay.day, StudyDay.seconds).where(
    StudyDay.user_id == bindparam("user_id"), StudyDay.day >= bindparam("first"), StudyDay.day <= bindparam("last"))


def days_seconds(session: Session, user_id: int, first: date, last: date) -> dict[date, int]:
    rows = session.execute(_DAYS, {"user_id": user_id, "first": first, "last": last})
    return {d: int(s) for d, s in rows}


def day_seconds(session: Session, user_id: int, day: date) -> int:
    return int(session.scalar(select(StudyDay.seconds).where(StudyDay.user_id == user_id, StudyDay.day == day)) or 0)


_MET_DAYS = (select(StudyDay.day).where(
    StudyDay.user_id == bindparam("user_id"), StudyDay.day <= bindparam("day"), StudyDay.day > bindparam("since"),
    StudyDay.seconds >= bindparam("target")).order_by(StudyDay.day.desc()))


def streak_days(session: Session, user_id: int, day: date, target_seconds: int) -> int:
    """Consecutive days ending on ``day`` on which the daily target was met. ``day`` itself
    counts once met; until then the streak ending the day before still stands (it is not
    broken before the day is over)."""
    met = session.scalars(_MET_DAYS, {"user_id": user_id, "day": day, "since": day - timedelta(days=400),
                                      "target": target_seconds}).all()
    expected = day if met and met[0] == day else day - timedelta(days=1)
    count = 0
    for d in met:
        if d != expected:
            break
        count += 1
        expected -= timedelta(days=1)
    return count


def progress_summary(session: Session, user: User, day: date, now: datetime) -> dict:
    """The /api/v1/study/progress payload for one local day (targets from the policy in force)."""
    policy = current_policy(session, now)
    monday = parse_week_key(week_key(day))
    week = days_seconds(session, user.id, monday, monday + timedelta(days=6))
    return {
        "day": day.isoformat(),
        "today_seconds": week.get(day, 0),
        "daily_target_seconds": policy.daily_target_seconds,
        "week_seconds": sum(week.values()),
        "weekly_target_seconds": policy.weekly_target_seconds,
        "streak_days": streak_days(session, user.id, day, policy.daily_target_seconds),
    }


def week_view(session: Session, user: User, key: str, today: date) -> dict:
    """Seven days of one ISO week: seconds per day (None for days still to come)."""
    days = week_days(key)
    seconds = days_seconds(session, user.id, days[0], days[-1])
    return {"key": key, "days": [(d, None if d > today else seconds.get(d, 0)) for d in days],
            "total": sum(seconds.values())}


def month_calendar(session: Session, user: User, year: int, month: int, today: date) -> list[list[tuple]]:
    """Weeks (Monday first) of (day, seconds) cells; None for padding, seconds None for the future."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    seconds = days_seconds(session, user.id, first, last)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([None if d.month != month else (d, None if d > today else seconds.get(d, 0)) for d in week])
    return weeks


# --- admin -------------------------------------------------------------------------------

def content_items(session: Session, module: str | None = None, state: str | None = None) -> list[StudyItem]:
    module_order = case({code: n for n, code in enumerate(MODULES)}, value=StudyItem.module, else_=len(MODULES))
    stmt = select(StudyItem).order_by(module_order, StudyItem.required.desc(), StudyItem.sort_order, StudyItem.id)
    if module in MODULES:
        stmt = stmt.where(StudyItem.module == module)
    if state == "published":
        stmt = stmt.where(StudyItem.is_published.is_(True))
    elif state == "draft":
        stmt = stmt.where(StudyItem.is_published.is_(False))
    return list(session.scalars(stmt))


def week_content_seconds(session: Session, key: str, cap_multiple: float) -> tuple[int, int]:
    """(new, available) creditable seconds of city-wide content for ISO week ``key``: ``new`` is
    what is published (or scheduled) to appear during that week, ``available`` all that is
    visible at some time in it; each item counts ``cap_multiple × credited minutes``. The
    policy page sets ``new`` beside the weekly target: an officer who met last week's target
    can meet this one only if the week brings that much new material."""
    first, _ = day_bounds_utc(parse_week_key(key))
    end = first + timedelta(days=7)
    seconds = func.sum(StudyItem.credited_minutes * 60)
    base = select(seconds).where(StudyItem.is_published.is_(True), StudyItem.target_unit_id.is_(None),
                                 or_(StudyItem.unpublish_at.is_(None), StudyItem.unpublish_at > first))
    new = session.scalar(base.where(StudyItem.publish_at >= first, StudyItem.publish_at < end)) or 0
    available = session.scalar(base.where(or_(StudyItem.publish_at.is_(None), StudyItem.publish_at < end))) or 0
    return int(new * cap_multiple), int(available * cap_multiple)


def unit_name(session: Session, unit_id: int | None) -> str | None:
    return session.scalar(select(Unit.name).where(Unit.id == unit_id)) if unit_id else None


# --- flags -------------------------------------------------------------------------------

def parse_detail(detail: str | None) -> dict[str, int]:
    """A flag's ``key=value`` detail (see ``app.study.flags``) as numbers."""
    pairs = (part.split("=", 1) for part in (detail or "").split() if "=" in part)
    return {k: int(v) for k, v in pairs if v.isdigit()}


def flags_for(session: Session, viewer: User, status: str | None = "open", limit: int = 200) -> list[tuple]:
    """Flags of officers inside the viewer's subtree (the one scope helper, A16), newest first:
    (flag, officer, unit name, detail as a dict)."""
    stmt = (select(StudyFlag, User, Unit.name).join(User, User.id == StudyFlag.user_id).join(Unit, Unit.id == User.unit_id)
            .where(people_in_scope(session, viewer))
            .order_by(StudyFlag.week.desc(), StudyFlag.created_at.desc(), StudyFlag.id.desc()).limit(limit))
    if status:
        stmt = stmt.where(StudyFlag.status == status)
    return [(flag, officer, unit, parse_detail(flag.detail)) for flag, officer, unit in session.execute(stmt)]


def open_flag_count(session: Session, viewer: User) -> int:
    """Open flags of officers inside the viewer's subtree (the count beside the link on 我的)."""
    return int(session.scalar(select(func.count(StudyFlag.id)).join(User, User.id == StudyFlag.user_id).where(
        StudyFlag.status == "open", people_in_scope(session, viewer))) or 0)


def flag_in_scope(session: Session, viewer: User, flag_id: int) -> StudyFlag | None:
    return session.scalars(select(StudyFlag).join(User, User.id == StudyFlag.user_id).where(
        StudyFlag.id == flag_id, people_in_scope(session, viewer))).first()
