"""Writes behind the admin pages and the CLI: accounts and the unit tree. Flush, never commit."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..auth.services import issue_initial_password, revoke_all_sessions
from ..notices.services import notify_password_reset
from ..auth.scope import path_within
from ..models import UNIT_LEVELS, Unit, User
from .imports import ImportPlan

#: password_hash of an account that has no password yet: no hash matches it, so nobody can sign
#: in until an initial password is issued (create_user at once; an import's new accounts when
#: the admin downloads their passwords, issue_pending_passwords).
NO_PASSWORD = "!"


class AdminError(ValueError):
    """A refused change, with a message for the admin."""


def initial_password_for(session: Session, now: datetime):
    cfg = current_app.config

    def issue(user: User) -> str:
        return issue_initial_password(session, user, now, cfg["PASSWORD_HASH_METHOD"], cfg["INITIAL_PASSWORD_DAYS"])

    return issue


def snapshot(user: User) -> dict:
    return {"name": user.name, "unit_id": user.unit_id, "role": user.role, "is_active": user.is_active,
            "phone": user.phone, "badge_no": user.badge_no}


def create_user(session: Session, now: datetime, *, badge_no: str, name: str, unit_id: int, role: str,
                phone: str | None) -> tuple[User, str]:
    if session.scalar(select(User.id).where((User.badge_no == badge_no) | (User.username == badge_no))):
        raise AdminError("警号已存在。")
    if session.get(Unit, unit_id) is None:
        raise AdminError("单位不存在。")
    user = User(username=badge_no, badge_no=badge_no, name=name, unit_id=unit_id, role=role, phone=phone or None,
                password_hash=NO_PASSWORD)
    session.add(user)
    session.flush()
    password = initial_password_for(session, now)(user)
    audit.record(session, "user.create", target=user, after=snapshot(user))
    return user, password


def update_user(session: Session, now: datetime, user: User, *, name: str, unit_id: int, role: str,
                is_active: bool, phone: str | None, actor_name: str | None = None) -> None:
    before = snapshot(user)
    if session.get(Unit, unit_id) is None:
        raise AdminError("单位不存在。")
    user.name, user.unit_id, user.role, user.is_active, user.phone = name, unit_id, role, is_active, phone or None
    if before["is_active"] and not is_active:
        revoke_all_sessions(session, user.id, now)
    if before["role"] != role or before["unit_id"] != unit_id:
        # A new role or unit must not ride on sessions granted under the old one.
        revoke_all_sessions(session, user.id, now)
    session.flush()
    audit.record(session, "user.update", actor_name=actor_name, target=user, before=before, after=snapshot(user))


@dataclass
class ImportOutcome:
    created: list[User] = field(default_factory=list)
    updated: list[User] = field(default_factory=list)
    #: existing accounts the file would change, left as they were (no update_existing)
    not_updated: int = 0
    #: (user, initial password) when the caller asked for passwords at once (the CLI)
    credentials: list[tuple[User, str]] = field(default_factory=list)


def import_accounts(session: Session, now: datetime, plan: ImportPlan, *, update_existing: bool,
                    issue_passwords: bool, actor_name: str | None = None) -> ImportOutcome:
    """Apply a plan from imports.build_plan: create its new accounts, and change its existing
    ones only with ``update_existing``. Each account gets the audit row of a single create or
    update. New accounts get their initial passwords now with ``issue_passwords``, otherwise
    they keep NO_PASSWORD until issue_pending_passwords. Flushes only."""
    outcome = ImportOutcome()
    for r in plan.new:
        user = User(username=r.badge_no, badge_no=r.badge_no, name=r.name, unit_id=plan.unit_ids[r.unit_code],
                    role=r.role, phone=r.phone, password_hash=NO_PASSWORD)
        session.add(user)
        outcome.created.append(user)
    session.flush()
    issue = initial_password_for(session, now) if issue_passwords else None
    for user in outcome.created:
        if issue is not None:
            outcome.credentials.append((user, issue(user)))
        audit.record(session, "user.create", actor_name=actor_name, target=user, after=snapshot(user))
    if not update_existing:
        outcome.not_updated = len(plan.changed)
        return outcome
    for planned in plan.changed:
        user = session.get(User, planned.user_id)
        r = planned.row
        update_user(session, now, user, name=r.name, unit_id=plan.unit_ids[r.unit_code], role=r.role,
                    is_active=user.is_active, phone=r.phone or user.phone, actor_name=actor_name)
        outcome.updated.append(user)
    return outcome


def issue_pending_passwords(session: Session, now: datetime, user_ids: list[int]) -> list[tuple[User, str]]:
    """Issue initial passwords to those of ``user_ids`` that have none yet; returns (user,
    password) for the caller's one response (the clear text is never stored).

    The accounts are claimed with one conditional UPDATE first, so two requests at once (two
    workers, a double click) never both issue: the second finds nothing left to claim."""
    if not user_ids:
        return []
    claim = f"{NO_PASSWORD}claim:{secrets.token_hex(8)}"
    session.execute(update(User).where(User.id.in_(user_ids), User.password_hash == NO_PASSWORD)
                    .values(password_hash=claim), execution_options={"synchronize_session": False})
    users = list(session.scalars(select(User).where(User.password_hash == claim).order_by(User.id)
                                 .execution_options(populate_existing=True)))
    issue = initial_password_for(session, now)
    return [(user, issue(user)) for user in users]


def reset_password(session: Session, now: datetime, user: User) -> str:
    """A new initial password for ``user`` (they must change it at their next sign-in, before
    any other page); the person is told (``notify_password_reset``), so a reset is never silent."""
    password = initial_password_for(session, now)(user)
    audit.record(session, "user.reset_password", target=user)
    notify_password_reset(session, user, now)
    return password


def _path_for(parent: Unit | None, unit_id: int) -> str:
    return f"{parent.path if parent else '/'}{unit_id}/"


def create_unit(session: Session, *, code: str, name: str, parent_id: int | None, sort_order: int = 0) -> Unit:
    parent = session.get(Unit, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise AdminError("上级单位不存在。")
    if parent is None and session.scalar(select(func.count(Unit.id)).where(Unit.parent_id.is_(None))):
        raise AdminError("只能有一个市级单位，请选择上级单位。")
    depth = parent.depth + 1 if parent else 0
    if depth >= len(UNIT_LEVELS):
        raise AdminError("派出所（科所队）下不能再建下级单位。")
    if session.scalar(select(Unit.id).where(Unit.code == code)):
        raise AdminError("单位编码已存在。")
    unit = Unit(code=code, name=name, parent_id=parent.id if parent else None, level=UNIT_LEVELS[depth],
                depth=depth, sort_order=sort_order, path="")
    session.add(unit)
    session.flush()
    unit.path = _path_for(parent, unit.id)
    session.flush()
    audit.record(session, "unit.create", target=unit, after={"code": code, "name": name, "parent_id": parent_id})
    return unit


def update_unit(session: Session, unit: Unit, *, name: str, sort_order: int, is_active: bool) -> None:
    before = {"name": unit.name, "sort_order": unit.sort_order, "is_active": unit.is_active}
    unit.name, unit.sort_order, unit.is_active = name, sort_order, is_active
    session.flush()
    audit.record(session, "unit.update", target=unit, before=before,
                 after={"name": name, "sort_order": sort_order, "is_active": is_active})


def move_unit(session: Session, unit: Unit, new_parent: Unit) -> None:
    """Re-hang a subtree under a parent of the level above; paths of the whole subtree follow."""
    if path_within(new_parent.path, unit.path):
        raise AdminError("不能把单位移到它自己的下级单位下面。")
    if new_parent.depth != unit.depth - 1:
        raise AdminError("只能移到同一级别的其他上级单位下。")
    old_path, new_path = unit.path, _path_for(new_parent, unit.id)
    before = {"parent_id": unit.parent_id}
    session.execute(
        update(Unit).where(path_within(Unit.path, old_path))
        .values(path=func.replace(Unit.path, old_path, new_path)),
        execution_options={"synchronize_session": False},
    )
    unit.parent_id = new_parent.id
    session.flush()
    session.expire_all()
    audit.record(session, "unit.move", target_type="unit", target_id=unit.id, before=before,
                 after={"parent_id": new_parent.id})
