"""整改完成率 and overdue counts by unit (issue 17 point 3): the figures on the ledger page and on
the dashboard equal a recount from the ledger rows, for random ledgers (Hypothesis), on SQLite and
PostgreSQL, in a fixed number of queries."""
from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, event, select

from app.db import db
from app.ledger import queries
from app.models import LedgerItem, Unit
from app.timeutils import local_day

ROWS = st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["open", "submitted", "closed", "returned"]),
                          st.integers(-4, 4)), max_size=25)
CELL = re.compile(r'<td class="num">(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")


def recount(units: dict[int, Unit], rows: list[LedgerItem], today) -> dict[int, tuple]:
    """Per unit: (found, closed, submitted, overdue) over the unit and every unit below it, by
    walking each item's unit up the parent chain — independent of the code under test."""
    out = {uid: [0, 0, 0, 0] for uid in units}
    for item in rows:
        uid = item.unit_id
        while uid is not None:
            c = out[uid]
            c[0] += 1
            c[1] += item.status == "closed"
            c[2] += item.status == "submitted"
            c[3] += item.status != "closed" and item.deadline < today
            uid = units[uid].parent_id
    return {uid: tuple(c) for uid, c in out.items()}


def rate_text(found: int, closed: int) -> str:
    return "—" if not found else f"{closed / found * 100:.1f}%"


def table(html: str, anchor: str) -> dict[int, list[str]]:
    """``data-unit`` → the text of its numeric cells, in the table after ``anchor``."""
    part = html[html.index(anchor):]
    part = part[:part.index("</table>")]
    rows = re.findall(r'<tr data-unit="(\d+)">(.*?)</tr>', part, re.S)
    return {int(uid): [TAG.sub("", c).strip() for c in CELL.findall(body)] for uid, body in rows}


def fill(session, city, clock, spec) -> None:
    units = session.scalars(select(Unit).order_by(Unit.id)).all()
    someone = city.users["officer"]
    today = local_day(clock.now)
    session.execute(delete(LedgerItem))
    for n, (u, status, offset) in enumerate(spec):
        session.add(LedgerItem(unit_id=units[u].id, source="self", category="other", description=f"问题{n}",
                               measures="", responsible_id=someone, deadline=today + timedelta(days=offset),
                               status=status))
    session.commit()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=ROWS)
def test_figures_equal_a_recount_of_the_rows(app, city, clock, spec):
    """Every unit's found/closed/submitted/overdue (its subtree) and 整改完成率 equal a recount of
    the rows, for any ledger; two queries whatever the number of items."""
    with app.app_context():
        s = db.session
        fill(s, city, clock, spec)
        units = {u.id: u for u in s.scalars(select(Unit))}
        today = local_day(clock.now)
        expected = recount(units, s.scalars(select(LedgerItem)).all(), today)
        root = units[city.root]
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = queries.unit_figures(s, root, today)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 2
        assert {r.unit_id for r in rows} == set(units)
        for r in rows:
            assert (r.sums.found, r.sums.closed, r.sums.submitted, r.sums.overdue) == expected[r.unit_id]
            found, closed = expected[r.unit_id][:2]
            assert r.sums.completion_rate == (closed / found if found else None)


def test_dashboard_and_ledger_page_show_the_recount(app, city, clock, auth):
    """The dashboard's 整改台账 card (by sub-unit) and the ledger page's table show exactly the
    recount of the rows, for the supervisor's own subtree only."""
    spec = [(3, "closed", -2), (6, "open", -1), (6, "submitted", 2), (7, "closed", 1), (3, "open", 3),
            (4, "open", -3), (8, "returned", -1), (1, "closed", 0)]
    with app.app_context():
        s = db.session
        fill(s, city, clock, spec)
        units = {u.id: u for u in s.scalars(select(Unit))}
        expected = recount(units, s.scalars(select(LedgerItem)).all(), local_day(clock.now))
    client = app.test_client()
    auth.login(client, "supervisor")
    dash = client.get("/reports/").get_data(as_text=True)
    card = table(dash, 'id="dashboard-ledger"')
    children = {uid for uid, u in units.items() if u.parent_id == city.branch_a}
    assert set(card) == children
    for uid, cells in card.items():
        found, closed, _submitted, overdue = expected[uid]
        assert cells == [str(found), str(closed), rate_text(found, closed), str(overdue)]
    page = client.get("/ledger/").get_data(as_text=True)
    ledger = table(page, 'id="ledger-units"')
    assert set(ledger) == {city.branch_a} | children
    for uid, cells in ledger.items():
        found, closed, submitted, overdue = expected[uid]
        assert cells == [str(found), str(closed), rate_text(found, closed), str(submitted), str(overdue)]
    assert city.branch_b not in ledger and city.branch_b not in card


def test_an_inactive_unit_still_counts_for_the_units_above(app, city, clock):
    """A unit that was deactivated is not listed, but its items stay in its ancestors' figures."""
    with app.app_context():
        s = db.session
        units = s.scalars(select(Unit).order_by(Unit.id)).all()
        a2 = next(u for u in units if u.id == city.station_a2)
        fill(s, city, clock, [(units.index(a2), "closed", 0), (units.index(a2), "open", -1)])
        a2.is_active = False
        s.commit()
        rows = {r.unit_id: r for r in queries.unit_figures(s, s.get(Unit, city.branch_a), local_day(clock.now))}
        assert city.station_a2 not in rows
        assert (rows[city.branch_a].sums.found, rows[city.branch_a].sums.closed, rows[city.branch_a].sums.overdue) == (2, 1, 1)
