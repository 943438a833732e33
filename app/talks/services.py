"""Recording a talk: the officer must lie in the recorder's subtree (app/auth/scope.py); the
note is sealed at once (app/forms_/crypto.py) and never stored in plain text."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from .. import audit
from ..auth.scope import unit_in_scope
from ..forms_ import crypto
from ..models import TALK_KINDS, TALK_TOPICS, Talk, User

#: Leaders are read-only on the platform (QUALITY A14: no write view admits them), so they see
#: coverage but do not record; supervisors and inspectors of the officer's subtree record.
RECORDERS = frozenset({"supervisor", "inspector"})
NOTE_MAX = 2000


class TalkError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def may_record_with(session: Session, recorder: User, officer: User | None) -> bool:
    """A supervisor or inspector, about an active officer of their subtree."""
    return (recorder.role in RECORDERS and officer is not None and officer.is_active
            and officer.role == "officer" and unit_in_scope(session, recorder, officer.unit_id))


def record_talk(session: Session, recorder: User, officer: User | None, talked_on: date, kind: str,
                topics: list[str], note: str, today: date) -> Talk:
    """Add a talk (flushes; the caller commits). TalkError ``not_in_scope``, ``bad_choice``,
    ``future`` or ``note_long``; nothing is written then."""
    if not may_record_with(session, recorder, officer):
        raise TalkError("not_in_scope")
    if kind not in TALK_KINDS or not topics or any(t not in TALK_TOPICS for t in topics):
        raise TalkError("bad_choice")
    if talked_on > today:
        raise TalkError("future")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise TalkError("note_long")
    talk = Talk(officer_id=officer.id, recorder_id=recorder.id, talked_on=talked_on, kind=kind,
                topics=",".join(t for t in TALK_TOPICS if t in topics),
                note_token=crypto.seal_json(note) if note else "")
    session.add(talk)
    session.flush()
    audit.record(session, "talk.record", actor=recorder, target_type="talk", target_id=talk.id,
                 after={"officer_id": officer.id, "kind": kind, "talked_on": talked_on.isoformat()})
    return talk
