"""The rules behind the unit figures (app/reports/figures.py): named sums, rates, the composite,
ranks and the leaderboard's lists — one test per documented rule — and stored weights that
predate a weight (issue 15 part 6)."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from app.db import db
from app.models import AppSetting, Attempt, ReportSnapshotUnit, StudyDay
from app.reports import figures, queries
from app.reports.figures import (DEFAULT_WEIGHTS, WEIGHTS, UnitRow, WeeklySums, apply_sums, composite_score,
                                 leaderboard_levels, merge_weights, rank_rows)
from tests.test_reports import MONDAY, NOW, make_exam

_ids = iter(range(1, 10_000))


def unit(code: str = "U", level: str = "station", parent_id: int | None = 1, **figures_) -> UnitRow:
    """A row with the given figures (officers default to 10 so it is ranked and scored)."""
    uid = next(_ids)
    row = UnitRow(uid, code, code, parent_id, 3, level, f"/1/{uid}/")
    row.officers = 10
    for name, value in figures_.items():
        setattr(row, name, value)
    return row


def filled(**sums) -> UnitRow:
    row = UnitRow(1, "单位", "U", None, 0, "city", "/1/")
    apply_sums(row, WeeklySums(**sums))
    return row


# --- sums -------------------------------------------------------------------------------------

def test_sums_add_by_name_and_read_null_as_zero():
    """Sums are named and additive: adding two units adds each field; a NULL sum reads as 0."""
    a = WeeklySums.of({name: None for name in WeeklySums.names()} | {"officers": 3, "score_sum": 171.5})
    b = WeeklySums(officers=2, target_met=1, study_seconds=7200, participants=2, score_sum=160.0, passed=1)
    a.add(b)
    assert a == WeeklySums(officers=5, target_met=1, study_seconds=7200, participants=2, score_sum=331.5, passed=1)
    assert isinstance(a.officers, int) and isinstance(a.score_sum, float)


def test_sums_are_the_snapshot_columns():
    """Every named sum is a column of the weekly snapshot, so a snapshot stores and reads them by name."""
    columns = {c.key for c in inspect(ReportSnapshotUnit).columns} - {"week", "unit_id"}
    assert set(WeeklySums.names()) == columns


# --- rates (apply_sums) -----------------------------------------------------------------------

def test_unit_without_officers_has_no_rates_and_no_composite():
    """Empty unit: every rate, average and the composite are null, never 0."""
    row = filled()
    assert (row.study_completion_rate, row.avg_study_hours, row.exam_participation_rate, row.avg_score,
            row.pass_rate, row.task_completion_rate) == (None,) * 6
    assert composite_score(row, DEFAULT_WEIGHTS) is None


def test_rates_are_over_officers_and_over_participants():
    """Study and participation rates are over officers; average score and pass rate over participants."""
    row = filled(officers=4, target_met=1, study_seconds=4 * 3600, participants=2, score_sum=150.0, passed=1)
    assert (row.study_completion_rate, row.exam_participation_rate, row.avg_study_hours) == (0.25, 0.5, 1.0)
    assert (row.avg_score, row.pass_rate) == (75.0, 0.5)


def test_no_participant_means_null_average_and_zero_pass_rate():
    """Officers but no finished exam: average score null, pass rate 0 (null only without officers)."""
    row = filled(officers=3, pending=2)
    assert row.avg_score is None and row.pass_rate == 0.0 and row.exam_pending == 2


def test_averages_are_rounded_to_two_decimals():
    """Average study hours and average score are rounded to 2 decimals."""
    row = filled(officers=3, study_seconds=10_000, participants=3, score_sum=250.0)
    assert (row.avg_study_hours, row.avg_score) == (0.93, 83.33)


def test_task_rate_is_null_until_a_task_is_due_and_capped_at_one():
    """Task completion is null while no task was due, and never above 1."""
    assert filled(officers=2).task_completion_rate is None
    assert filled(officers=2, tasks_due=4, tasks_done=1).task_completion_rate == 0.25
    assert filled(officers=2, tasks_due=2, tasks_done=3).task_completion_rate == 1.0


# --- weights and the composite ----------------------------------------------------------------

def test_weight_list_is_the_one_source_of_keys_and_defaults():
    """The default weights are 40/20/30/10 and come from the one list the weights page also uses."""
    assert DEFAULT_WEIGHTS == {"study": 40, "participation": 20, "score": 30, "tasks": 10}
    assert tuple(DEFAULT_WEIGHTS) == figures.WEIGHT_KEYS == tuple(w.key for w in WEIGHTS)


def test_stored_weights_are_merged_over_the_defaults():
    """A stored row missing a weight takes its default; unknown keys and non-integers are ignored."""
    assert merge_weights({"study": 50, "participation": 20, "score": 30}) == {
        "study": 50, "participation": 20, "score": 30, "tasks": 10}
    assert merge_weights({"study": 60, "retired": 5, "score": "30", "tasks": True}) == {
        "study": 60, "participation": 20, "score": 30, "tasks": 10}
    assert merge_weights(None) == DEFAULT_WEIGHTS


def test_composite_is_the_weighted_mean_of_the_parts():
    """Composite = weighted mean of study rate, participation rate, average score / 100 and task rate, × 100."""
    row = unit(study_completion_rate=0.5, exam_participation_rate=1.0, avg_score=80.0, task_completion_rate=0.0)
    assert composite_score(row, DEFAULT_WEIGHTS) == pytest.approx((40 * 0.5 + 20 * 1.0 + 30 * 0.8 + 10 * 0) / 100 * 100)


def test_composite_leaves_out_a_part_that_does_not_exist_yet():
    """No task due yet: the task part is left out and the other weights rescaled (still 0..100)."""
    row = unit(study_completion_rate=1.0, exam_participation_rate=1.0, avg_score=100.0, task_completion_rate=None)
    assert composite_score(row, DEFAULT_WEIGHTS) == 100.0
    half = unit(study_completion_rate=0.5, exam_participation_rate=0.5, avg_score=50.0)
    assert composite_score(half, DEFAULT_WEIGHTS) == 50.0


def test_composite_counts_a_missing_average_score_as_zero():
    """Officers who took no exam score 0 on the score part (only the task part is ever left out)."""
    row = unit(study_completion_rate=1.0, exam_participation_rate=0.0, avg_score=None)
    assert composite_score(row, DEFAULT_WEIGHTS) == pytest.approx(100 * 40 / 90, abs=0.005)


def test_composite_is_rounded_to_two_decimals():
    """The composite is rounded to 2 decimals."""
    row = unit(study_completion_rate=1 / 3, exam_participation_rate=1 / 3, avg_score=100 / 3)
    assert composite_score(row, DEFAULT_WEIGHTS) == 33.33


def test_composite_is_zero_when_the_available_parts_weigh_nothing():
    """All the weight on a part that does not exist yet: the composite is 0, not a division by zero."""
    row = unit(study_completion_rate=1.0, exam_participation_rate=1.0, avg_score=90.0)
    assert composite_score(row, {"study": 0, "participation": 0, "score": 0, "tasks": 100}) == 0.0


def test_composite_takes_the_default_of_a_weight_it_is_not_given():
    """Weights saved before a part existed score it with that part's default weight."""
    row = unit(study_completion_rate=1.0, exam_participation_rate=0.0, avg_score=0.0, task_completion_rate=1.0)
    old_row = {"study": 40, "participation": 20, "score": 30}
    assert composite_score(row, old_row) == composite_score(row, DEFAULT_WEIGHTS) == 50.0


