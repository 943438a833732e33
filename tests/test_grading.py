"""The one grading rule (app/exams/grading.py): the rules by example, and properties over the
shipped bank (its own key always earns full marks; normalising is idempotent)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.exams import grading
from tests.test_bank import shipped_entries


@pytest.mark.parametrize("qtype, correct, given, partial, expected", [
    ("single", ["B"], ["B"], False, 1.0),
    ("single", ["B"], ["A"], False, 0.0),
    ("single", ["B"], None, False, 0.0),
    ("truefalse", ["A"], ["A", "B"], False, 0.0),
    ("multiple", ["A", "C", "E"], ["E", "A", "C"], False, 1.0),
    ("multiple", ["A", "C", "E"], ["A", "C"], False, 0.0),
    ("multiple", ["A", "C", "E"], ["A", "C"], True, 2 / 3),
    ("multiple", ["A", "C", "E"], ["A", "B"], True, 0.0),
    ("multiple", ["A", "C"], ["A", None], True, 0.0),
    ("fill", ["1921", "1921年"], ["　１９２１ 年 "], False, 1.0),
    ("fill", ["CPC"], ["ｃｐｃ"], False, 1.0),
    ("fill", ["1921"], ["1927"], False, 0.0),
    ("fill", ["1921"], ["1921", "1927"], False, 0.0),
    ("fill", ["1921"], ["   "], False, 0.0),
])
def test_grade_answer_rules(qtype, correct, given, partial, expected):
    """Grading: exact single/truefalse; multiple all-or-nothing or partial; fill after normalising."""
    assert grading.grade_answer(qtype, correct, given, partial) == pytest.approx(expected)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_property_bank_key_always_earns_full_marks(data):
    """Property: for every shipped question the bank's own key earns 1.0 (fill answers also in
    any width, case or spacing), and any other answer earns less than 1."""
    for e in shipped_entries():
        keys = [[a] for a in e.answer] if e.qtype == "fill" else [list(e.answer)]  # fill: one string given
        for key in keys:
            for partial in (False, True):
                assert grading.grade_answer(e.qtype, list(e.answer), key, partial) == 1.0, e.bank_id
    e = data.draw(st.sampled_from(shipped_entries()))
    partial = data.draw(st.booleans())
    if e.qtype == "fill":
        accepted = data.draw(st.sampled_from(e.answer))
        spaced = data.draw(st.lists(st.sampled_from([" ", "\u3000", "\t", ""]), min_size=len(accepted) + 1,
                                    max_size=len(accepted) + 1))
        variant = "".join(s + c for s, c in zip(spaced, accepted)) + spaced[-1]
        if data.draw(st.booleans()):
            variant = _full_width(variant)
        assert grading.grade_answer("fill", list(e.answer), [variant.swapcase()], partial) == 1.0
        wrong = data.draw(st.text(min_size=1, max_size=8))
        if grading.normalise(wrong) not in {grading.normalise(a) for a in e.answer}:
            assert grading.grade_answer("fill", list(e.answer), [wrong], partial) == 0.0
    else:
        keys = [k for k, _text in e.options]
        wrong = data.draw(st.lists(st.sampled_from(keys), min_size=1, unique=True).filter(
            lambda chosen: set(chosen) != set(e.answer)))
        assert grading.grade_answer(e.qtype, list(e.answer), wrong, partial) < 1.0


@given(st.text())
def test_property_normalise_is_idempotent(text):
    """Property: normalising twice equals normalising once (fill answers compare stably)."""
    assert grading.normalise(grading.normalise(text)) == grading.normalise(text)
