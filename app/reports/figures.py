"""The rules behind the unit figures, without a database (issue #5; QUALITY A15, L8).

A unit's week is a ``WeeklySums`` (named, additive counts and sums: a subtree's sums are the
sums of its units'); ``apply_sums`` turns them into the rates of a ``UnitRow``;
``composite_score`` weighs the rates with the admin's weights (``WEIGHTS`` is the one list of
them: defaults, labels, parts, the weights page's fields); ``rank_rows`` ranks and
``leaderboard_levels`` picks the 红榜/黑榜. The SQL that produces the sums lives in queries.py;
every rule here has its own test in tests/test_report_figures.py.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..timeutils import WeekProgress, week_progress

# --- weights ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weight:
    """One part of the composite: its key (form field and stored key), label, default weight and
    the part's value for a row, a fraction in 0..1 (None: the part does not exist yet for that
    row and is left out, see ``composite_score``)."""
    key: str
    label: object
    default: int
    part: Callable[["UnitRow"], float | None]


#: The composite's parts, in the order the weights page shows them. Adding one here adds it to
#: the composite, the defaults and the page; stored weights without it take its default.
WEIGHTS: tuple[Weight, ...] = (
    Weight("study", _l("学习达标率"), 40, lambda r: r.study_completion_rate or 0.0),
    Weight("participation", _l("参考率"), 20, lambda r: r.exam_participation_rate or 0.0),
    Weight("score", _l("平均分"), 30, lambda r: (r.avg_score or 0.0) / 100),
    # None while no task was due (issue #6): left out rather than counted as 0.
    Weight("tasks", _l("任务完成率"), 10, lambda r: r.task_completion_rate),
)
WEIGHT_KEYS: tuple[str, ...] = tuple(w.key for w in WEIGHTS)
DEFAULT_WEIGHTS: dict[str, int] = {w.key: w.default for w in WEIGHTS}


def merge_weights(stored: dict | None) -> dict[str, int]:
    """The weights in force: ``stored`` (the admin's saved row) over the defaults. A key the row
    lacks (a part added after it was saved) takes its default, an unknown key (a part since
    removed) or a value that is not a whole number is ignored, so an old row keeps working."""
    merged = dict(DEFAULT_WEIGHTS)
    for key, value in (stored or {}).items():
        if key in merged and isinstance(value, int) and not isinstance(value, bool):
            merged[key] = value
    return merged


# --- sums and rows ----------------------------------------------------------------------------


@dataclass
class WeeklySums:
    """Additive sums of the officer facts of one unit (or subtree) and ISO week. Field names are
    the columns of ``ReportSnapshotUnit`` and the labels of the live aggregation's columns."""
    officers: int = 0       #: active officers
    target_met: int = 0     #: officers whose credited study seconds reached the weekly target
    study_seconds: int = 0  #: credited study seconds, all officers
    participants: int = 0   #: officers with a finished attempt on the week's exam
    pending: int = 0        #: attempts past their deadline, not swept yet
    score_sum: float = 0.0  #: sum of the participants' scores
    passed: int = 0         #: participants who passed
    tasks_due: int = 0      #: tasks due by the week's end, summed over officers
    tasks_done: int = 0     #: accepted submissions of those tasks

    @staticmethod
    def names() -> tuple[str, ...]:
        """The field names, in declaration order."""
        return _SUM_NAMES

    @classmethod
    def of(cls, values) -> "WeeklySums":
        """From a mapping by name (a result row's ``_mapping``); NULL sums count as 0."""
        return cls(**{name: kind(values[name] or 0) for name, kind in _SUM_TYPES})

    def add(self, other: "WeeklySums") -> None:
        """Add ``other`` in place (rolling units up into their ancestors)."""
        for name in _SUM_NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return asdict(self)


_SUM_TYPES = tuple((f.name, float if f.type in ("float", float) else int) for f in fields(WeeklySums))
_SUM_NAMES = tuple(name for name, _kind in _SUM_TYPES)


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
    #: officers whose study so far reached the pro-rated target (``pace_target_seconds``);
    #: None on a week's first day, when there is nothing to be behind on yet
    on_pace: int | None = None
    on_pace_rate: float | None = None
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


def apply_sums(row: UnitRow, sums: WeeklySums) -> None:
    """Counts and rates of ``row`` from its sums. Rates over officers are None for a unit without
    officers; ``avg_score`` (over participants) is None without participants; ``pass_rate`` is
    passed / participants, 0 when officers took no exam (None without officers); the task rate
    is capped at 1 and None while no task was due. Averages are rounded to 2 decimals."""
    n, part = sums.officers, sums.participants
    row.officers, row.study_target_met, row.exam_participants = n, sums.target_met, part
    row.exam_pending, row.pass_count = sums.pending, sums.passed
    row.study_completion_rate = sums.target_met / n if n else None
    row.avg_study_hours = round(sums.study_seconds / n / 3600, 2) if n else None
    row.exam_participation_rate = part / n if n else None
    row.avg_score = round(sums.score_sum / part, 2) if part else None
    row.pass_rate = (sums.passed / part) if part else (0.0 if n else None)
    row.task_completion_rate = min(1.0, sums.tasks_done / sums.tasks_due) if sums.tasks_due else None


def apply_pace(row: UnitRow, on_pace: int | None) -> None:
    """The row's on-pace count and rate (over officers; None without officers or pace)."""
    row.on_pace = on_pace
    row.on_pace_rate = on_pace / row.officers if on_pace is not None and row.officers else None


# --- where the week stands (issue 16) ---------------------------------------------------------

def pace_target_seconds(target_seconds: int, week: str, now) -> int | None:
    """The pro-rated study target at ``now``: the weekly target × the local days of ``week``
    already over / 7 (Asia/Shanghai, ``timeutils.week_progress``), rounded down to a second.
    Today does not count yet (an officer who studies in the evening is not behind at noon),
    but today's study does count towards it. So: Thursday → 3/7 of the target; a past week →
    the whole target (on pace = target met); None on the week's first day and for a future
    week, when nobody can be behind yet. The pages print this rule under the figure."""
    days = week_progress(week, now).days_elapsed
    return target_seconds * days // 7 if days else None


def progress_note(progress: WeekProgress) -> str:
    """本周进行中（截至 周四 14:00，还剩 3 天） for a week in progress; "" otherwise."""
    if not progress.in_progress:
        return ""
    weekday = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))[progress.as_of.weekday()]
    left = (_("还剩 %(n)d 天", n=progress.days_left) if progress.days_left else _("今天是最后一天"))
    return _("本周进行中（截至 %(day)s %(time)s，%(left)s）", day=weekday, time=f"{progress.as_of:%H:%M}", left=left)


