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
  so small and large units compete fairly (``figures.composite_score``).
- ``rank``: among sibling units; ``city_rank``: among all units of the same level in the city.
  Ties: higher composite, then higher study completion rate, then higher average score, then
  the unit code in alphabetical order — so every rank is distinct and stable
  (``figures.rank_rows``).

The sums behind the figures are named (``figures.WeeklySums``); rates, composite, ranks and the
leaderboard's lists are pure functions in app/reports/figures.py, each with its own test.

One aggregation query computes the whole city (about 300 units for 10,028 officers); the
ranks need every unit anyway, and the caller's scope is applied to the rows returned. Closed
weeks read the same per-unit sums from their snapshot instead.
"""
from __future__ import annotations

import copy
from datetime import date, timedelta
from functools import cached_property

from flask import current_app
from sqlalchemy import Integer, String, and_, case, cast, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from ..auth.scope import aimed_at, ancestor_ids, ancestors_in_scope, path_within, subtree_unit_ids
from ..models import (AppSetting, Attempt, Exam, ReportSnapshot, ReportSnapshotUnit, StudyDay, StudyPolicy, Task,
                      TaskSubmission, Unit, User)
from ..timeutils import parse_week_key, previous_weeks, week_bounds_utc, week_key, week_progress
from .figures import (UnitRow, WeeklySums, apply_pace, apply_sums, composite_score, leaderboard_levels,
                      merge_weights, pace_rule, pace_target_seconds, qualified_names, rank_rows)

SORT_KEYS = {"name", "study_seconds", "exam_score", "unit"}
#: ``officer_rows``' ``only`` filters: study target not met, no finished exam, failed it.
FILTERS = {"target_not_met", "exam_not_taken", "failed"}


def weekly_target_seconds(session: Session, week: str) -> int:
    """The weekly target of the study policy in force at the end of ``week``."""
    return weekly_targets(session, [week])[week]


def weekly_targets(session: Session, weeks: list[str]) -> dict[str, int]:
    """``weekly_target_seconds`` of each of ``weeks`` in one query (an officer's 12 weeks): the
    policies that began before the last week's end, newest first; each week takes the first
    one that began before its own end (10 h when none)."""
    ends = {week: week_bounds_utc(week)[1] for week in weeks}
    policies = session.execute(select(StudyPolicy.effective_from, StudyPolicy.weekly_target_seconds)
                               .where(StudyPolicy.effective_from < max(ends.values()))
                               .order_by(StudyPolicy.effective_from.desc(), StudyPolicy.id.desc())).all()
    return {week: next((p.weekly_target_seconds for p in policies if p.effective_from < end), None) or 10 * 3600
            for week, end in ends.items()}


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
    due = (select(Unit.id.label("unit_id"), func.count(Task.id).label("due")).select_from(Unit)
           .join(Task, and_(Task.due_at < due_by, Task.withdrawn_at.is_(None)))
           .where(aimed_at(Task.target_unit_id, Unit.path)).group_by(Unit.id).subquery())
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


def _sums_select(session: Session, week: str, now, target: int, unit_filter=None):
    """SELECT of the officer facts' additive sums, one column per ``WeeklySums`` field (by name)."""
    facts = officer_facts(session, week, now, unit_filter).subquery()
    met = cast(case((facts.c.study_seconds >= target, 1), else_=0), Integer)
    sums = {"officers": func.count(facts.c.user_id), "target_met": func.sum(met),
            "study_seconds": func.sum(facts.c.study_seconds), "participants": func.sum(facts.c.finished),
            "pending": func.sum(facts.c.pending), "score_sum": func.sum(facts.c.exam_score),
            "passed": func.sum(facts.c.passed), "tasks_due": func.sum(facts.c.tasks_due),
            "tasks_done": func.sum(facts.c.tasks_done)}
    return facts, [func.coalesce(sums[name], 0).label(name) for name in WeeklySums.names()]


def weekly_sums(session: Session, week: str, now, target: int | None = None) -> dict[int, WeeklySums]:
    """Each unit's own officers' sums for ``week`` (not its subtree's), live, in one aggregation:
    counts and sums only, so any subtree's figures are exact sums of its units' (never averages
    of averages). The snapshot of a closed week stores exactly this (app/reports/snapshots.py).
    ``target``: the weekly target in seconds (default: the policy in force at the week's end)."""
    return _live_sums(session, week, now, target)[0]


def _live_sums(session: Session, week: str, now, target: int | None = None,
               pace: int | None = None) -> tuple[dict[int, WeeklySums], dict[int, int] | None]:
    """``weekly_sums`` and, with a pro-rated target ``pace`` (``figures.pace_target_seconds``),
    each unit's officers on pace, counted in the same aggregation (no query more)."""
    target = weekly_target_seconds(session, week) if target is None else target
    facts, columns = _sums_select(session, week, now, target)
    if pace is not None:
        columns.append(func.coalesce(func.sum(cast(case((facts.c.study_seconds >= pace, 1), else_=0), Integer)), 0)
                       .label("on_pace"))
    rows = session.execute(select(facts.c.unit_id, *columns).group_by(facts.c.unit_id)).all()
    sums = {row.unit_id: WeeklySums.of(row._mapping) for row in rows}
    return sums, ({row.unit_id: int(row.on_pace) for row in rows} if pace is not None else None)


def subtree_sums(session: Session, week: str, now, unit: Unit, target: int | None = None) -> WeeklySums:
    """The sums over every officer in ``unit``'s subtree for ``week``, live (one aggregation)."""
    target = weekly_target_seconds(session, week) if target is None else target
    _facts, columns = _sums_select(session, week, now, target, subtree_unit_ids(unit))
    return WeeklySums.of(session.execute(select(*columns)).one()._mapping)


def _snapshot_columns():
    return [getattr(ReportSnapshotUnit, name).label(name) for name in WeeklySums.names()]


def _direct_sums(session: Session, week: str, now) -> tuple[dict[int, WeeklySums], dict[int, int] | None]:
    """Per-unit sums of each unit's own officers and their officers on pace (None on a week's
    first day): the week's snapshot when it has one (app/reports/snapshots.py; a closed week's
    pro-rated target is the whole target, so on pace = target met), else the live aggregation.
    Two queries either way."""
    snap = session.execute(
        select(ReportSnapshot.week, ReportSnapshotUnit.unit_id, *_snapshot_columns())
        .outerjoin(ReportSnapshotUnit, ReportSnapshotUnit.week == ReportSnapshot.week)
        .where(ReportSnapshot.week == week)).all()
    if snap:
        sums = {row.unit_id: WeeklySums.of(row._mapping) for row in snap if row.unit_id is not None}
        return sums, {unit_id: s.target_met for unit_id, s in sums.items()}
    target = weekly_target_seconds(session, week)
    return _live_sums(session, week, now, target, pace_target_seconds(target, week, now))


def direct_sums_by_week(session: Session, weeks: list[str], now) -> dict[str, dict[int, WeeklySums]]:
    """``_direct_sums`` for many weeks at once (the campaign report, app/reports/campaign.py):
    each unit's own officers' sums per week, from the week's snapshot when it has one, else live.
    At most three queries whatever the number of weeks: the snapshots' rows, the targets of the
    weeks without one, and one statement gluing their live aggregations (``_sums_select``,
    verbatim, per week) with UNION ALL."""
    out: dict[str, dict[int, WeeklySums]] = {week: {} for week in weeks}
    if not weeks:
        return out
    snapped = set()
    for row in session.execute(select(ReportSnapshot.week, ReportSnapshotUnit.unit_id, *_snapshot_columns())
                               .outerjoin(ReportSnapshotUnit, ReportSnapshotUnit.week == ReportSnapshot.week)
                               .where(ReportSnapshot.week.in_(weeks))):
        snapped.add(row.week)
        if row.unit_id is not None:
            out[row.week][row.unit_id] = WeeklySums.of(row._mapping)
    live = [week for week in weeks if week not in snapped]
    if live:
        targets = weekly_targets(session, live)
        parts = []
        for week in live:
            facts, columns = _sums_select(session, week, now, targets[week])
            parts.append(select(cast(literal(week, String), String(8)).label("week"), facts.c.unit_id, *columns)
                         .group_by(facts.c.unit_id))
        for row in session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            out[row.week][row.unit_id] = WeeklySums.of(row._mapping)
    return out


def _snapshot_totals(session: Session, weeks: list[str], unit_ids) -> dict[str, WeeklySums]:
    """For each snapshotted week among ``weeks``: the sums over the units in ``unit_ids``
    (one query for all weeks)."""
    sums = [func.coalesce(func.sum(getattr(ReportSnapshotUnit, name)), 0).label(name) for name in WeeklySums.names()]
    rows = session.execute(
        select(ReportSnapshot.week, *sums)
        .outerjoin(ReportSnapshotUnit, and_(ReportSnapshotUnit.week == ReportSnapshot.week,
                                            ReportSnapshotUnit.unit_id.in_(unit_ids)))
        .where(ReportSnapshot.week.in_(weeks)).group_by(ReportSnapshot.week)).all()
    return {row.week: WeeklySums.of(row._mapping) for row in rows}


def _unit_row(unit) -> UnitRow:
    return UnitRow(unit.id, unit.name, unit.code, unit.parent_id, unit.depth, unit.level, unit.path)


def unit_rows(session: Session, week: str, now, weights: dict | None = None) -> list[UnitRow]:
    """Every active unit of the city with its figures and ranks, in three queries whatever the
    number of officers: the target, the per-unit sums (one aggregation over all officers), and
    the unit list. Each unit's figures are the sums over every unit in its subtree, rolled up
    by materialised path — exactly what aggregating all its officers directly would give."""
    direct, pace = _direct_sums(session, week, now)
    units = session.execute(select(Unit.id, Unit.name, Unit.code, Unit.parent_id, Unit.depth, Unit.level, Unit.path,
                                   Unit.is_active)).all()
    path_of = {u.id: u.path for u in units}
    totals: dict[int, WeeklySums] = {}
    on_pace: dict[int, int] = {}
    for unit_id, sums in direct.items():
        for ancestor in ancestor_ids(path_of.get(unit_id, "")):
            totals.setdefault(ancestor, WeeklySums()).add(sums)
            if pace is not None:
                on_pace[ancestor] = on_pace.get(ancestor, 0) + pace.get(unit_id, 0)
    weights = merge_weights(weights)
    rows = []
    for u in units:
        if not u.is_active:
            continue
        row = _unit_row(u)
        apply_sums(row, totals.get(u.id, WeeklySums()))
        apply_pace(row, on_pace.get(u.id, 0) if pace is not None else None)
        row.composite_score = composite_score(row, weights)
        rows.append(row)
    rank_rows(rows)
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
    key = (str(session.get_bind().url), week, tuple(sorted(merge_weights(weights).items())))
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


def subtree_rows(rows: list[UnitRow], root: Unit) -> list[UnitRow]:
    """The root and every unit below it, in tree order (parents before children, by rank)."""
    inside = [r for r in rows if path_within(r.path, root.path)]
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
    """Every active officer in ``root``'s subtree with their week (one query). ``on_pace``: their
    study so far reached the pro-rated target (``figures.pace_target_seconds``; None on the
    week's first day). ``only="target_not_met"``: officers not on pace, that is, behind the
    pro-rated target while the week is in progress (nobody on its first day) and short of the
    full target for a past week, where the pace is the whole target. ``only="behind"`` (the
    printed report's list, not a dashboard filter): officers behind that pace or without a
    finished exam."""
    target = weekly_target_seconds(session, week)
    pace = pace_target_seconds(target, week, now)
    facts = officer_facts(session, week, now, unit_filter=subtree_unit_ids(root)).subquery()
    stmt = (select(facts, User.name, User.badge_no, User.username, Unit.name.label("unit_name"))
            .join(User, User.id == facts.c.user_id).join(Unit, Unit.id == facts.c.unit_id))
    if only == "behind":
        # An answer sheet past its deadline awaiting the sweep is pending, not "untested".
        untested = and_(facts.c.finished == 0, facts.c.pending == 0)
        stmt = stmt.where(or_(untested, *([facts.c.study_seconds < pace] if pace is not None else [])))
    elif only == "target_not_met":
        # One definition of "behind" (figures.pace_target_seconds): mid-week the 学习进度落后
        # filter, and 一键提醒 with it, must not flag everyone short of the full week's target.
        stmt = stmt.where(facts.c.study_seconds < pace if pace is not None else false())
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
                    "on_pace": int(r.study_seconds) >= pace if pace is not None else None,
                    "exam_score": float(r.exam_score) if r.finished else None,
                    "passed": bool(r.passed) if r.finished else None, "exam_pending": bool(r.pending),
                    "tasks_done": int(r.tasks_done) if r.tasks_due else None, "tasks_due": int(r.tasks_due)})
    return out


