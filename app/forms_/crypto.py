"""Encryption at rest of form answers and attachments: Fernet tokens under FORMS_KEYS.

``FORMS_KEYS`` lists keys newest first (cryptography's MultiFernet): the first encrypts, every
one decrypts, so a rotation can add a key, re-encrypt, then drop the old one. Every form's
answers go through here, confidential or not: one path, and nothing a person wrote lies in the
database file in plain text. Only app/forms_/access.py (who may read) and the rotation below
call the decrypting functions (tests/test_forms_access.py guards it).
"""
from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

__all__ = ["InvalidToken", "keys_of", "seal_json", "seal_bytes", "open_json", "open_bytes", "new_key",
           "rotate_all"]


class KeysMissing(RuntimeError):
    pass


def keys_of(config) -> list[str]:
    raw = config.get("FORMS_KEYS") or []
    if isinstance(raw, str):
        raw = raw.split(",")
    keys = [k.strip() for k in raw if k and k.strip()]
    if not keys:
        raise KeysMissing("FORMS_KEYS is not set: run `make run` (it writes instance/forms_keys once) "
                          "or export FORMS_KEYS")
    return keys


def _fernet(keys: list[str] | None = None) -> MultiFernet:
    return MultiFernet([Fernet(k.encode("ascii")) for k in (keys or keys_of(current_app.config))])


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def seal_json(value) -> str:
    return _fernet().encrypt(json.dumps(value, ensure_ascii=False).encode("utf-8")).decode("ascii")


def seal_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def open_json(token: str, keys: list[str] | None = None):
    """The value sealed in ``token`` ("" → {}); InvalidToken when no key opens it."""
    if not token:
        return {}
    return json.loads(_fernet(keys).decrypt(token.encode("ascii")).decode("utf-8"))


def open_bytes(token: bytes, keys: list[str] | None = None) -> bytes:
    return _fernet(keys).decrypt(token)


def rotate_all(session, keys: list[str]) -> int:
    """Re-encrypt every answer, file name, file, reopen reason and talk note (谈心谈话) under
    ``keys[0]`` (MultiFernet.rotate: the older keys in ``keys`` only decrypt); a reopen reason
    still in plain text (written before revision 0016) is sealed. Flushes; the caller commits.
    Returns tokens rewritten."""
    from sqlalchemy import select

    from ..models import FormFile, FormSubmission, Talk

    fernet = _fernet(keys)
    count = 0
    for sub in session.scalars(select(FormSubmission).where(FormSubmission.answers_token != "")):
        sub.answers_token = fernet.rotate(sub.answers_token.encode("ascii")).decode("ascii")
        count += 1
    for row in session.scalars(select(FormFile)):
        row.data_token = fernet.rotate(row.data_token)
        if row.name_token:
            row.name_token = fernet.rotate(row.name_token.encode("ascii")).decode("ascii")
        count += 1
    for sub in session.scalars(select(FormSubmission).where(
            (FormSubmission.reopen_reason_token != "") | (FormSubmission.reopen_reason != ""))):
        if sub.reopen_reason_token:
            sub.reopen_reason_token = fernet.rotate(sub.reopen_reason_token.encode("ascii")).decode("ascii")
        else:  # a reason written in plain text before revision 0016: sealed now
            sub.reopen_reason_token = fernet.encrypt(json.dumps(sub.reopen_reason, ensure_ascii=False)
                                                     .encode("utf-8")).decode("ascii")
            sub.reopen_reason = ""
        count += 1
    for talk in session.scalars(select(Talk).where(Talk.note_token != "")):
        talk.note_token = fernet.rotate(talk.note_token.encode("ascii")).decode("ascii")
        count += 1
    session.flush()
    return count