def pace_rule(target_seconds: int, progress: WeekProgress) -> str:
    """The pro-rating rule as people read it under the 进度达标 figure (``pace_target_seconds``)."""
    if not progress.in_progress:
        return ""
    if not progress.days_elapsed:
        return _("进度达标从周二起计算：学时不少于 周目标 × 已过完的天数 ÷ 7。")
    pace = target_seconds * progress.days_elapsed // 7
    return _("进度达标：截至今天学时不少于 周目标 %(t)s 小时 × 已过完 %(d)d 天 ÷ 7 = %(p)s 小时。",
             t="%g" % round(target_seconds / 3600, 1), d=progress.days_elapsed, p="%.1f" % (pace / 3600))


def qualified_names(rows: list[UnitRow]) -> dict[int, str]:
    """Each unit's name for a city-wide list: its parent's name first (小店分局·第一检察部), and
    more ancestors while two units of the list would still read the same; the city (the root)
    is never named. ``rows`` are every unit of the city (ancestors included)."""
    by_id = {r.unit_id: r for r in rows}

    def chain(row: UnitRow) -> list[str]:
        names, cur = [], row
        while cur is not None and cur.parent_id is not None:
            names.append(cur.unit_name)
            cur = by_id.get(cur.parent_id)
        return names[::-1] or [row.unit_name]

    chains = {r.unit_id: chain(r) for r in rows}
    out: dict[int, str] = {}
    for depth in range(1, 1 + max((len(c) for c in chains.values()), default=1)):
        labels = {uid: "·".join(c[-(depth + 1):]) for uid, c in chains.items() if uid not in out}
        seen: dict[str, int] = {}
        for label in labels.values():
            seen[label] = seen.get(label, 0) + 1
        for uid, label in labels.items():
            if seen[label] == 1 or len(chains[uid]) <= depth + 1:
                out[uid] = label
    return out


# --- composite and ranks ----------------------------------------------------------------------


def composite_score(row: UnitRow, weights: dict) -> float | None:
    """0..100: the weighted mean of the row's parts (``WEIGHTS``) with ``weights`` (a part missing
    from ``weights`` takes its default). A part that does not exist yet (None: no task due) is left out and the other
    weights rescaled, so the score stays on the same scale; a missing average score counts 0.
    None for a unit without officers; 0 when every available part weighs 0. Rounded to 2
    decimals. Rates, never totals, so small and large units compete fairly."""
    if not row.officers:
        return None
    parts = [(weights.get(w.key, w.default), value) for w in WEIGHTS if (value := w.part(row)) is not None]
    total = sum(weight for weight, _ in parts)
    return round(100 * sum(weight * value for weight, value in parts) / total, 2) if total else 0.0


def order_key(row: UnitRow):
    """Better first: higher composite (a unit without officers, None, after every other), then
    higher study completion rate, then higher average score, then the unit code in alphabetical
    order — so every rank is distinct and stable."""
    return (-(row.composite_score if row.composite_score is not None else -1),
            -(row.study_completion_rate or 0), -(row.avg_score or 0), row.unit_code)


def rank_rows(rows: list[UnitRow]) -> None:
    """Set ``rank`` (1 = best among the units with the same parent) and ``city_rank`` (among all
    units of the same level in the city), both by ``order_key``."""
    by_parent: dict = {}
    by_level: dict = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
        by_level.setdefault(row.level, []).append(row)
    for group in by_parent.values():
        for i, row in enumerate(sorted(group, key=order_key), 1):
            row.rank = i
    for group in by_level.values():
        for i, row in enumerate(sorted(group, key=order_key), 1):
            row.city_rank = i


#: The leaderboard's levels, top down (the city itself is not ranked).
LEADERBOARD_LEVELS = ("system", "branch", "station")


def leaderboard_levels(rows: list[UnitRow]) -> list[dict]:
    """Per level: ``all`` its units with officers by city rank; with four or more, 红榜 (``red``)
    the best ``min(5, n // 2)`` and 黑榜 (``black``) as many of the worst, worst first, so no unit
    is on both; with fewer than four, every unit is on the red list and the black one is empty."""
    levels = []
    for level in LEADERBOARD_LEVELS:
        ranked = sorted((r for r in rows if r.level == level and r.officers), key=lambda r: r.city_rank)
        if len(ranked) >= 4:
            size = min(5, len(ranked) // 2)
            red, black = ranked[:size], list(reversed(ranked[-size:]))
        else:
            red, black = ranked, []
        levels.append({"level": level, "red": red, "black": black, "all": ranked})
    return levels