# --- ranks ------------------------------------------------------------------------------------

def test_rank_higher_composite_first():
    """A higher composite ranks first, whatever the other figures."""
    low = unit("A", composite_score=60.0, study_completion_rate=1.0, avg_score=100.0)
    high = unit("B", composite_score=61.0, study_completion_rate=0.0, avg_score=0.0)
    rank_rows([low, high])
    assert (high.rank, low.rank) == (1, 2)


def test_rank_tie_on_composite_goes_to_study_completion():
    """Equal composites: the higher study completion rate ranks first."""
    a = unit("A", composite_score=60.0, study_completion_rate=0.5, avg_score=90.0)
    b = unit("B", composite_score=60.0, study_completion_rate=0.6, avg_score=10.0)
    rank_rows([a, b])
    assert (b.rank, a.rank) == (1, 2)


def test_rank_tie_on_study_completion_goes_to_average_score():
    """Equal composites and study rates: the higher average score ranks first."""
    a = unit("A", composite_score=60.0, study_completion_rate=0.5, avg_score=70.0)
    b = unit("B", composite_score=60.0, study_completion_rate=0.5, avg_score=71.0)
    rank_rows([a, b])
    assert (b.rank, a.rank) == (1, 2)


def test_rank_last_tie_goes_to_unit_code():
    """Equal on every figure: the unit code in alphabetical order decides, so ranks are distinct."""
    b = unit("B", composite_score=60.0, study_completion_rate=0.5, avg_score=70.0)
    a = unit("A", composite_score=60.0, study_completion_rate=0.5, avg_score=70.0)
    rank_rows([b, a])
    assert (a.rank, b.rank) == (1, 2)


