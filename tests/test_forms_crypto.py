"""Encryption at rest of form answers and attachments (issue 17): no plaintext in the database
file, key rotation re-encrypts everything and the old key then opens nothing, and production
refuses to start without FORMS_KEYS."""
from __future__ import annotations

import base64
import io
import json
import secrets
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from app import create_app
from app.db import db
from app.forms_ import crypto
from app.models import FormFile, FormSubmission
from tests.factories import make_form

SECRET_ANSWER = "ZEBRA-PLAINTEXT-4711 王秘密律师事务所"
SECRET_PDF = b"%PDF-1.4\n% SECRET-PDF-MARKER-0815\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def filled(app, city):
    """``officer`` submitted a confidential form with a distinctive answer and a PDF."""
    with app.app_context():
        form_id = make_form(db.session, city.users["admin"]).id
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct horse battery staple"})
    resp = client.post(f"/forms/{form_id}", data={
        "f_marital": "已婚", "f_lawyer": "yes", "f_lawyer_details": SECRET_ANSWER, "f_other": SECRET_ANSWER,
        "f_relatives__0__c1": "甲", "f_relatives__0__c2": "乙", "f_relatives__0__c3": "丙", "f_relatives__0__c4": "丁",
        "action": "submit", "file_proof": (io.BytesIO(SECRET_PDF), "secret-name.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    with app.app_context():
        sub = db.session.scalar(select(FormSubmission))
        assert sub.status == "submitted"
        return sub.id


SECRET_REASON = "REASON-PLAINTEXT-2718 请说明与王秘密的关系"


def _reopen(app, sub_id, clock, reason=SECRET_REASON):
    """The reviewer sends the submission back with ``reason`` (services.reopen)."""
    from app.forms_ import services
    from app.models import User

    with app.app_context():
        reviewer = db.session.scalar(select(User).where(User.username == "supervisor"))
        services.reopen(db.session, db.session.get(FormSubmission, sub_id), reviewer, reason, clock.now)
        db.session.commit()


def test_database_file_holds_no_plaintext_of_answers_or_attachments(app, filled, database_url, clock):
    """The SQLite file (and its WAL) contain the form's questions but no byte of a submitted answer, file, file name or reopen reason (F5)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite file itself")
    _reopen(app, filled, clock)
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct horse battery staple"})
    assert SECRET_REASON in client.get(f"/forms/submissions/{filled}").get_data(as_text=True)  # the person reads it
    with app.app_context():
        db.engine.dispose()
    path = Path(database_url[len("sqlite:///"):])
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert "个人有关事项报告".encode() in raw  # the search finds plain text where there is some
    assert json.dumps("亲属从业情况").encode() in raw  # …and JSON's escaped form of it
    for secret in (SECRET_ANSWER.encode(), "王秘密".encode(), json.dumps("王秘密").encode(), b"ZEBRA-PLAINTEXT",
                   b"SECRET-PDF-MARKER", b"secret-name", b"REASON-PLAINTEXT", "与王秘密的关系".encode()):
        assert secret not in raw, secret


def test_rotation_reencrypts_everything_and_the_old_key_then_fails(app, filled, runner, clock):
    """`flask forms rotate-key` re-encrypts answers, files, names, reopen reasons and 谈心谈话 notes under a new key; the old key alone opens none of them."""
    from datetime import date

    from app.models import Talk, User
    from app.talks.services import record_talk

    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "officer"))
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        record_talk(db.session, supervisor, officer, date(2026, 3, 8), "heart", ["other"], SECRET_ANSWER,
                    date(2026, 3, 9))
        db.session.commit()
    _reopen(app, filled, clock)
    old = list(app.config["FORMS_KEYS"])
    result = runner.invoke(args=["forms", "rotate-key"])
    assert result.exit_code == 0, result.output
    keys_file = Path(app.config["INSTANCE_PATH"]) / "forms_keys"
    new = keys_file.read_text().strip()
    assert new and "," not in new and new not in old
    with app.app_context():
        sub = db.session.get(FormSubmission, filled)
        row = db.session.scalar(select(FormFile))
        assert crypto.open_json(sub.answers_token, [new])["other"] == SECRET_ANSWER
        assert crypto.open_bytes(row.data_token, [new]) == SECRET_PDF
        assert crypto.open_json(row.name_token, [new]) == "secret-name.pdf"
        note = db.session.scalar(select(Talk)).note_token
        assert crypto.open_json(note, [new]) == SECRET_ANSWER
        assert crypto.open_json(sub.reopen_reason_token, [new]) == SECRET_REASON and sub.reopen_reason == ""
        for token, opener in ((sub.answers_token, crypto.open_json), (row.data_token, crypto.open_bytes),
                              (row.name_token, crypto.open_json), (note, crypto.open_json),
                              (sub.reopen_reason_token, crypto.open_json)):
            with pytest.raises(InvalidToken):
                opener(token, old)
    # The app running on the new key reads it as before.
    app.config["FORMS_KEYS"] = [new]
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct horse battery staple"})
    assert SECRET_ANSWER in client.get(f"/forms/submissions/{filled}").get_data(as_text=True)
    assert SECRET_REASON in client.get(f"/forms/submissions/{filled}").get_data(as_text=True)


def test_rotation_seals_a_reopen_reason_left_in_plain_text(app, filled, runner, clock):
    """F5: a reason stored in plain text before revision 0016 is sealed by `flask forms rotate-key` and still shown to the person."""
    _reopen(app, filled, clock)
    with app.app_context():  # as a reopen before 0016 left it
        sub = db.session.get(FormSubmission, filled)
        sub.reopen_reason, sub.reopen_reason_token = "旧的退回原因", ""
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct horse battery staple"})
    assert "旧的退回原因" in client.get(f"/forms/submissions/{filled}").get_data(as_text=True)
    assert runner.invoke(args=["forms", "rotate-key"]).exit_code == 0
    new = (Path(app.config["INSTANCE_PATH"]) / "forms_keys").read_text().strip()
    with app.app_context():
        sub = db.session.get(FormSubmission, filled)
        assert sub.reopen_reason == "" and crypto.open_json(sub.reopen_reason_token, [new]) == "旧的退回原因"
    app.config["FORMS_KEYS"] = [new]
    assert "旧的退回原因" in client.get(f"/forms/submissions/{filled}").get_data(as_text=True)


def test_rotation_with_keys_from_the_environment_prints_the_new_setting(app, filled, runner, monkeypatch):
    """With FORMS_KEYS in the environment, rotation prints the one value to set and writes no file."""
    monkeypatch.setenv("FORMS_KEYS", ",".join(app.config["FORMS_KEYS"]))
    result = runner.invoke(args=["forms", "rotate-key"])
    assert result.exit_code == 0 and "Set FORMS_KEYS=" in result.output
    assert not (Path(app.config["INSTANCE_PATH"]) / "forms_keys").exists()


def test_production_refuses_to_start_without_forms_keys(database_url):
    """Production without FORMS_KEYS (or with a malformed one) refuses to start; with a key it starts."""
    base = {"APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(40), "DATABASE_URL": database_url}
    with pytest.raises(RuntimeError, match="FORMS_KEYS"):
        create_app({**base, "FORMS_KEYS": []})
    with pytest.raises(RuntimeError, match="FORMS_KEYS"):
        create_app({**base, "FORMS_KEYS": ["not-a-key"]})
    assert create_app({**base, "FORMS_KEYS": [_new_key()]}).config["APP_ENV"] == "production"


def test_a_newer_key_first_still_reads_older_tokens(app, city):
    """FORMS_KEYS lists keys newest first: tokens sealed under an older listed key still open."""
    with app.app_context():
        token = crypto.seal_json({"a": "旧"})
        app.config["FORMS_KEYS"] = [_new_key()] + list(app.config["FORMS_KEYS"])
        assert crypto.open_json(token) == {"a": "旧"}
