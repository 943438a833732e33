"""Reads of the stored bank: the admin search, one question with its versions, and the pool a
new weekly paper draws from."""
from __future__ import annotations

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from ..models import Question, QuestionVersion

#: ``sort`` values the admin search accepts; anything else is refused (QUALITY A26).
SORTS = {
    "id": (Question.bank_id,),
    "-id": (Question.bank_id.desc(),),
    "updated": (Question.updated_at.desc(), Question.id.desc()),
    "difficulty": (Question.difficulty, Question.bank_id),
    "-difficulty": (Question.difficulty.desc(), Question.bank_id),
    "module": (Question.module, Question.bank_id),
}


def search(session: Session, *, q: str = "", module: str | None = None, qtype: str | None = None,
           difficulty: int | None = None, retired: bool | None = None, sort: str = "id",
           page: int = 1, per_page: int = 30) -> tuple[list, int]:
    """(Question, current QuestionVersion) rows matching text in id, stem or tags, and the total.

    Tags are JSON: on SQLite and ``json`` columns the stored text escapes non-ASCII
    (``\\u4e60``), so the term is matched both as typed and JSON-escaped.
    """
    stmt = select(Question, QuestionVersion).join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
    if q:
        import json

        tags = cast(Question.tags, Text)
        stmt = stmt.where(or_(Question.bank_id.icontains(q, autoescape=True),
                              QuestionVersion.stem.icontains(q, autoescape=True),
                              tags.icontains(q, autoescape=True),
                              tags.icontains(json.dumps(q)[1:-1], autoescape=True)))
    if module:
        stmt = stmt.where(Question.module == module)
    if qtype:
        stmt = stmt.where(Question.qtype == qtype)
    if difficulty:
        stmt = stmt.where(Question.difficulty == difficulty)
    if retired is not None:
        stmt = stmt.where(Question.is_retired.is_(retired))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(*SORTS[sort]).limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def find(session: Session, bank_id: str) -> tuple[Question, QuestionVersion] | None:
    row = session.execute(select(Question, QuestionVersion)
                          .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
                          .where(Question.bank_id == bank_id)).first()
    return tuple(row) if row else None


def versions(session: Session, question_id: int) -> list[QuestionVersion]:
    return list(session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question_id)
                                .order_by(QuestionVersion.version.desc())))


def current_pool(session: Session, *, exclude_retired: bool = True) -> list:
    """The questions a new paper may draw, in one query: rows of (id — the current version's
    id, question_id, bank_id, qtype, module, difficulty), ordered by question so that a seeded
    draw is reproducible."""
    stmt = (select(QuestionVersion.id, QuestionVersion.question_id, Question.bank_id, Question.qtype,
                   Question.module, Question.difficulty)
            .join(Question, Question.current_version_id == QuestionVersion.id)
            .order_by(Question.id))
    if exclude_retired:
        stmt = stmt.where(Question.is_retired.is_(False))
    return list(session.execute(stmt))