def test_units_without_officers_rank_last():
    """A unit without officers (no composite) ranks after a unit scoring 0."""
    empty = unit("A", officers=0, composite_score=None)
    zero = unit("Z", composite_score=0.0)
    rank_rows([empty, zero])
    assert (zero.rank, empty.rank) == (1, 2)


def test_rank_among_siblings_and_city_rank_among_the_level():
    """``rank`` is among units with the same parent; ``city_rank`` among all units of that level."""
    a1, a2 = unit("A1", parent_id=10, composite_score=50.0), unit("A2", parent_id=10, composite_score=90.0)
    b1 = unit("B1", parent_id=20, composite_score=70.0)
    rank_rows([a1, a2, b1])
    assert [(r.rank, r.city_rank) for r in (a1, a2, b1)] == [(2, 3), (1, 1), (1, 2)]


# --- leaderboard ------------------------------------------------------------------------------

def _ranked(n: int, level: str = "station") -> list[UnitRow]:
    rows = [unit(f"S{i:02d}", level, composite_score=float(100 - i)) for i in range(n)]
    rank_rows(rows)
    return rows


def test_leaderboard_lists_take_half_up_to_five_worst_first():
    """Four or more units: 红榜 the best min(5, n // 2), 黑榜 as many of the worst, worst first."""
    for n, size in ((4, 2), (7, 3), (10, 5), (30, 5)):
        rows = _ranked(n)
        station = next(lv for lv in leaderboard_levels(rows) if lv["level"] == "station")
        assert [r.city_rank for r in station["red"]] == list(range(1, size + 1))
        assert [r.city_rank for r in station["black"]] == list(range(n, n - size, -1))


def test_leaderboard_with_fewer_than_four_units_has_no_black_list():
    """Fewer than four units of a level: all on 红榜, 黑榜 empty."""
    rows = _ranked(3, "branch")
    branch = next(lv for lv in leaderboard_levels(rows) if lv["level"] == "branch")
    assert [r.city_rank for r in branch["red"]] == [1, 2, 3] and branch["black"] == []


def test_leaderboard_leaves_out_the_city_and_units_without_officers():
    """Only systems, branches and stations with officers are listed."""
    rows = _ranked(5) + [unit("X", officers=0), unit("C", "city", None, composite_score=99.0)]
    rank_rows(rows)
    levels = leaderboard_levels(rows)
    assert [lv["level"] for lv in levels] == ["system", "branch", "station"]
    assert all(r.officers for lv in levels for r in lv["all"]) and len(levels[2]["all"]) == 5


# --- stored weights on a real database --------------------------------------------------------

def test_stored_weights_missing_a_key_keep_working(app, scored_city_weights, auth):
    """A weights row saved before the task weight existed: figures, the API and the weights page still work."""
    with app.app_context():
        assert queries.get_weights(db.session) == {"study": 70, "participation": 0, "score": 30, "tasks": 10}
    c = app.test_client()
    auth.login(c, "admin")
    rows = c.get("/api/v1/reports/units?week=2026-W11").get_json()["rows"]
    top = rows[0]
    expected = (70 * top["study_completion_rate"] + 30 * (top["avg_score"] or 0) / 100) / 100 * 100
    assert top["composite_score"] == pytest.approx(expected, abs=0.01)
    page = c.get("/reports/weights").get_data(as_text=True)
    assert 'name="tasks" value="10"' in page and 'name="study" value="70"' in page


def test_weights_page_fields_come_from_the_weight_list(app, city, auth):
    """The weights page shows one field per weight of ``figures.WEIGHTS``, with its label."""
    c = app.test_client()
    auth.login(c, "admin")
    page = c.get("/reports/weights").get_data(as_text=True)
    for weight in WEIGHTS:
        assert f'name="{weight.key}"' in page and str(weight.label) in page


@pytest.fixture
def scored_city_weights(app, city, clock):
    """The small city with one week of figures and a weights row lacking ``tasks`` (as saved before it existed)."""
    clock.now = NOW
    with app.app_context():
        s = db.session
        exam = make_exam(s)
        for name, secs, score in (("officer", 11 * 3600, 90.0), ("officer_b", 2 * 3600, 70.0)):
            uid = city.users[name]
            s.add(StudyDay(user_id=uid, day=MONDAY, seconds=secs))
            s.add(Attempt(exam_id=exam.id, user_id=uid, attempt_no=1, seed=1, status="finished", started_at=NOW,
                          deadline=NOW, finished_at=NOW, score=score, passed=score >= 80))
        s.add(AppSetting(key=queries.WEIGHTS_KEY, value={"study": 70, "participation": 0, "score": 30}))
        s.commit()
    return city
