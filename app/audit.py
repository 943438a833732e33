"""Writing the audit trail (QUALITY A31, A32).

``record`` adds a row to the caller's session, so it commits or rolls back with the change it
describes. ``record_now`` writes at once in its own transaction, for events that must be kept
even though the request itself changes nothing (a refused access, a failed login).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Session

from .models import AuditLog

log = logging.getLogger("audit")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

#: Fields never written to the audit trail or the log, whatever a caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "totp_secret", "csrf_token", "id_card", "id_card_no"})


def escape_for_log(value: Any) -> str:
    """One line, no control characters: a username cannot forge a log line (A32)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def _scrub(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in values.items()}


def _context() -> dict:
    if not has_request_context():
        return {"ip": None, "request_id": None}
    return {"ip": request.remote_addr, "request_id": g.get("request_id")}


def build(action: str, *, actor=None, actor_name: str | None = None, target=None,
          target_type: str | None = None, target_id: Any = None, before: dict | None = None,
          after: dict | None = None, detail: str | None = None) -> AuditLog:
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
        target_id = getattr(target, "id", target_id)
    row = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=(actor_name or getattr(actor, "username", None) or "")[:64] or None,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=_scrub(before),
        after=_scrub(after),
        detail=(detail or "")[:255] or None,
        **_context(),
    )
    log.info("%s actor=%s target=%s:%s %s", action, escape_for_log(row.actor_name),
             target_type, escape_for_log(target_id), escape_for_log(detail or ""))
    return row


def record(session: Session, action: str, **kwargs) -> AuditLog:
    row = build(action, **kwargs)
    session.add(row)
    return row


def record_now(action: str, **kwargs) -> None:
    from .db import db

    sess = db.new_write_session()
    try:
        sess.add(build(action, **kwargs))
        sess.commit()
    finally:
        sess.close()
