"""Malformed parameters never reach a 500 (QUALITY A36; ASVS V5).

Weeks, months and ids from the query string are parsed in one place each (``parse_week_arg``
and ``parse_month_arg`` in app/timeutils.py, ``parse_id_arg`` in app/web.py): ASCII digits,
matched whole, in range. JSON bodies are refused past MAX_JSON_DEPTH before the recursive
parser runs (app/web.py's JSON provider, which the express lane uses too). Pages answer 400 with
the Chinese error page, the API 400/404/422 with ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.web import MAX_JSON_DEPTH, check_json_depth
from tests.factories import make_weekly_exam
from tests.test_study_credit import make_item

WEEK = "2026-W11"  # the clock fixture's week
HUGE = "99999999999999999999"
#: Reproduced on main before the fix: a newline (500 in the export headers), full-width digits
#: (taken as week 49), far, zero and 53rd weeks of a 52-week year, signs and padding.
BAD_WEEKS = ["2026-W49\n", "2026-W4９", "２０２６-W11", "2026-W11 ", " 2026-W11", "+2026-W11", "2026-W00",
             "2025-W53", "2026-W54", "9999-W52", "0001-W01", "1999-W52", "2026-W011", "2026-w11", "2026-11"]
BAD_MONTHS = ["9999-12", "0001-01", "2026-13", "2026-00", "2026-1２", "2026-03\n", "2026-3", "+2026-03", "2100-01"]


def week_pages(city) -> list[str]:
    return ["/reports/", "/reports/units.csv", "/reports/units.xlsx", f"/reports/units/{city.branch_a}/officers.csv",
            f"/reports/units/{city.branch_a}/officers.xlsx", "/reports/print", "/reports/leaderboard"]


def week_api(city) -> list[str]:
    return ["/api/v1/reports/units", f"/api/v1/reports/units/{city.branch_a}/officers", "/api/v1/leaderboard"]


def valid_week(value: str) -> bool:
    """The rule, written out independently of the app: YYYY-Www in ASCII, a real ISO week of 2000–2099."""
    match = re.fullmatch(r"([0-9]{4})-W([0-9]{2})", value, flags=re.ASCII)
    if not match or not 2000 <= int(match.group(1)) <= 2099:
        return False
    try:
        date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return False
    return True


def valid_month(value: str) -> bool:
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value, flags=re.ASCII)
    return bool(match) and 2000 <= int(match.group(1)) <= 2099 and 1 <= int(match.group(2)) <= 12


def assert_page_error(resp, status: int = 400) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert "请求有误" in resp.get_data(as_text=True)


def assert_api_error(resp, status: int, code: str | None = None) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    error = resp.get_json()["error"]
    assert error["message"] and (code is None or error["code"] == code)


@pytest.fixture
def supervisor(app, city, auth):
    client = app.test_client()
    assert auth.login(client, "supervisor").status_code == 302
    return client


@pytest.fixture
def officer(app, city, auth):
    client = app.test_client()
    assert auth.login(client, "officer").status_code == 302
    return client


@pytest.fixture
def attempt(app, city, clock, officer):
    """An officer's attempt in progress at this week's exam: (attempt id, a question id)."""
    exam_id = make_weekly_exam(app, WEEK, clock.now)
    body = officer.post(f"/api/v1/exams/{exam_id}/attempts").get_json()["attempt"]
    return body["id"], body["questions"][0]["id"]


# --- weeks and months ----------------------------------------------------------------------

def test_a36_malformed_weeks_are_refused_on_pages_and_api(city, supervisor):
    """A36: a week with a newline, full-width digits, a sign, padding or out of range gets 400 (pages) or 422 (API)."""
    for week in BAD_WEEKS:
        for path in week_pages(city):
            assert_page_error(supervisor.get(path, query_string={"week": week}))
        for path in week_api(city):
            assert_api_error(supervisor.get(path, query_string={"week": week}), 422, "invalid_week")


def test_a36_weeks_at_the_edges_of_the_range_are_served(city, supervisor):
    """A36: 2000-W01 (whose trend reaches into 1999) and 2099-W52 are served on every page and endpoint."""
    for week in ("2000-W01", "2099-W52", "2026-W53"):
        for path in week_pages(city) + week_api(city):
            resp = supervisor.get(path, query_string={"week": week})
            assert resp.status_code == 200, (path, week, resp.get_data(as_text=True)[:300])


def test_a36_export_headers_are_built_from_the_parsed_week(city, supervisor):
    """A36: export file names hold the week as parsed and ids from the route; nothing else from the request."""
    expected = {"/reports/units.csv": f"units-{WEEK}.csv", "/reports/units.xlsx": f"units-{WEEK}.xlsx",
                f"/reports/units/{city.branch_a}/officers.csv": f"officers-{city.branch_a}-{WEEK}.csv",
                f"/reports/units/{city.branch_a}/officers.xlsx": f"officers-{city.branch_a}-{WEEK}.xlsx"}
    for path, name in expected.items():
        resp = supervisor.get(path, query_string={"week": WEEK})
        assert resp.status_code == 200
        disposition = resp.headers["Content-Disposition"]
        assert re.fullmatch(rf'attachment; filename="?{re.escape(name)}"?', disposition), disposition
        assert all(re.fullmatch(r"[\x20-\x7e]*", v) for v in resp.headers.values())


def test_a36_history_month_and_week_are_checked(officer):
    """A36: /study/history?month=9999-12 (an OverflowError) and other malformed months or weeks get the 400 page."""
    for month in BAD_MONTHS:
        assert_page_error(officer.get("/study/history", query_string={"month": month}))
    for week in BAD_WEEKS:
        assert_page_error(officer.get("/study/history", query_string={"week": week}))
    for month in ("2000-01", "2026-03", "2099-12"):
        assert officer.get("/study/history", query_string={"month": month}).status_code == 200
    assert officer.get("/study/history", query_string={"week": "2000-W01"}).status_code == 200


def test_a36_week_and_month_patterns_have_one_home():
    """A36: the YYYY-Www and YYYY-MM patterns are written in app/timeutils.py only (a second copy drifts)."""
    pattern = re.compile(r"""\{4\}\)?-W|\{4\}\)?-\(?(\\d|\[0-9\])\{2\}\)?\$?["']""")
    app_dir = Path(__file__).resolve().parent.parent / "app"
    copies = [f"{path.relative_to(app_dir)}:{n}" for path in sorted(app_dir.rglob("*.py"))
              for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if pattern.search(line) and path.name != "timeutils.py"]
    assert copies == []
    assert pattern.search(Path(app_dir / "timeutils.py").read_text(encoding="utf-8"))  # the check sees the original