def trend(session: Session, unit: Unit, weeks: list[str], now, weights: dict | None = None,
          known: dict[str, "UnitRow"] | None = None) -> list[dict]:
    """The unit's composite and rates over ``weeks``. Closed weeks come from their snapshots
    (one query for all of them); ``known`` rows (the week a dashboard already computed) are
    reused; any other week costs a live aggregation over the unit's own officers.

    A week before the platform had any data (no exam and no study at all) is a gap (nulls),
    not a zero, so a chart does not show a fall that never happened."""
    known = known or {}
    weights = merge_weights(weights)
    exam_weeks = set(session.scalars(select(Exam.week).where(Exam.week.in_(weeks))))
    snapshots = _snapshot_totals(session, [w for w in weeks if w not in known], subtree_unit_ids(unit))
    points = []
    for week in weeks:
        row = known.get(week)
        if row is None:
            row = _unit_row(unit)
            apply_sums(row, snapshots[week] if week in snapshots else subtree_sums(session, week, now, unit))
            row.composite_score = composite_score(row, weights)
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


# --- what the pages and the API read ----------------------------------------------------------

#: The AppSetting key of the admin's composite weights.
WEIGHTS_KEY = "score_weights"


def get_weights(session: Session) -> dict[str, int]:
    """The composite weights in force: the admin's saved row merged over the defaults
    (``figures.merge_weights``: a row saved before a weight existed keeps working)."""
    row = session.get(AppSetting, WEIGHTS_KEY)
    return merge_weights(row.value if row else None)


