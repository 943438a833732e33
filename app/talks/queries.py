"""Reads for talks: coverage (谈心谈话覆盖率) by unit and lists. Units and people come through
app/auth/scope.py only; no note is read here (counts, days and kinds only)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from ..auth.scope import ancestor_ids, people_in_scope, subtree_unit_ids
from ..models import CampaignStage, Talk, Unit, User
from ..tasks.queries import current_stage

LIST_MAX = 200


@dataclass
class CoverageRow:
    unit_id: int
    name: str
    parent_id: int | None
    depth: int
    officers: int = 0
    talked: int = 0

    @property
    def rate(self) -> float | None:
        return self.talked / self.officers if self.officers else None


@dataclass
class Coverage:
    stage: CampaignStage | None
    top: CoverageRow | None
    children: list[CoverageRow] = field(default_factory=list)


def talked_between(first: date, last: date):
    """SQL: the officer (``User``) has at least one talk dated from ``first`` to ``last``."""
    return exists().where(Talk.officer_id == User.id, Talk.talked_on >= first, Talk.talked_on <= last)


def talked_clause(stage: CampaignStage):
    """SQL: the officer (``User``) has at least one talk dated within ``stage``."""
    return talked_between(stage.starts_on, stage.ends_on)


def talks_between(first: date, last: date):
    """SQL: how many talks the officer (``User``) had from ``first`` to ``last`` (a scalar subquery)."""
    return (select(func.count(Talk.id)).where(Talk.officer_id == User.id, Talk.talked_on >= first,
                                              Talk.talked_on <= last).scalar_subquery())


def coverage(session: Session, unit: Unit, today: date) -> Coverage:
    """谈心谈话覆盖率 of ``unit`` and each active unit directly below it: active officers of the
    subtree with at least one talk in the current stage ÷ active officers of the subtree.
    Three queries (stage, units, one GROUP BY of officers), whatever the size of the tree."""
    stage = current_stage(session, today)
    units = list(session.scalars(select(Unit).where(Unit.id.in_(subtree_unit_ids(unit)))))
    rows = {u.id: CoverageRow(u.id, u.name, u.parent_id, u.depth) for u in units if u.is_active or u.id == unit.id}
    if stage is not None:
        stmt = (select(User.unit_id, func.count(User.id),
                       func.count(User.id).filter(talked_clause(stage)))
                .where(User.role == "officer", User.is_active.is_(True),
                       User.unit_id.in_(subtree_unit_ids(unit)))
                .group_by(User.unit_id))
        paths = {u.id: u.path for u in units}
        for unit_id, officers, talked_n in session.execute(stmt):
            for up in ancestor_ids(paths.get(unit_id)):
                row = rows.get(up)
                if row is not None:
                    row.officers += officers
                    row.talked += talked_n
    top = rows.get(unit.id)
    children = sorted((r for r in rows.values() if r.parent_id == unit.id), key=lambda r: r.unit_id)
    return Coverage(stage, top, children)


def recorded_by(session: Session, user: User) -> list[tuple[Talk, User]]:
    """Talks the user recorded (newest first), with the officer."""
    return list(session.execute(
        select(Talk, User).join(User, User.id == Talk.officer_id).where(Talk.recorder_id == user.id)
        .order_by(Talk.talked_on.desc(), Talk.id.desc()).limit(LIST_MAX)).all())


def readable_in_subtree(session: Session, inspector: User) -> list[tuple[Talk, User]]:
    """An inspector's list: talks with officers of their subtree (notes are read one by one, audited)."""
    return list(session.execute(
        select(Talk, User).join(User, User.id == Talk.officer_id).where(people_in_scope(session, inspector))
        .order_by(Talk.talked_on.desc(), Talk.id.desc()).limit(LIST_MAX)).all())


@dataclass
class OwnTalk:
    """A talk as the officer talked with sees it in their list (app/forms_/access.py
    ``may_see_talk``): the day, the kind and who recorded it by role and unit — never the note
    or the topics, which stay with the note's readers."""

    id: int
    talked_on: date
    kind: str
    recorder_role: str | None
    recorder_unit: str | None


def with_officer(session: Session, officer: User) -> list[OwnTalk]:
    """Talks recorded with the officer, newest first (one query; no note column is read)."""
    recorder = aliased(User)
    stmt = (select(Talk.id, Talk.talked_on, Talk.kind, recorder.role, Unit.name)
            .outerjoin(recorder, recorder.id == Talk.recorder_id).outerjoin(Unit, Unit.id == recorder.unit_id)
            .where(Talk.officer_id == officer.id).order_by(Talk.talked_on.desc(), Talk.id.desc()).limit(LIST_MAX))
    return [OwnTalk(*row) for row in session.execute(stmt)]


def officers_of(session: Session, unit: Unit, today: date) -> list[tuple[User, str, bool]]:
    """Active officers of ``unit``'s subtree (the recorder picks ``unit`` through the scope
    helper), grouped by unit in tree order and by name: (officer, unit name, talked with in the
    current stage). One query (plus the stage's)."""
    stage = current_stage(session, today)
    talked = talked_clause(stage) if stage is not None else literal(False)
    stmt = (select(User, Unit.name, talked).join(Unit, Unit.id == User.unit_id)
            .where(User.unit_id.in_(subtree_unit_ids(unit)), User.role == "officer", User.is_active.is_(True))
            .order_by(Unit.path, User.name, User.id))
    return [(user, unit_name, bool(done)) for user, unit_name, done in session.execute(stmt)]