# --- ids -----------------------------------------------------------------------------------

def test_a36_huge_ids_in_urls_are_404(city, officer, supervisor):
    """A36: an id past the INTEGER range in a path matches no route: 404 (JSON under /api/v1), never a 500."""
    assert_api_error(officer.get(f"/api/v1/attempts/{HUGE}"), 404)
    assert_api_error(officer.put(f"/api/v1/attempts/{HUGE}/answers/{HUGE}", json={"answer": ["A"]}), 404)
    assert_api_error(officer.post(f"/api/v1/attempts/{HUGE}/submit", json={}), 404)
    assert_api_error(officer.post(f"/api/v1/study/items/{HUGE}/heartbeat", json={}), 404)
    assert officer.get(f"/study/items/{HUGE}").status_code == 404
    assert supervisor.get(f"/reports/units/{HUGE}/officers.csv").status_code == 404


def test_a36_unit_ids_in_query_strings_are_ascii_and_in_range(city, supervisor):
    """A36: unit=² or a huge unit gets 400 on the pages and 422 on the API, not a 500."""
    for raw in ("²", "٣", HUGE, "2147483648", "-1", "1.0", f"{city.branch_a}\n"):
        for path in ("/reports/", "/reports/units.csv", "/reports/print"):
            assert_page_error(supervisor.get(path, query_string={"week": WEEK, "unit": raw}))
        assert_api_error(supervisor.get("/api/v1/reports/units", query_string={"unit": raw}), 422, "invalid_unit")
    assert supervisor.get("/reports/", query_string={"unit": str(city.station_a1)}).status_code == 200


# --- deeply nested JSON --------------------------------------------------------------------

def test_a36_deeply_nested_json_is_400(app, officer, attempt):
    """A36: 100,000 nested brackets on answer save, heartbeat and submit get 400 and change nothing."""
    attempt_id, qid = attempt
    item_id = make_item(app)
    for depth in (100_000, 5_000):  # past the express lane's body limit, and within it
        deep = "[" * depth + "]" * depth
        for method, path, body in (
                ("put", f"/api/v1/attempts/{attempt_id}/answers/{qid}", '{"answer": ' + deep + "}"),
                ("post", f"/api/v1/study/items/{item_id}/heartbeat", deep),
                ("post", f"/api/v1/attempts/{attempt_id}/submit", '{"answers": ' + deep + "}"),
                ("post", f"/api/v1/attempts/{attempt_id}/submit", "[" * depth)):
            assert_api_error(getattr(officer, method)(path, data=body, content_type="application/json"), 400)
    state = officer.get(f"/api/v1/attempts/{attempt_id}").get_json()["attempt"]
    assert state["status"] == "in_progress"
    assert officer.get("/api/v1/study/progress").get_json()["today_seconds"] == 0