def cache_seconds() -> float:
    """REPORTS_CACHE_SECONDS of the running app (0: always live)."""
    return current_app.config.get("REPORTS_CACHE_SECONDS", 0)


def city_rows(session: Session, week: str, now, weights: dict | None = None, *, copies: bool = True):
    """``(rows, computed_at)``: every unit's figures for ``week`` with the weights in force,
    through this process's cache (``cached_unit_rows``, also for ``copies``)."""
    weights = weights if weights is not None else get_weights(session)
    return cached_unit_rows(session, week, now, weights, cache_seconds(), copies=copies)


def unit_table(session: Session, week: str, unit: Unit, now) -> list[UnitRow]:
    """The unit and every unit below it, with the week's figures (ranks city-wide)."""
    return subtree_rows(city_rows(session, week, now)[0], unit)


def leaderboard_data(session: Session, week: str, now) -> dict:
    """The public leaderboard: per level, the 红榜 and 黑榜 (``figures.leaderboard_levels``);
    ``names``: each unit with its parent (``figures.qualified_names``); ``as_of``: when the
    figures were computed (a week in progress is read as of then)."""
    rows, computed_at = city_rows(session, week, now)
    return {"week": week, "levels": leaderboard_levels(rows), "names": qualified_names(rows), "as_of": computed_at}


