"""Demo and synthetic data. Functions flush; the CLI commits.

Every capability adds its content and activity to both data sets through its ``demo`` module
(see ``_features``), so ``seed demo`` and ``seed city`` stay one command each.
"""
from __future__ import annotations

import random
from datetime import datetime
from typing import Callable

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ..auth.passwords import hash_password
from ..models import UNIT_LEVELS, Unit, User
from .names import name_generator
from .units import OFFICER_STATION, SUPERVISOR_BRANCH, TAIYUAN

ActivitySeeder = Callable[[Session, datetime, list[int], int, random.Random], None]


def _features():
    """Each feature's demo module: ``load_content(session, now)`` (study items, the question
    bank, the campaign) and ``seed_activity(session, now, officer_ids, weeks, rng)`` (history)."""
    from . import exams_demo, forms_demo, ledger_demo, notices_demo, study_demo, talks_demo, tasks_demo

    return (study_demo, exams_demo, tasks_demo, notices_demo, forms_demo, ledger_demo, talks_demo)

DEMO_ACCOUNTS = (
    # username, name, role, unit code (None = city root)
    ("admin", "教育整顿办管理员", "admin", None),
    ("leader", "市委政法委领导", "leader", None),
    ("supervisor", "小店分局管理员", "supervisor", SUPERVISOR_BRANCH),
    ("officer", "李晓东", "officer", OFFICER_STATION),
    # 纪检督察 of the supervisor's branch: reads that subtree's confidential 查纠整改 forms (issue 17).
    ("inspector", "小店分局纪检督察", "inspector", SUPERVISOR_BRANCH),
    # Beside the contract's four: the station's own supervisor, who asks the branch for 销号.
    ("wucheng", "坞城派出所管理员", "supervisor", OFFICER_STATION),
)


class SeedError(RuntimeError):
    pass


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count(Unit.id)))


def _add_unit(session: Session, code: str, name: str, parent: Unit | None, order: int) -> Unit:
    depth = parent.depth + 1 if parent else 0
    unit = Unit(code=code, name=name, parent_id=parent.id if parent else None, level=UNIT_LEVELS[depth],
                depth=depth, sort_order=order, path="")
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def _build_tree(session: Session, tree) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    code, name, systems = tree
    root = units[code] = _add_unit(session, code, name, None, 0)
    for si, (scode, sname, branches) in enumerate(systems):
        system = units[scode] = _add_unit(session, scode, sname, root, si)
        for bi, (bcode, bname, stations) in enumerate(branches):
            branch = units[bcode] = _add_unit(session, bcode, bname, system, bi)
            for ti, (tcode, tname) in enumerate(stations):
                units[tcode] = _add_unit(session, tcode, tname, branch, ti)
    session.flush()
    return units


def _demo_accounts(session: Session, units: dict[str, Unit], root: Unit, password_hash: str) -> None:
    for username, name, role, code in DEMO_ACCOUNTS:
        unit = units[code] if code else root
        session.add(User(username=username, name=name, role=role, unit_id=unit.id, password_hash=password_hash,
                         is_demo=True, badge_no=None))
    session.flush()


def _bulk_officers(session: Session, rows: list[dict]) -> list[int]:
    if rows:
        session.execute(insert(User), rows)
    return list(session.scalars(select(User.id).where(User.role == "officer").order_by(User.id)))


def _run_features(session: Session, now: datetime, officer_ids: list[int], weeks: int, seed: int) -> None:
    for feature in _features():
        feature.load_content(session, now)
        session.flush()
    for feature in _features():
        feature.seed_activity(session, now, officer_ids, weeks, random.Random(seed))
        session.flush()
    # The history's closed weeks get their snapshots, as the Monday job would have taken them.
    from ..reports.snapshots import take_missing

    take_missing(session, now)
    session.flush()