def test_a36_express_lane_declines_too_deep_bodies(app, officer, attempt, caplog):
    """A36: the express lane refuses a too-deep body with the same depth check (no RecursionError) and hands it on."""
    lane = app.extensions["express_lane"]
    attempt_id, qid = attempt
    nested = "[" * 2_000 + '"A"' + "]" * 2_000
    before = (lane.served, lane.declined)
    with caplog.at_level(logging.DEBUG, logger=app.logger.name):
        resp = officer.put(f"/api/v1/attempts/{attempt_id}/answers/{qid}", data='{"answer": ' + nested + "}",
                           content_type="application/json")
    assert_api_error(resp, 400, "invalid_answer")
    assert (lane.served, lane.declined) == (before[0], before[1] + 1)
    assert "after an error" not in caplog.text  # declined by the check, not by meeting the recursion


def test_a36_json_depth_counts_brackets_outside_strings_only():
    """A36: depth MAX_JSON_DEPTH passes and one more fails; brackets and escaped quotes inside strings never count."""
    limit = MAX_JSON_DEPTH
    check_json_depth("[" * limit + "]" * limit)
    check_json_depth("[" * 10 + "{}" * 500 + "]" * 10)  # many brackets, little depth
    with pytest.raises(ValueError):
        check_json_depth("[" * (limit + 1) + "]" * (limit + 1))
    with pytest.raises(ValueError):
        check_json_depth('{"a":' * (limit + 1))
    text = json.dumps({"a": "[" * 1000, "b": "\\\"[{" * 100, "c": ["]" * 50, "{"]})
    check_json_depth(text)
    tricky = '["\\\\", ' + "[" * (limit + 1) + "]" * (limit + 1) + "]"  # an escaped backslash ends the string
    with pytest.raises(ValueError):
        check_json_depth(tricky)


def test_a36_json_provider_parses_as_before(app):
    """A36: the app's JSON provider reads what json.loads reads, and refuses deep bodies with ValueError."""
    value = {"answer": ["甲", "B"], "seq": 3}
    for raw in (json.dumps(value), json.dumps(value).encode("utf-8"), json.dumps(value).encode("utf-16")):
        assert app.json.loads(raw) == value
    with pytest.raises(ValueError):
        app.json.loads(b"[" * 100_000)


# --- properties ----------------------------------------------------------------------------

DIGITS = "0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩²³"
digits = st.text(alphabet=DIGITS, min_size=1, max_size=6)
noise = st.sampled_from(["", "", "\n", " ", "\r\n", "\x00", "+", "-", "\t"])
near_years = st.integers(1995, 2105)
far_years = st.integers(-10**30, 10**30)
weeks = st.one_of(
    st.text(max_size=14),
    st.builds("{}{}-{}{}{}".format, noise, digits, st.sampled_from(["W", "w", "", "W-"]), digits, noise),
    st.builds(lambda y, w: f"{y}-W{w:02d}", far_years, st.integers(-3, 60)),
    st.builds(lambda y, w, end: f"{y}-W{w:02d}{end}", near_years, st.integers(0, 54), noise),
    st.builds(lambda y, w: f"{y}-W{w:02d}", near_years, st.integers(1, 53)),
)
months = st.one_of(
    st.text(max_size=10),
    st.builds("{}{}-{}{}".format, noise, digits, digits, noise),
    st.builds(lambda y, m: f"{y}-{m:02d}", far_years, st.integers(-3, 15)),
    st.builds(lambda y, m, end: f"{y}-{m:02d}{end}", near_years, st.integers(0, 13), noise),
    st.builds(lambda y, m: f"{y}-{m:02d}", near_years, st.integers(1, 12)),
)
FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FAST
@given(week=weeks)
@example(week="2026-W49\n")
@example(week="2026-W4９")
@example(week="9999-W52")
def test_a36_week_parameter_property(city, supervisor, officer, week):
    """A36: any ``week`` is never a 500; it is served (and echoed) only as an ASCII week of 2000–2099."""
    ok = valid_week(week) or week == ""
    for path in ("/reports/", "/reports/units.csv", "/reports/leaderboard"):
        assert supervisor.get(path, query_string={"week": week}).status_code == (200 if ok else 400), (path, week)
    for path in ("/api/v1/reports/units", "/api/v1/leaderboard"):
        resp = supervisor.get(path, query_string={"week": week})
        assert resp.status_code == (200 if ok else 422), (path, week)
        if ok and week:
            assert resp.get_json()["week"] == week
    resp = officer.get("/study/history", query_string={"week": week})
    assert resp.status_code == (200 if ok else 400), week


@FAST
@given(month=months)
@example(month="9999-12")
@example(month="2026-1２")
@example(month="2026-03\n")
def test_a36_month_parameter_property(officer, month):
    """A36: any ``month`` on /study/history is never a 500; it is served only as an ASCII month of 2000–2099."""
    ok = valid_month(month) or month == ""
    assert officer.get("/study/history", query_string={"month": month}).status_code == (200 if ok else 400), month