#: Per-process memo of ``data_weeks``' look-up: database URL → (looked up at, (first day, first exam week)).
_FIRST_WEEK: dict[str, tuple] = {}
#: At most this many weeks in a week picker (a campaign runs for months, not years).
PICKER_WEEKS = 52


def data_weeks(session: Session, now) -> list[str]:
    """The weeks a person may pick, oldest first: from the first week with any data in the city
    (a study day or a city exam) to this week, at most ``PICKER_WEEKS``. City-wide on purpose:
    ranks are city-wide, so a week is worth showing when any unit has figures. Just this week
    when there is no data at all. One query (two index look-ups), reused for REPORTS_CACHE_SECONDS
    like the city's figures, so a dashboard served from the cache runs none."""
    key, max_age = str(session.get_bind().url), cache_seconds()
    hit = _FIRST_WEEK.get(key)
    if max_age > 0 and hit is not None and timedelta(0) <= now - hit[0] <= timedelta(seconds=max_age):
        first_day, first_exam = hit[1]
    else:
        first_day, first_exam = session.execute(
            select(select(func.min(StudyDay.day)).scalar_subquery(),
                   select(func.min(Exam.week)).where(Exam.scope == "city").scalar_subquery())).one()
        _FIRST_WEEK[key] = (now, (first_day, first_exam))
    this_week = week_key(now)
    starts = [week_key(first_day)] if first_day else []
    if first_exam:
        starts.append(first_exam)
    first = min(starts, default=this_week)
    if first > this_week:
        return [this_week]
    weeks = previous_weeks(this_week, PICKER_WEEKS)
    return [w for w in weeks if w >= first]


