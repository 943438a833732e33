"""How diligent each demo unit is, so that study history, exam history and the dashboards tell
one consistent story: some units diligent, some behind, one improving, a few officers who never
take the exam. Deterministic: the same unit always gets the same profile."""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class UnitProfile:
    #: 0..1, how much of the target a typical officer of the unit reaches.
    diligence: float
    #: Added to diligence per week of history (an improving unit has a positive trend).
    trend: float


def unit_profile(unit_id: int) -> UnitProfile:
    rng = random.Random(unit_id * 7919 + 17)
    roll = rng.random()
    if roll < 0.15:
        return UnitProfile(diligence=rng.uniform(0.35, 0.55), trend=0.0)      # behind
    if roll < 0.25:
        return UnitProfile(diligence=rng.uniform(0.40, 0.50), trend=0.09)     # improving fast
    if roll < 0.55:
        return UnitProfile(diligence=rng.uniform(0.85, 0.98), trend=0.0)      # diligent
    return UnitProfile(diligence=rng.uniform(0.62, 0.85), trend=0.02)         # middling


def diligence_in_week(profile: UnitProfile, weeks_ago: int, total_weeks: int) -> float:
    """The unit's diligence ``weeks_ago`` weeks back (0 = this week), clamped to 0.05..1."""
    value = profile.diligence + profile.trend * (total_weeks - weeks_ago)
    return max(0.05, min(1.0, value))


def never_takes_exams(user_id: int) -> bool:
    """About 3 % of officers never take the weekly exam (the dashboard's "exam not taken" list)."""
    return random.Random(user_id * 104729).random() < 0.03
