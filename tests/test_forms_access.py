"""Confidential forms (issue 17, point 2): only the person and the 纪检督察 of their subtree read a
submission, by any path; everyone else gets 404; every read by someone else is audited and shown
to the person; the rule has one home (app/forms_/access.py)."""
from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.db import db
from app.models import AuditLog, FormSubmission
from tests.factories import make_form, make_user, png_bytes, signed_in as _login

APP = Path(__file__).resolve().parents[1] / "app"
ANSWER = "张某某律师事务所"


@pytest.fixture
def filed(app, city):
    """Inspectors of branch A and B; a confidential form; ``officer`` (station A1) submitted it
    with a relative and a photo."""
    with app.app_context():
        from app.models import Unit

        make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector")
        make_user(db.session, "inspector_b", db.session.get(Unit, city.branch_b), role="inspector")
        form = make_form(db.session, city.users["admin"])
        db.session.commit()
        form_id = form.id
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct horse battery staple"})
    resp = client.post(f"/forms/{form_id}", data={
        "f_marital": "已婚", "f_lawyer": "yes", "f_lawyer_details": "儿子是律师",
        "f_relatives__0__c1": "王磊", "f_relatives__0__c2": "儿子", "f_relatives__0__c3": "律师",
        "f_relatives__0__c4": ANSWER, "action": "submit",
        "file_proof": (io.BytesIO(png_bytes()), "proof.png")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        sub = db.session.scalar(select(FormSubmission))
        assert sub.status == "submitted" and len(sub.files) == 1
        return {"form": form_id, "sub": sub.id, "file": sub.files[0].id, "owner": client}




def _reads(app, sub_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.action == "form.read", AuditLog.target_id == str(sub_id)))


@pytest.mark.parametrize("username", ["supervisor", "supervisor_b", "leader", "admin", "inspector_b", "officer2"])
def test_confidential_submission_is_404_to_everyone_else_by_every_path(app, filed, username):
    """Supervisor, leader, admin, another officer and the inspector of another subtree: 404 by page, file, export and reopen; nothing audited."""
    client = _login(app, username)
    sub, file_id, form = filed["sub"], filed["file"], filed["form"]
    for path in (f"/forms/submissions/{sub}", f"/forms/submissions/{sub}/files/{file_id}"):
        resp = client.get(path)
        assert resp.status_code == 404, (username, path)
        assert ANSWER not in resp.get_data(as_text=True)
    assert client.post(f"/forms/submissions/{sub}/reopen", data={"reason": "x"}).status_code in (403, 404)
    export = client.get(f"/forms/desk/{form}/export.xlsx")
    if username == "inspector_b":
        # The export exists for inspectors, but holds only their own subtree: nobody here.
        assert export.status_code == 200
        book = load_workbook(io.BytesIO(export.data))
        assert all(sheet.max_row == 1 for sheet in book.worksheets)
    else:
        assert export.status_code in (403, 404), username
    assert _reads(app, sub) == 0


def test_inspector_of_the_subtree_reads_page_file_and_export(app, filed):
    """The inspector of the officer's branch reads the answers, the photo and the export (one sheet per repeating group)."""
    client = _login(app, "inspector")
    page = client.get(f"/forms/submissions/{filed['sub']}")
    assert page.status_code == 200 and ANSWER in page.get_data(as_text=True)
    photo = client.get(f"/forms/submissions/{filed['sub']}/files/{filed['file']}")
    assert photo.status_code == 200 and photo.data.startswith(b"\xff\xd8\xff")
    assert "no-store" in photo.headers["Cache-Control"]
    export = client.get(f"/forms/desk/{filed['form']}/export.xlsx")
    book = load_workbook(io.BytesIO(export.data))
    main, group = book.worksheets[0], book.worksheets[1]
    assert main.max_row == 2 and main.cell(2, 2).value == "officer"
    assert [c.value for c in group[2]] == [1, "officer", "甲一所", "王磊", "儿子", "律师", ANSWER]


def test_every_inspector_read_is_audited_and_shown_to_the_officer(app, filed):
    """Each read by the inspector (page, file, export) writes a form.read row; the officer's own reads do not; the officer's page lists the reads."""
    owner = filed["owner"]
    assert owner.get(f"/forms/submissions/{filed['sub']}").status_code == 200
    assert _reads(app, filed["sub"]) == 0
    assert "还没有人查看过" in owner.get(f"/forms/submissions/{filed['sub']}").get_data(as_text=True)
    inspector = _login(app, "inspector")
    inspector.get(f"/forms/submissions/{filed['sub']}")
    inspector.get(f"/forms/submissions/{filed['sub']}/files/{filed['file']}")
    inspector.get(f"/forms/desk/{filed['form']}/export.xlsx")
    assert _reads(app, filed["sub"]) == 3
    with app.app_context():
        actors = set(db.session.scalars(select(AuditLog.actor_name).where(AuditLog.action == "form.read")))
    assert actors == {"inspector"}
    page = owner.get(f"/forms/submissions/{filed['sub']}").get_data(as_text=True)
    reads = page[page.index('id="reads"'):]
    assert reads.count("<li>") == 3 and "甲分局" in reads and "导出" in reads and "查看附件" in reads


def test_supervisor_desk_shows_status_not_answers(app, filed):
    """The unit's supervisor sees who has submitted and who has not, with no link to the answers; the leader sees counts only."""
    page = _login(app, "supervisor").get(f"/forms/desk/{filed['form']}").get_data(as_text=True)
    assert "officer2" in page and "已提交" in page and "未提交" in page
    assert f"/forms/submissions/{filed['sub']}" not in page and ANSWER not in page
    leader = _login(app, "leader").get(f"/forms/desk/{filed['form']}").get_data(as_text=True)
    assert "officer2" not in leader and ANSWER not in leader
    inspector = _login(app, "inspector").get(f"/forms/desk/{filed['form']}").get_data(as_text=True)
    assert f"/forms/submissions/{filed['sub']}" in inspector


def test_ids_that_do_not_exist_look_the_same(app, filed):
    """A missing submission or file answers 404 exactly like a forbidden one (nothing to probe)."""
    client = _login(app, "supervisor")
    missing = client.get("/forms/submissions/999999")
    forbidden = client.get(f"/forms/submissions/{filed['sub']}")
    assert missing.status_code == forbidden.status_code == 404
    assert _without_tokens(missing.get_data()) == _without_tokens(forbidden.get_data())


def _without_tokens(body: bytes) -> bytes:
    """The page with its CSRF token blanked: the token carries a timestamp in seconds, so two
    requests a second apart differ there and nowhere else."""
    return re.sub(rb'(name="csrf_token" value=|name="csrf-token" content=)"[^"]*"', rb'\1""', body)


# --- one home for the rule --------------------------------------------------------------------

def _sources():
    for path in sorted(APP.rglob("*.py")):
        yield path.relative_to(APP).as_posix(), path.read_text(encoding="utf-8")


def test_the_confidentiality_rule_has_one_home():
    """Only app/forms_/access.py decrypts answers, files and talk notes for reading and defines may_read/may_read_note; the submission, file and talk routes go through it."""
    decrypting = {name for name, src in _sources() if re.search(r"\bopen_(json|bytes)\(", src)}
    assert decrypting == {"forms_/access.py", "forms_/crypto.py"}, decrypting
    deciders = {name for name, src in _sources()
                for node in ast.walk(ast.parse(src))
                if isinstance(node, ast.FunctionDef)
                and node.name in ("may_read", "may_export", "may_reopen", "may_read_note", "may_see_talk")}
    assert deciders == {"forms_/access.py"}, deciders
    # The token columns are touched by the crypto module and the writes that seal new values only.
    token_users = {name for name, src in _sources()
                   if re.search(r"\.(answers_token|data_token|name_token|note_token)\b", src)}
    assert token_users <= {"forms_/access.py", "forms_/crypto.py", "forms_/services.py", "talks/services.py"}, token_users
    routes = (APP / "forms_" / "routes.py").read_text(encoding="utf-8")
    assert "rule.open_submission(" in routes and "rule.open_file(" in routes
    assert "FormSubmission" not in routes  # no route loads a submission by itself
    talk_routes = (APP / "talks" / "routes.py").read_text(encoding="utf-8")
    assert "rule.open_talk(" in talk_routes and not re.search(r"\bTalk\b", talk_routes)


def test_inspector_scope_is_their_units_subtree(app, city):
    """纪检督察 are scoped like supervisors (app/auth/scope.py): their unit and everything below it, nothing else."""
    from app.auth import scope
    from app.models import Unit

    with app.app_context():
        inspector = make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector")
        assert scope.scope_root(db.session, inspector).id == city.branch_a
        assert scope.unit_in_scope(db.session, inspector, city.station_a2)
        assert not scope.unit_in_scope(db.session, inspector, city.branch_b)
        assert not scope.unit_in_scope(db.session, inspector, city.root)


def test_a_confidential_form_cannot_be_opened_up_once_answered(app, filed):
    """The office cannot turn a confidential form with submissions into an open one; the supervisor still gets 404."""
    admin = _login(app, "admin")
    resp = admin.post(f"/forms/manage/{filed['form']}", data={
        "title": "个人有关事项报告", "confidentiality": "open", "stage_id": 0, "target_unit_id": 0,
        "target_roles": ["officer"], "due_at": "2026-03-20T18:00"}, follow_redirects=True)
    assert "不能改为一般表单" in resp.get_data(as_text=True)
    with app.app_context():
        from app.models import Form

        assert db.session.get(Form, filed["form"]).confidentiality == "confidential"
    assert _login(app, "supervisor").get(f"/forms/submissions/{filed['sub']}").status_code == 404


def test_a_draft_never_submitted_is_the_persons_alone(app, city):
    """Before the first submission even the inspector of the subtree gets 404 for a draft."""
    with app.app_context():
        from app.models import Unit

        make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector")
        form_id = make_form(db.session, city.users["admin"]).id
        db.session.commit()
    _login(app, "officer").post(f"/forms/{form_id}/autosave", data={"f_other": ANSWER})
    with app.app_context():
        sub_id = db.session.scalar(select(FormSubmission.id))
    assert _login(app, "inspector").get(f"/forms/submissions/{sub_id}").status_code == 404
    assert _login(app, "officer").get(f"/forms/submissions/{sub_id}").status_code == 200


def test_a_reopened_submission_is_the_persons_again_until_resubmitted(app, filed):
    """F4: once reopened, the inspector gets 404 on the page, the API and the file (the draft in progress is the person's); after resubmitting, reads again."""
    sub, file_id = filed["sub"], filed["file"]
    inspector = _login(app, "inspector")
    assert inspector.post(f"/forms/submissions/{sub}/reopen", data={"reason": "请补充"}).status_code == 302
    owner = filed["owner"]
    assert owner.post(f"/forms/{filed['form']}/autosave", data={"f_other": "WORK-IN-PROGRESS"}).status_code == 200
    before = _reads(app, sub)
    for path in (f"/forms/submissions/{sub}", f"/api/v1/forms/submissions/{sub}",
                 f"/forms/submissions/{sub}/files/{file_id}"):
        resp = inspector.get(path)
        assert resp.status_code == 404, path
        assert "WORK-IN-PROGRESS" not in resp.get_data(as_text=True)
    assert inspector.post(f"/forms/submissions/{sub}/reopen", data={"reason": "再退"}).status_code == 404
    assert _reads(app, sub) == before
    # The desk still lists the person, as 填写中, without a link to the draft.
    desk = inspector.get(f"/forms/desk/{filed['form']}").get_data(as_text=True)
    assert f"/forms/submissions/{sub}" not in desk
    assert owner.get(f"/forms/submissions/{sub}").status_code == 200
    resp = owner.post(f"/forms/{filed['form']}", data={
        "f_marital": "已婚", "f_lawyer": "no", "f_other": "已补充", "action": "submit"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    page = inspector.get(f"/forms/submissions/{sub}")
    assert page.status_code == 200 and "已补充" in page.get_data(as_text=True)
    assert inspector.get(f"/api/v1/forms/submissions/{sub}").status_code == 200
    assert inspector.get(f"/forms/submissions/{sub}/files/{file_id}").status_code == 200


def test_export_cells_never_run_as_formulas(app, city):
    """A25: an answer that looks like a formula is written to the export as text."""
    with app.app_context():
        from app.models import Unit

        make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector")
        form_id = make_form(db.session, city.users["admin"]).id
        db.session.commit()
    _login(app, "officer").post(f"/forms/{form_id}", data={
        "f_marital": "已婚", "f_lawyer": "no", "f_other": '=HYPERLINK("http://x","y")', "action": "submit"})
    book = load_workbook(io.BytesIO(_login(app, "inspector").get(f"/forms/desk/{form_id}/export.xlsx").data))
    values = [c.value for c in book.worksheets[0][2]]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in values


def test_desk_counts_equal_a_recount_of_the_people(app, filed, clock):
    """The desk's SQL counts equal a recount of the per-person status rows, for every staff role."""
    from app.forms_ import queries
    from app.models import Form, User

    with app.app_context():
        form = db.session.get(Form, filed["form"])
        for username in ("supervisor", "supervisor_b", "leader", "admin", "inspector"):
            viewer = db.session.scalar(select(User).where(User.username == username))
            for now in (clock.now, form.due_at.replace(year=2027)):
                rows = queries.status_rows(db.session, viewer, form, now)
                assert queries.status_counts(db.session, viewer, form, now) == queries.counts(rows), username
