"""Per-unit weekly figures in SQL (issue #5; QUALITY A15, A16, L8).

Definitions (per unit and ISO week, over every active officer in the unit's subtree — a
branch's figures come from all officers below it, never from averaging its stations):

- ``officers``: active officers in the subtree. For the current week that is today's roster;
  a closed week is read from its snapshot (app/reports/snapshots.py), the roster as it was when
  the week closed, so a later transfer does not rewrite a unit's history.
- ``study_target_met``: officers whose credited study seconds that week reached the weekly
  target (the study policy in force at the end of the week).
- ``study_completion_rate`` = study_target_met / officers; ``avg_study_hours`` over all officers.
- ``exam_participants``: officers with a finished attempt (submitted or finished at the
  deadline) on the week's exam; ``exam_pending``: attempts past their deadline that the
  sweeper has not finished yet (shown as pending, never as 0).
- ``exam_participation_rate`` = participants / officers; ``avg_score`` over participants (null
  when none); ``pass_count``; ``pass_rate`` = pass_count / participants (0 when none).
- ``task_completion_rate``: accepted task submissions / tasks due by the week's end summed over
  the subtree's officers (each officer counts the tasks aimed at their unit); null while no task
  was due (issue #6). A withdrawn task counts on neither side. ``tasks_done`` per officer: their accepted submissions of those tasks.
- ``composite_score`` (0..100) = weighted mean of the available parts: study completion rate,
  participation rate, average score / 100 and task completion rate, with the admin's weights
  (default 40/20/30/10); a part that does not exist yet (tasks) is left out and the remaining
  weights are rescaled, so the composite stays on the same 0..100 scale. Rates, never totals,
  so small and large units compete fairly.
- ``rank``: among sibling units; ``city_rank``: among all units of the same level in the city.
  Ties: higher composite, then higher study completion rate, then higher average score, then
  the unit code in alphabetical order — so every rank is distinct and stable.

One aggregation query computes the whole city (about 300 units for 10,028 officers); the
ranks need every unit anyway, and the caller's scope is applied to the rows returned. Closed
weeks read the same per-unit sums from their snapshot instead.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import (Attempt, Exam, ReportSnapshot, ReportSnapshotUnit, StudyDay, StudyPolicy, Task, TaskSubmission,
                      Unit, User)
from ..timeutils import parse_week_key, week_bounds_utc

DEFAULT_WEIGHTS = {"study": 40, "participation": 20, "score": 30, "tasks": 10}
SORT_KEYS = {"name", "study_seconds", "exam_score", "unit"}


@dataclass
class UnitRow:
    unit_id: int
    unit_name: str
    unit_code: str
    parent_id: int | None
    depth: int
    level: str
    path: str
    officers: int = 0
    study_target_met: int = 0
    study_completion_rate: float | None = None
    avg_study_hours: float | None = None
    exam_participants: int = 0
    exam_pending: int = 0
    exam_participation_rate: float | None = None
    avg_score: float | None = None
    pass_count: int = 0
    pass_rate: float | None = None
    task_completion_rate: float | None = None
    composite_score: float | None = None
    rank: int | None = None
    city_rank: int | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "unit_id": self.unit_id, "unit_name": self.unit_name, "parent_id": self.parent_id, "depth": self.depth,
            "officers": self.officers, "study_target_met": self.study_target_met,
            "study_completion_rate": self.study_completion_rate, "avg_study_hours": self.avg_study_hours,
            "exam_participants": self.exam_participants, "exam_participation_rate": self.exam_participation_rate,
            "avg_score": self.avg_score, "pass_count": self.pass_count, "pass_rate": self.pass_rate,
            "task_completion_rate": self.task_completion_rate, "composite_score": self.composite_score,
            "rank": self.rank, "city_rank": self.city_rank,
        }


def weekly_target_seconds(session: Session, week: str) -> int:
    """The weekly target of the study policy in force at the end of ``week``."""
    _, end = week_bounds_utc(week)
    value = session.scalar(select(StudyPolicy.weekly_target_seconds).where(StudyPolicy.effective_from < end)
                           .order_by(StudyPolicy.effective_from.desc(), StudyPolicy.id.desc()).limit(1))
    return value or 10 * 3600


def _week_days(week: str) -> tuple[date, date]:
    monday = parse_week_key(week)
    return monday, monday + timedelta(days=6)


def officer_facts(session: Session, week: str, now, unit_filter=None):
    """SELECT of one row per active officer: user_id, unit_id, study_seconds, exam_score,
    passed, finished (0/1), pending (0/1). ``unit_filter`` restricts officers by unit id."""
    first, last = _week_days(week)
    study = (select(StudyDay.user_id, func.sum(StudyDay.seconds).label("secs"))
             .where(StudyDay.day >= first, StudyDay.day <= last).group_by(StudyDay.user_id).subquery())
    exam_ids = select(Exam.id).where(Exam.week == week, Exam.scope == "city").scalar_subquery()
    att = (select(Attempt.user_id,
                  func.max(case((Attempt.status == "finished", Attempt.score))).label("score"),
                  func.max(case((and_(Attempt.status == "finished", Attempt.passed.is_(True)), 1), else_=0)).label("passed"),
                  func.max(case((Attempt.status == "finished", 1), else_=0)).label("finished"),
                  func.max(case((and_(Attempt.status == "in_progress", Attempt.deadline < now), 1), else_=0)).label("pending"))
           .where(Attempt.exam_id == exam_ids).group_by(Attempt.user_id).subquery())
    # Campaign tasks (issue #6): tasks due by the week's end aimed at each unit, and each
    # officer's accepted submissions of such tasks.
    due_by = week_bounds_utc(week)[1]
    target = aliased(Unit)
    due = (select(Unit.id.label("unit_id"), func.count(Task.id).label("due")).select_from(Unit)
           .join(Task, and_(Task.due_at < due_by, Task.withdrawn_at.is_(None)))
           .outerjoin(target, target.id == Task.target_unit_id)
           .where(or_(Task.target_unit_id.is_(None), Unit.path.startswith(target.path))).group_by(Unit.id).subquery())
    done = (select(TaskSubmission.user_id, func.count(TaskSubmission.id).label("done"))
            .join(Task, Task.id == TaskSubmission.task_id)
            .where(TaskSubmission.status == "accepted", Task.due_at < due_by, Task.withdrawn_at.is_(None))
            .group_by(TaskSubmission.user_id).subquery())
    stmt = (select(User.id.label("user_id"), User.unit_id.label("unit_id"),
                   func.coalesce(study.c.secs, 0).label("study_seconds"), att.c.score.label("exam_score"),
                   func.coalesce(att.c.passed, 0).label("passed"), func.coalesce(att.c.finished, 0).label("finished"),
                   func.coalesce(att.c.pending, 0).label("pending"), func.coalesce(due.c.due, 0).label("tasks_due"),
                   func.coalesce(done.c.done, 0).label("tasks_done"))
            .outerjoin(study, study.c.user_id == User.id).outerjoin(att, att.c.user_id == User.id)
            .outerjoin(due, due.c.unit_id == User.unit_id).outerjoin(done, done.c.user_id == User.id)
            .where(User.role == "officer", User.is_active.is_(True)))
    if unit_filter is not None:
        stmt = stmt.where(User.unit_id.in_(unit_filter))
    return stmt


def _fact_sums(session: Session, week: str, now, target: int, unit_filter=None, by_unit: bool = True):
    """Additive sums of the officer facts, per unit (or one row for ``unit_filter``): counts and
    sums only, so any subtree's figures are exact sums of its units' rows (never averages of
    averages)."""
    facts = officer_facts(session, week, now, unit_filter).subquery()
    met = cast(case((facts.c.study_seconds >= target, 1), else_=0), Integer)
    columns = [func.count(facts.c.user_id), func.coalesce(func.sum(met), 0),
               func.coalesce(func.sum(facts.c.study_seconds), 0), func.coalesce(func.sum(facts.c.finished), 0),
               func.coalesce(func.sum(facts.c.pending), 0), func.coalesce(func.sum(facts.c.exam_score), 0),
               func.coalesce(func.sum(facts.c.passed), 0), func.coalesce(func.sum(facts.c.tasks_due), 0),
               func.coalesce(func.sum(facts.c.tasks_done), 0)]
    if by_unit:
        return session.execute(select(facts.c.unit_id, *columns).group_by(facts.c.unit_id)).all()
    return session.execute(select(*columns)).one()


def _direct_sums(session: Session, week: str, now) -> dict[int, list]:
    """Per-unit sums of each unit's own officers: the week's snapshot when it has one
    (app/reports/snapshots.py), else the live aggregation. Two queries either way."""
    snap = session.execute(
        select(ReportSnapshot.week, ReportSnapshotUnit.unit_id,
               *(getattr(ReportSnapshotUnit, c) for c in ReportSnapshotUnit.SUMS))
        .outerjoin(ReportSnapshotUnit, ReportSnapshotUnit.week == ReportSnapshot.week)
        .where(ReportSnapshot.week == week)).all()
    if snap:
        return {row[1]: list(row[2:]) for row in snap if row[1] is not None}
    target = weekly_target_seconds(session, week)
    return {row[0]: list(row[1:]) for row in _fact_sums(session, week, now, target)}


def _snapshot_totals(session: Session, weeks: list[str], unit_ids) -> dict[str, list]:
    """For each snapshotted week among ``weeks``: the sums over the units in ``unit_ids``
    (one query for all weeks)."""
    sums = [func.coalesce(func.sum(getattr(ReportSnapshotUnit, c)), 0) for c in ReportSnapshotUnit.SUMS]
    rows = session.execute(
        select(ReportSnapshot.week, *sums)
        .outerjoin(ReportSnapshotUnit, and_(ReportSnapshotUnit.week == ReportSnapshot.week,
                                            ReportSnapshotUnit.unit_id.in_(unit_ids)))
        .where(ReportSnapshot.week.in_(weeks)).group_by(ReportSnapshot.week)).all()
    return {row[0]: list(row[1:]) for row in rows}


def _fill(row: "UnitRow", sums) -> None:
    n, n_met, secs, n_part, n_pending, score_sum, n_pass, n_due, n_done = (int(v or 0) if i != 5 else float(v or 0)
                                                                          for i, v in enumerate(sums))
    row.officers, row.study_target_met, row.exam_participants = n, n_met, n_part
    row.exam_pending, row.pass_count = n_pending, n_pass
    if n:
        row.study_completion_rate = n_met / n
        row.avg_study_hours = round(secs / n / 3600, 2)
        row.exam_participation_rate = n_part / n
    row.avg_score = round(score_sum / n_part, 2) if n_part else None
    row.pass_rate = (n_pass / n_part) if n_part else (0.0 if n else None)
    row.task_completion_rate = min(1.0, n_done / n_due) if n_due else None


def unit_rows(session: Session, week: str, now, weights: dict | None = None) -> list[UnitRow]:
    """Every active unit of the city with its figures and ranks, in three queries whatever the
    number of officers: the target, the per-unit sums (one aggregation over all officers), and
    the unit list. Each unit's figures are the sums over every unit in its subtree, rolled up
    by materialised path — exactly what aggregating all its officers directly would give."""
    direct = _direct_sums(session, week, now)
    units = session.execute(select(Unit.id, Unit.name, Unit.code, Unit.parent_id, Unit.depth, Unit.level, Unit.path,
                                   Unit.is_active)).all()
    path_of = {u.id: u.path for u in units}
    totals: dict[int, list] = {}
    for unit_id, sums in direct.items():
        for ancestor in _ancestor_ids(path_of.get(unit_id, "")):
            acc = totals.setdefault(ancestor, [0] * len(sums))
            for i, value in enumerate(sums):
                acc[i] += value or 0
    rows = []
    for u in units:
        if not u.is_active:
            continue
        row = UnitRow(u.id, u.name, u.code, u.parent_id, u.depth, u.level, u.path)
        _fill(row, totals.get(u.id, [0] * 9))
        rows.append(row)
    _composite(rows, weights or DEFAULT_WEIGHTS)
    _rank(rows)
    return rows


#: Per-process cache of ``unit_rows`` (see ``cached_unit_rows``): key → (computed_at, rows).
_CACHE: dict[tuple, tuple] = {}
_CACHE_ENTRIES = 32


def cached_unit_rows(session: Session, week: str, now, weights: dict | None, max_age_seconds: float, *,
                     copies: bool = True):
    """``(unit_rows(...), computed_at)``, reusing this process's result for the same database,
    week and weights while it is younger than ``max_age_seconds`` (REPORTS_CACHE_SECONDS).

    Why (issue #7, QUALITY L8): every dashboard, leaderboard and export needs the whole city's
    rows (ranks are city-wide), and the live week's aggregation over all officers is most of a
    dashboard's cost (about 60 ms of 100 ms for 10,028 officers on the bench machine). Twenty
    dashboards a second during the exam peak ran it twenty times a second and held autosaves
    back. With the cache each web process runs it at most once per ``max_age_seconds`` and the
    page says when its figures were computed, so seconds of staleness are visible, never hidden.
    0 turns the cache off (the tests' setting, so every change shows at once). Callers get
    their own copies of the rows; with ``copies=False`` they get the cached rows themselves
    (no copying 300 rows per dashboard) and must not alter them."""
    if max_age_seconds <= 0:
        return unit_rows(session, week, now, weights), now
    key = (str(session.get_bind().url), week, tuple(sorted((weights or DEFAULT_WEIGHTS).items())))
    hit = _CACHE.get(key)
    if hit is not None and timedelta(0) <= now - hit[0] <= timedelta(seconds=max_age_seconds):
        computed_at, rows = hit
    else:
        rows, computed_at = unit_rows(session, week, now, weights), now
        if len(_CACHE) >= _CACHE_ENTRIES:
            _CACHE.pop(min(_CACHE, key=lambda k: _CACHE[k][0]))
        _CACHE[key] = (computed_at, rows)
    return ([_copy_row(r) for r in rows] if copies else rows), computed_at


def _copy_row(row: UnitRow) -> UnitRow:
    """A caller's own copy (shallow: every field is a number or a string, but ``extra``)."""
    twin = copy.copy(row)
    twin.extra = dict(row.extra)
    return twin


def _ancestor_ids(path: str) -> list[int]:
    """``"/1/4/17/"`` → ``[1, 4, 17]``: the unit and every unit above it."""
    return [int(p) for p in path.strip("/").split("/") if p]


def _composite(rows: list[UnitRow], weights: dict) -> None:
    for row in rows:
        if not row.officers:
            continue
        parts = [(weights["study"], row.study_completion_rate), (weights["participation"], row.exam_participation_rate),
                 (weights["score"], (row.avg_score or 0) / 100)]
        if row.task_completion_rate is not None:
            parts.append((weights["tasks"], row.task_completion_rate))
        total = sum(w for w, _ in parts)
        row.composite_score = round(100 * sum(w * (v or 0) for w, v in parts) / total, 2) if total else 0.0


def _order_key(row: UnitRow):
    return (-(row.composite_score if row.composite_score is not None else -1),
            -(row.study_completion_rate or 0), -(row.avg_score or 0), row.unit_code)


def _rank(rows: list[UnitRow]) -> None:
    by_parent: dict = {}
    by_level: dict = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
        by_level.setdefault(row.level, []).append(row)
    for group in by_parent.values():
        for i, row in enumerate(sorted(group, key=_order_key), 1):
            row.rank = i
    for group in by_level.values():
        for i, row in enumerate(sorted(group, key=_order_key), 1):
            row.city_rank = i


def subtree_rows(rows: list[UnitRow], root: Unit) -> list[UnitRow]:
    """The root and every unit below it, in tree order (parents before children, by rank)."""
    inside = [r for r in rows if r.path.startswith(root.path)]
    children: dict = {}
    for r in inside:
        children.setdefault(r.parent_id, []).append(r)
    for group in children.values():
        group.sort(key=lambda r: r.rank or 0)
    ordered: list[UnitRow] = []

    def walk(row):
        ordered.append(row)
        for child in children.get(row.unit_id, []):
            walk(child)

    top = next((r for r in inside if r.unit_id == root.id), None)
    if top is not None:
        walk(top)
    return ordered


def officer_rows(session: Session, week: str, now, root: Unit, *, only: str | None = None,
                 sort: str = "unit") -> list[dict]:
    """Every active officer in ``root``'s subtree with their week (one query)."""
    from ..auth.scope import subtree_unit_ids

    target = weekly_target_seconds(session, week)
    facts = officer_facts(session, week, now, unit_filter=subtree_unit_ids(root)).subquery()
    stmt = (select(facts, User.name, User.badge_no, User.username, Unit.name.label("unit_name"))
            .join(User, User.id == facts.c.user_id).join(Unit, Unit.id == facts.c.unit_id))
    if only == "target_not_met":
        stmt = stmt.where(facts.c.study_seconds < target)
    elif only == "exam_not_taken":
        stmt = stmt.where(facts.c.finished == 0)
    elif only == "failed":
        stmt = stmt.where(facts.c.finished == 1, facts.c.passed == 0)
    order = {"name": [User.name], "study_seconds": [facts.c.study_seconds, User.name],
             "exam_score": [facts.c.exam_score, User.name], "unit": [Unit.path, User.name]}[sort]
    stmt = stmt.order_by(*order)
    out = []
    for r in session.execute(stmt):
        out.append({"officer_id": r.user_id, "name": r.name, "badge_no": r.badge_no or r.username,
                    "unit_id": r.unit_id, "unit_name": r.unit_name, "study_seconds": int(r.study_seconds),
                    "study_target_met": int(r.study_seconds) >= target,
                    "exam_score": float(r.exam_score) if r.finished else None,
                    "passed": bool(r.passed) if r.finished else None, "exam_pending": bool(r.pending),
                    "tasks_done": int(r.tasks_done) if r.tasks_due else None})
    return out


def trend(session: Session, unit: Unit, weeks: list[str], now, weights: dict | None = None,
          known: dict[str, "UnitRow"] | None = None) -> list[dict]:
    """The unit's composite and rates over ``weeks``. Closed weeks come from their snapshots
    (one query for all of them); ``known`` rows (the week a dashboard already computed) are
    reused; any other week costs a live aggregation over the unit's own officers.

    A week before the platform had any data (no exam and no study at all) is a gap (nulls),
    not a zero, so a chart does not show a fall that never happened."""
    from ..auth.scope import subtree_unit_ids

    known = known or {}
    exam_weeks = set(session.scalars(select(Exam.week).where(Exam.week.in_(weeks))))
    snapshots = _snapshot_totals(session, [w for w in weeks if w not in known], subtree_unit_ids(unit))
    points = []
    for week in weeks:
        row = known.get(week)
        if row is None:
            row = UnitRow(unit.id, unit.name, unit.code, unit.parent_id, unit.depth, unit.level, unit.path)
            if week in snapshots:
                _fill(row, snapshots[week])
            else:
                target = weekly_target_seconds(session, week)
                _fill(row, _fact_sums(session, week, now, target, subtree_unit_ids(unit), by_unit=False))
            _composite([row], weights or DEFAULT_WEIGHTS)
        if week not in exam_weeks and not row.avg_study_hours:
            points.append({"week": week, "composite_score": None, "study_completion_rate": None,
                           "exam_participation_rate": None})
        else:
            points.append({"week": week, **row.as_json()})
    return points


def own_standing(session: Session, user: User, week: str, now) -> dict:
    """An officer's place among the officers of their own unit by study time (never others' rows)."""
    facts = officer_facts(session, week, now, unit_filter=select(literal(user.unit_id))).subquery()
    rows = session.execute(select(facts.c.user_id, facts.c.study_seconds, facts.c.exam_score)).all()
    ordered = sorted(rows, key=lambda r: (-r.study_seconds, r.user_id))
    mine = next((i for i, r in enumerate(ordered, 1) if r.user_id == user.id), None)
    me = next((r for r in rows if r.user_id == user.id), None)
    return {"position": mine, "of": len(rows), "study_seconds": int(me.study_seconds) if me else 0,
            "exam_score": float(me.exam_score) if me and me.exam_score is not None else None}