class DashboardFigures:
    """What the dashboard body shows, each computed when the template first asks for it, so a
    body served from the fragment cache runs none of these queries. ``viewer`` and ``root`` (their
    scope root) only shape the breadcrumb; the caller has checked ``unit`` against the scope."""

    def __init__(self, session: Session, week: str, unit: Unit, only: str | None, now, weights: dict, city: list,
                 viewer: User, root: Unit, as_of=None):
        self.session, self.week, self.unit, self.only, self.now = session, week, unit, only, now
        self.weights, self.city, self.viewer, self.root = weights, city, viewer, root
        #: when ``city`` was computed: the week's progress is read as of then, so a cached body
        #: (keyed by that time) never claims fresher figures than it shows
        self.progress = week_progress(week, as_of or now)

    @cached_property
    def pace_rule(self) -> str:
        return pace_rule(weekly_target_seconds(self.session, self.week), self.progress)

    @cached_property
    def rows(self) -> list:
        return subtree_rows(self.city, self.unit)

    @cached_property
    def top(self):
        return self.rows[0] if self.rows else None

    @cached_property
    def children(self) -> list:
        return [r for r in self.rows if r.parent_id == self.unit.id]

    @cached_property
    def officers(self) -> list[dict]:
        if self.only or not self.children:
            return officer_rows(self.session, self.week, self.now, self.unit, only=self.only)
        return []

    @cached_property
    def trend(self) -> list[dict]:
        return trend(self.session, self.unit, previous_weeks(self.week, 8), self.now, self.weights,
                     known={self.week: self.top} if self.top else None)

    @cached_property
    def ancestors(self) -> list[Unit]:
        """Breadcrumb from the caller's scope root down to the unit."""
        return ancestors_in_scope(self.session, self.viewer, self.unit, root=self.root)

    @cached_property
    def target_hours(self) -> float:
        return weekly_target_seconds(self.session, self.week) / 3600