def seed_demo(session: Session, now: datetime, *, demo_password: str, hash_method: str, weeks: int = 4) -> dict:
    """Taiyuan's units, named officers, the four demo accounts and their history."""
    if not database_is_empty(session):
        raise SeedError("数据库中已有单位数据；seed demo 只能用于新数据库。")
    units = _build_tree(session, TAIYUAN)
    root = units[TAIYUAN[0]]
    pw_hash = hash_password(demo_password, hash_method)
    _demo_accounts(session, units, root, pw_hash)

    rng = random.Random(2021)
    make_name = name_generator(2021)
    rows, badge = [], 140100000
    for unit in units.values():
        if unit.level != "station":
            continue
        for _ in range(rng.randint(8, 16)):
            badge += 1
            rows.append(dict(username=str(badge), badge_no=str(badge), name=make_name(), unit_id=unit.id,
                             role="officer", password_hash=pw_hash, is_demo=True, is_active=True))
        # Every branch also has a named unit supervisor (besides the demo account).
    for unit in units.values():
        if unit.level == "branch" and unit.code != SUPERVISOR_BRANCH:
            badge += 1
            rows.append(dict(username=str(badge), badge_no=str(badge), name=make_name(), unit_id=unit.id,
                             role="supervisor", password_hash=pw_hash, is_demo=True, is_active=True))
    officer_ids = _bulk_officers(session, rows)
    _run_features(session, now, officer_ids, weeks, 2021)
    session.flush()
    return {"units": len(units), "officers": len(officer_ids)}


def _city_tree(officers: int) -> tuple:
    """A synthetic city with about officers/33 units: 4 systems, branches of ~8 stations."""
    target_units = max(6, round(officers / 33))
    # 1 city + 4 systems + B branches + B*S stations ≈ target; at full scale S=8, B≈33.
    stations_per_branch = min(8, max(1, (target_units - 5) // 4 - 1))
    branches = max(4, round((target_units - 5) / (stations_per_branch + 1)))
    systems = []
    names = ("公安局", "中级人民法院", "人民检察院", "司法局")
    for s in range(4):
        systems.append((f"C-{s + 1}", f"合成市{names[s]}", []))
    for b in range(branches):
        # Public security holds most people, as in a real city.
        s = 0 if b < branches * 0.7 else 1 + b % 3
        code = f"C-{s + 1}-{b + 1:03d}"
        stations = [(f"{code}-{t + 1:02d}", f"第{b + 1}分局第{t + 1}所") for t in range(stations_per_branch)]
        systems[s][2].append((code, f"第{b + 1}分局", stations))
    return ("C", "合成市政法系统", systems)


def seed_city(session: Session, now: datetime, *, officers: int, weeks: int, demo_password: str,
              hash_method: str) -> dict:
    """Synthetic full-scale data: officers ``officer00001``… spread over about officers/33 units.

    Bulk inserts with one shared password hash (computing 10,028 slow hashes would take
    minutes; the accounts are synthetic and all share the demo password anyway).
    """
    if not database_is_empty(session):
        raise SeedError("数据库中已有单位数据；seed city 只能用于新数据库。")
    if officers < 1:
        raise SeedError("--officers 至少为 1。")
    units = _build_tree(session, _city_tree(officers))
    root = next(u for u in units.values() if u.parent_id is None)
    stations = [u for u in units.values() if u.level == "station"]
    branches = [u for u in units.values() if u.level == "branch"]
    pw_hash = hash_password(demo_password, hash_method)
    demo_units = {None: root, SUPERVISOR_BRANCH: branches[0], OFFICER_STATION: stations[0]}
    for username, name, role, code in DEMO_ACCOUNTS:
        session.add(User(username=username, name=name, role=role, unit_id=demo_units[code].id,
                         password_hash=pw_hash, is_demo=True))
    session.flush()
    make_name = name_generator(7)
    rows = [dict(username=f"officer{i:05d}", badge_no=f"9{i:07d}", name=make_name(),
                 unit_id=stations[(i - 1) % len(stations)].id, role="officer", password_hash=pw_hash,
                 is_demo=True, is_active=True) for i in range(1, officers + 1)]
    rows += [dict(username=f"supervisor{j + 1:04d}", badge_no=f"8{j + 1:07d}", name=make_name(), unit_id=b.id,
                  role="supervisor", password_hash=pw_hash, is_demo=True, is_active=True)
             for j, b in enumerate(branches)]
    officer_ids = _bulk_officers(session, rows)
    _run_features(session, now, officer_ids, weeks, 7)
    session.flush()
    return {"units": len(units), "officers": len(officer_ids)}


def deactivate_demo_accounts(session: Session) -> int:
    """For a city moving from trial to production: every demo account is disabled."""
    result = session.execute(update(User).where(User.is_demo.is_(True), User.is_active.is_(True)).values(is_active=False))
    return result.rowcount or 0
