"""Unit scope lives in one module, app/auth/scope.py (ARCHITECTURE rules 8 and 13; QUALITY A16):
a check over app/ refuses a second copy, and the helpers themselves are tested on both databases,
including the one definition of "a study item visible to an officer"."""
from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Integer, String, bindparam, literal, select

from app.auth import scope
from app.db import db
from app.models import StudyItem, Task, Unit, User
from app.study import queries as study_queries

APP = Path(__file__).resolve().parents[1] / "app"
SCOPE_MODULE = APP / "auth" / "scope.py"
NOW = datetime(2026, 3, 13, 4, 0)

#: Methods and SQL functions that turn a materialised path into a subtree test.
PATH_METHODS = {"startswith", "endswith", "like", "ilike", "notlike", "notilike", "contains", "regexp_match", "split"}
PATH_FUNCTIONS = {"substr", "substring", "concat", "instr", "strpos", "position", "left"}
#: ``.path`` of these is not a unit path.
NOT_UNIT_PATHS = {"request", "os", "sys", "url", "parsed", "self"}

#: Unit-path code outside scope.py (file → occurrences): none left — ``move_unit`` uses
#: ``scope.path_within`` too. Never grow it.
KNOWN_ELSEWHERE: dict[str, int] = {}


#: Variables and bind parameters named like a unit path.
UNIT_PATH_NAME = re.compile(r"^(unit|root|target|parent|old|new|officer)_path$")


