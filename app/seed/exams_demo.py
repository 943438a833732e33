"""Demo question bank, weekly exams and exam history for `seed demo` and `seed city`."""
from __future__ import annotations


def load_content(session, now) -> dict:
    """The shipped bank (question_bank/*.yaml), so a new database can hold a weekly exam."""
    from pathlib import Path

    from ..exams import bank_io, bank_read

    parsed = bank_read.read_path(Path(__file__).resolve().parents[2] / "question_bank")
    if parsed.problems:
        raise RuntimeError("the shipped question bank is invalid:\n" + "\n".join(map(str, parsed.problems)))
    result = bank_io.import_entries(session, parsed.entries)
    return {"questions": len(result.created) + len(result.updated) + len(result.unchanged)}


def seed_activity(session, now, officer_ids, weeks, rng) -> None:
    """This week's exam (open, untaken by the demo officer) and ``weeks`` past ones with attempts."""
    from .exam_history import seed_exam_history

    seed_exam_history(session, now, officer_ids, weeks, rng)
