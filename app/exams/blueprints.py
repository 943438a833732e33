"""The weekly-exam blueprint: defaults, validation and the feasibility check (E25)."""
from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import MODULES, QUESTION_TYPES, ExamBlueprint

#: 10 single × 4 + 5 multiple × 6 + 5 true/false × 3 + 3 fill × 5 = 100 points, 23 questions.
DEFAULT_RULES = [
    {"type": "single", "module": None, "difficulty": None, "count": 10},
    {"type": "multiple", "module": None, "difficulty": None, "count": 5},
    {"type": "truefalse", "module": None, "difficulty": None, "count": 5},
    {"type": "fill", "module": None, "difficulty": None, "count": 3},
]
DEFAULT_POINTS = {"single": 4, "multiple": 6, "truefalse": 3, "fill": 5}


class BlueprintError(ValueError):
    """The blueprint is inconsistent or the bank cannot fill it; ``reasons`` are for people."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def default_blueprint() -> ExamBlueprint:
    """The defaults as an unsaved blueprint, every field set (column defaults apply only on
    insert): Monday 08:00 – Sunday 22:00, 30 minutes, pass 80, a pool of three papers."""
    return ExamBlueprint(rules=DEFAULT_RULES, points=DEFAULT_POINTS, duration_minutes=30,
                         opens_offset_minutes=8 * 60, closes_offset_minutes=6 * 1440 + 22 * 60, pass_mark=80,
                         reveal_policy=None, multiple_partial=False, avoid_recent_weeks=3, pool_multiple=3)


def active_blueprint(session: Session) -> ExamBlueprint:
    """The newest stored blueprint, or the unsaved defaults when none is stored (reading never
    writes; the exam job stores the defaults as the first version when it uses them)."""
    return session.scalar(select(ExamBlueprint).order_by(ExamBlueprint.id.desc()).limit(1)) or default_blueprint()


def snapshot(bp: ExamBlueprint) -> dict:
    return {
        "id": bp.id, "rules": bp.rules, "points": bp.points, "duration_minutes": bp.duration_minutes,
        "opens_offset_minutes": bp.opens_offset_minutes, "closes_offset_minutes": bp.closes_offset_minutes,
        "pass_mark": bp.pass_mark, "reveal_policy": bp.reveal_policy, "multiple_partial": bp.multiple_partial,
        "avoid_recent_weeks": bp.avoid_recent_weeks, "pool_multiple": bp.pool_multiple,
    }


def validate(rules: list[dict], points: dict, duration: int, opens: int, closes: int, pass_mark: int) -> list[str]:
    """Consistency of a blueprint on its own (not against the bank)."""
    errors = []
    if not rules:
        errors.append("至少需要一条抽题规则。")
    total = 0
    for i, rule in enumerate(rules, 1):
        if rule.get("type") not in QUESTION_TYPES:
            errors.append(f"第 {i} 条规则的题型无效。")
            continue
        if rule.get("module") not in (None, *MODULES):
            errors.append(f"第 {i} 条规则的模块无效。")
        if rule.get("difficulty") not in (None, 1, 2, 3):
            errors.append(f"第 {i} 条规则的难度无效。")
        if not isinstance(rule.get("count"), int) or rule["count"] < 1:
            errors.append(f"第 {i} 条规则的题数至少为 1。")
            continue
        total += rule["count"] * float(points.get(rule["type"], 0))
    if rules and abs(total - 100) > 1e-6:
        errors.append(f"各题型分值合计应为 100 分，现在是 {total:g} 分。")
    if not 5 <= duration <= 180:
        errors.append("考试时长应在 5–180 分钟之间。")
    if not 0 <= opens < closes <= 7 * 1440:
        errors.append("开放时间必须早于截止时间，且都在本周之内。")
    if not 0 <= pass_mark <= 100:
        errors.append("及格分应在 0–100 之间。")
    return errors


@dataclass(frozen=True)
class PoolRow:
    question_version_id: int
    question_id: int
    qtype: str
    module: str
    difficulty: int


def _matches(rule: dict, row: PoolRow) -> bool:
    return (row.qtype == rule["type"] and rule.get("module") in (None, row.module)
            and rule.get("difficulty") in (None, row.difficulty))


def ordered_rules(rules: list[dict]) -> list[dict]:
    """Most specific rules first, so a general rule never takes a question a specific one needs."""
    return sorted(rules, key=lambda r: (r.get("module") is None, r.get("difficulty") is None))


def shortfalls(pool: list[PoolRow], rules: list[dict]) -> list[str]:
    """Reasons the pool cannot fill the rules (empty when it can)."""
    names = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题"}
    taken: set[int] = set()
    problems = []
    for rule in ordered_rules(rules):
        free = [r for r in pool if r.question_id not in taken and _matches(rule, r)]
        if len(free) < rule["count"]:
            what = names[rule["type"]]
            if rule.get("module"):
                what += f"（模块 {rule['module']}）"
            if rule.get("difficulty"):
                what += f"（难度 {rule['difficulty']}）"
            problems.append(f"{what}需要 {rule['count']} 道，题库只有 {len(free)} 道可用。")
        taken.update(r.question_id for r in free[: rule["count"]])
    return problems


#: The admin may set the pool between one paper's worth and this many times it.
MAX_POOL_MULTIPLE = 10


def weekly_pool(bank: list[PoolRow], rules: list[dict], multiple: int, avoid: frozenset[int],
                seed: int) -> list[PoolRow]:
    """The week's pool drawn from ``bank``: per rule, ``multiple`` × its count where the bank
    allows (at least the count: ``shortfalls`` is checked first), questions outside ``avoid``
    (the last weeks' pools) first. Returned in the bank's order, so a seeded paper draw from it
    is reproducible (E19)."""
    rng = random.Random(seed)
    multiple = max(1, min(int(multiple or 1), MAX_POOL_MULTIPLE))
    taken: set[int] = set()
    for rule in ordered_rules(rules):
        free = [r for r in bank if r.question_id not in taken and _matches(rule, r)]
        fresh = [r for r in free if r.question_id not in avoid]
        stale = [r for r in free if r.question_id in avoid]
        rng.shuffle(fresh)
        rng.shuffle(stale)
        taken.update(r.question_id for r in (fresh + stale)[: rule["count"] * multiple])
    return [r for r in bank if r.question_id in taken]
