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

from flask_babel import lazy_gettext as _l

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
