"""Drawing an officer's paper from the exam's frozen pool, reproducibly from a seed (E19)."""
from __future__ import annotations

import random
import string
from dataclasses import dataclass

from .blueprints import PoolRow, _matches, ordered_rules


@dataclass(frozen=True)
class PaperQuestion:
    question_version_id: int
    qtype: str
    points: float
    #: display key → bank key ({} for fill). Display keys are A, B, C … in order, as many as
    #: the question has options (two to eight); choice questions get their options shuffled.
    option_map: dict


def draw(pool: list[PoolRow], rules: list[dict], points: dict, seed: int, avoid: frozenset[int],
         options_of: dict[int, list]) -> list[PaperQuestion]:
    """The paper for ``seed``: the same inputs always give the same paper.

    ``pool`` must be in a stable order (by version id). ``avoid`` holds question ids the officer
    saw in recent weeks: they are used only when a rule cannot be filled without them.
    ``options_of`` maps a version id to its ordered ``[[key, text], ...]``.
    """
    rng = random.Random(seed)
    taken: set[int] = set()
    chosen: list[PoolRow] = []
    for rule in ordered_rules(rules):
        candidates = [r for r in pool if r.question_id not in taken and _matches(rule, r)]
        fresh = [r for r in candidates if r.question_id not in avoid]
        stale = [r for r in candidates if r.question_id in avoid]
        rng.shuffle(fresh)
        rng.shuffle(stale)
        picked = (fresh + stale)[: rule["count"]]
        taken.update(r.question_id for r in picked)
        chosen.extend(picked)
    # Keep the paper grouped by type (single, multiple, true/false, fill) as officers expect,
    # shuffled within each group.
    type_order = {"single": 0, "multiple": 1, "truefalse": 2, "fill": 3}
    rng.shuffle(chosen)
    chosen.sort(key=lambda r: type_order[r.qtype])
    paper = []
    for row in chosen:
        keys = [k for k, _ in options_of.get(row.question_version_id, [])]
        if row.qtype in ("single", "multiple"):
            rng.shuffle(keys)
        option_map = {string.ascii_uppercase[i]: k for i, k in enumerate(keys)}
        paper.append(PaperQuestion(row.question_version_id, row.qtype, float(points[row.qtype]), option_map))
    return paper