def _mentions_unit_path(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "path":
            owner = sub.value
            if not (isinstance(owner, ast.Name) and owner.id in NOT_UNIT_PATHS):
                return True
        if isinstance(sub, ast.Name) and UNIT_PATH_NAME.match(sub.id):
            return True
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and UNIT_PATH_NAME.match(sub.value):
            return True
    return False


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def path_filters(source: str) -> list[tuple[int, str]]:
    """(line, code) of every subtree or ancestor test built from a unit path: a prefix method
    (``startswith``, ``like``, …) or an SQL string function (``substr``, ``concat``, …) whose
    receiver or arguments hold a ``.path``, and a path split into ids."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        parts = list(node.args) + [k.value for k in node.keywords]
        if name in PATH_METHODS and isinstance(node.func, ast.Attribute):
            parts.append(node.func.value)
        elif name not in PATH_FUNCTIONS:
            continue
        if any(_mentions_unit_path(part) for part in parts):
            found.append((node.lineno, ast.unparse(node)[:100]))
    return found


def scope_copies(source: str) -> list[tuple[int, str]]:
    """(line, name) of every function defined with the name of one of scope.py's helpers."""
    helpers = {name for name, value in vars(scope).items()
               if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == scope.__name__}
    return [(node.lineno, node.name) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in helpers]


def _app_modules():
    for path in sorted(APP.rglob("*.py")):
        if path != SCOPE_MODULE:
            yield path.relative_to(APP.parent).as_posix(), path.read_text(encoding="utf-8")


def test_rule13_no_unit_path_filter_outside_the_scope_module():
    """Rule 13: only app/auth/scope.py turns Unit.path into a subtree or ancestor test (use path_within, aimed_at, …)."""
    found = {name: hits for name, source in _app_modules() if (hits := path_filters(source))}
    known = {name: len(hits) for name, hits in found.items() if name in KNOWN_ELSEWHERE}
    new = {name: hits for name, hits in found.items() if name not in KNOWN_ELSEWHERE}
    assert not new, ("unit-path filter outside app/auth/scope.py — use scope.path_within / subtree_unit_ids / "
                     f"aimed_at / overlaps_scope / ancestor_ids instead: {new}")
    assert known == KNOWN_ELSEWHERE, (f"the known unit-path code changed: {known} != {KNOWN_ELSEWHERE}; "
                                      "if it moved to scope.py, shrink KNOWN_ELSEWHERE")


def test_rule13_no_second_copy_of_a_scope_helper():
    """Rule 13: no module outside app/auth/scope.py defines its own unit_in_scope, scope_root, requested_unit, …"""
    copies = {name: hits for name, source in _app_modules() if (hits := scope_copies(source))}
    assert not copies, f"a second copy of a scope helper (call app.auth.scope instead): {copies}"


def test_rule13_the_check_sees_the_usual_shapes():
    """The check above catches the shapes a copy takes: LIKE on a column or a bound path, substr, and a split path."""
    samples = ['Unit.path.startswith(root.path, autoescape=True)', 'literal(root.path).startswith(target.path)',
               'bindparam("unit_path", type_=String).startswith(target.path)', 'unit.path.like(f"{p}%")',
               'func.substr(bindparam("unit_path"), 1, func.length(t.path)) == t.path',
               '[int(p) for p in unit.path.strip("/").split("/")]', 'row.path.startswith(root.path)',
               'unit_path.startswith(other)', 'func.concat(target_path, "%")']
    for code in samples:
        assert path_filters(code), code
    assert not path_filters('request.path.startswith("/api/")\nos.path.join(a, b)\nselect(Unit).order_by(Unit.path)')
    assert scope_copies("def unit_in_scope(session, user, unit_id):\n    return True\n")


# --- the helpers --------------------------------------------------------------------------------

def test_path_within_agrees_in_python_and_sql(app, city):
    """path_within: a unit is within itself and its ancestors, never a sibling or a prefix-lookalike; SQL agrees."""
    with app.app_context():
        s = db.session
        units = {u.id: u for u in s.scalars(select(Unit))}
        for a in units.values():
            for b in units.values():
                expected = b.id in scope.ancestor_ids(a.path)
                assert scope.path_within(a.path, b.path) is expected
                assert s.scalar(select(scope.path_within(literal(a.path, String), b.path))) == expected
                assert s.scalar(select(scope.path_within(a.path, literal(b.path, String)))) == expected
    assert not scope.path_within("/1/12/", "/1/1/") and scope.ancestor_ids("/1/4/17/") == [1, 4, 17]


def test_a16_people_in_scope(app, city):
    """A16: people_in_scope holds the people of the supervisor's subtree, the whole city for a leader, nobody for an officer."""
    with app.app_context():
        s = db.session
        people = {name: s.get(User, uid) for name, uid in city.users.items()}
        seen = {name: set(s.scalars(select(User.username).where(scope.people_in_scope(s, viewer))))
                for name, viewer in people.items() if name in ("supervisor", "leader", "officer")}
    assert seen["supervisor"] == {"supervisor", "officer", "officer2", "officer_a2"}
    assert seen["leader"] == set(city.users) and seen["officer"] == set()


def test_a16_requested_unit_parses_and_checks_scope(app, city):
    """A16: the unit asked for — empty is the scope root; malformed is refused as such; unknown, sibling or parent get 403."""
    with app.app_context():
        s = db.session
        sup = s.get(User, city.users["supervisor"])
        assert scope.requested_unit(s, sup, None).id == city.branch_a
        assert scope.requested_unit(s, sup, "").id == city.branch_a
        assert scope.requested_unit(s, sup, str(city.station_a2)).id == city.station_a2
        for raw in ("²", "-1", "1.0", "99999999999", "abc"):
            with pytest.raises(scope.UnitRefused) as refused:
                scope.requested_unit(s, sup, raw)
            assert refused.value.malformed and refused.value.status == 400
        for raw in (str(city.branch_b), str(city.root), "2147483647"):
            with pytest.raises(scope.UnitRefused) as refused:
                scope.requested_unit(s, sup, raw)
            assert not refused.value.malformed and refused.value.status == 403
        with pytest.raises(scope.UnitRefused):
            scope.requested_unit(s, s.get(User, city.users["officer"]), "")
        with pytest.raises(scope.UnitRefused):
            scope.unit_for(s, sup, city.station_b1)
        assert scope.unit_for(s, s.get(User, city.users["leader"]), city.station_b1).id == city.station_b1


def test_a16_overlaps_scope_agrees_in_python_and_sql(app, city):
    """A16: a target reaches a supervisor's scope when inside it or above it — never a sibling — in Python and in SQL alike."""
    with app.app_context():
        s = db.session
        sup = s.get(User, city.users["supervisor"])
        units = list(s.scalars(select(Unit)))
        py = {u.id for u in units if scope.overlaps_scope(s, sup, u.path)}
        sql = set(s.scalars(select(Unit.id).where(scope.overlaps_scope(s, sup, Unit.path))))
        officer = s.get(User, city.users["officer"])
        assert not scope.overlaps_scope(s, officer, units[0].path)
    police = next(u.parent_id for u in units if u.id == city.branch_a)
    assert py == sql == {city.root, police, city.branch_a, city.station_a1, city.station_a2}


@pytest.fixture
def aimed_items(app, city):
    """One published item aimed at the city (NULL) and one at each unit."""
    with app.app_context():
        s = db.session
        ids = {}
        for unit in [None, *s.scalars(select(Unit))]:
            item = StudyItem(slug=f"aimed-{unit.id if unit else 'city'}", module="theory", kind="article", title="目标",
                             credited_minutes=1, is_published=True, target_unit_id=unit.id if unit else None)
            s.add(item)
            s.flush()
            ids[item.id] = unit.path if unit else None
        s.commit()
    return ids


def test_s8_one_definition_of_an_item_visible_to_an_officer(app, city, aimed_items):
    """S8: the list, one item, the heartbeat's check and visible_clause agree: items aimed at the city, the officer's unit or above."""
    with app.app_context():
        s = db.session
        for name in ("officer", "officer_b", "leader"):
            user = s.get(User, city.users[name])
            expected = {i for i, path in aimed_items.items() if path is None or scope.path_within(user.unit.path, path)}
            listed = {r.item.id for r in study_queries.item_rows(s, user, NOW)} & set(aimed_items)
            one = {i for i in aimed_items if study_queries.visible_item(s, user, i, NOW) is not None}
            beat = {i for i in aimed_items if study_queries.beat_target(s.connection(), user.unit.path, i, NOW)}
            clause = set(s.scalars(select(StudyItem.id).where(study_queries.visible_clause(user, NOW))))
            clause &= set(aimed_items)
            assert listed == one == beat == clause == expected, name
            assert len(expected) == len(scope.ancestor_ids(user.unit.path)) + 1


def test_aimed_at_reaches_the_target_and_below_without_a_join(app, city):
    """aimed_at: something aimed at a unit reaches that unit and those below it, never a sibling or a parent; NULL reaches all."""
    stmt = select(Task.id).where(scope.aimed_at(Task.target_unit_id, bindparam("unit_path", type_=String)))
    assert "JOIN" not in str(stmt)  # join-free: fits any statement built once with bind parameters
    with app.app_context():
        s = db.session
        reached = set(s.scalars(select(Unit.id).where(scope.aimed_at(literal(city.branch_a), Unit.path))))
        everyone = set(s.scalars(select(Unit.id).where(scope.aimed_at(literal(None, Integer), Unit.path))))
        all_units = set(s.scalars(select(Unit.id)))
    assert reached == {city.branch_a, city.station_a1, city.station_a2} and everyone == all_units


def test_a16_moving_a_unit_carries_its_subtree_and_never_under_itself(app, city):
    """A16: a station moved to another branch takes its path (and so its scope) along; a unit is never moved under its own subtree."""
    from app.admin.services import AdminError, move_unit

    with app.app_context():
        s = db.session
        station, branch_b, branch_a = s.get(Unit, city.station_a1), s.get(Unit, city.branch_b), s.get(Unit, city.branch_a)
        move_unit(s, station, branch_b)
        s.commit()
        station = s.get(Unit, city.station_a1)
        assert scope.path_within(station.path, s.get(Unit, city.branch_b).path)
        assert not scope.path_within(station.path, s.get(Unit, city.branch_a).path)
        supervisor_b = s.get(User, city.users["supervisor_b"])
        assert scope.unit_in_scope(s, supervisor_b, city.station_a1)
        with pytest.raises(AdminError, match="自己的下级"):
            move_unit(s, s.get(Unit, city.branch_b), s.get(Unit, city.station_b1))
