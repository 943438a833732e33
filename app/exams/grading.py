"""The one grading rule: how much of a question's points an answer earns. Weekly exams
(``services``), 每日一练 (``practice``) and the bank's own check of fill answers
(``bank_format``) all call it; ``tests/test_grading.py`` holds its property tests."""
from __future__ import annotations

import re
import unicodedata


def normalise(text: str) -> str:
    """How fill answers compare: NFKC (full-width → half-width), case-folded, every whitespace
    character removed (the full-width space included). Repeated until stable, because removing
    a space can put combining marks side by side that NFKC then reorders; so it is idempotent."""
    for _round in range(10):
        folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def grade_answer(qtype: str, correct: list, given: list | None, multiple_partial: bool = False) -> float:
    """The fraction (0..1) of a question's points an answer earns.

    single/truefalse: exactly the key. multiple: all-or-nothing, or with ``multiple_partial``
    a correct subset with no wrong option earns len(given)/len(correct) (any wrong option: 0).
    fill: ``given`` is one string, right when ``normalise`` makes it equal to an accepted one.
    """
    if not given:
        return 0.0
    if qtype == "fill":
        if len(given) != 1 or not isinstance(given[0], str) or not normalise(given[0]):
            return 0.0
        return 1.0 if normalise(given[0]) in {normalise(a) for a in correct} else 0.0
    if qtype not in ("single", "truefalse", "multiple"):
        raise ValueError(f"unknown question type {qtype!r}")
    chosen, key = set(given), set(correct)
    if chosen == key:
        return 1.0
    if qtype == "multiple" and multiple_partial and chosen < key:
        return len(chosen) / len(key)
    return 0.0
