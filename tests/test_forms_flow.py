"""Filling forms (issue 17, point 1): drafts saved as one types, submitted once, reopened only by
the reviewer; versions keep what was submitted; the office's builder; attachments checked by
content; bad input changes nothing."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.db import db
from app.forms_ import access
from app.models import Form, FormFile, FormSubmission, FormVersion, Notification, Unit, User
from tests.factories import make_form, make_user, png_bytes, signed_in as _login





@pytest.fixture
def form_id(app, city):
    with app.app_context():
        make_user(db.session, "inspector", db.session.get(Unit, city.branch_a), role="inspector")
        fid = make_form(db.session, city.users["admin"]).id
        db.session.commit()
        return fid


def _answers(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        sub = db.session.scalar(select(FormSubmission).where(FormSubmission.user_id == user.id))
        sub.version  # loaded while the session is open: tests read sub.version.number afterwards
        return sub, access.own_answers(user, sub)


COMPLETE = {"f_marital": "已婚", "f_lawyer": "no", "f_other": "无"}


def test_draft_autosave_submit_once_and_reopen(app, form_id):
    """A draft is saved by the page script and by the button; submit with a required field empty keeps a draft; submitted is read-only until the inspector reopens it."""
    officer = _login(app, "officer")
    assert "个人有关事项报告" in officer.get("/forms/").get_data(as_text=True)
    resp = officer.post(f"/forms/{form_id}/autosave", data={"f_other": "草稿一"})
    assert resp.status_code == 200 and resp.get_json()["saved"] is True
    sub, answers = _answers(app, "officer")
    assert sub.status == "draft" and answers["other"] == "草稿一"
    resp = officer.post(f"/forms/{form_id}", data={"f_other": "草稿二", "action": "submit"})
    assert resp.status_code == 422 and "此项必填" in resp.get_data(as_text=True)
    sub, answers = _answers(app, "officer")
    assert sub.status == "draft" and answers["other"] == "草稿二"
    assert officer.post(f"/forms/{form_id}", data={**COMPLETE, "action": "submit"}).status_code == 302
    sub, answers = _answers(app, "officer")
    assert sub.status == "submitted" and answers["marital"] == "已婚"
    # Submitted once: the fill page sends to the read-only page; writes change nothing.
    assert officer.get(f"/forms/{form_id}").status_code == 302
    assert officer.post(f"/forms/{form_id}/autosave", data={"f_other": "改"}).status_code == 409
    officer.post(f"/forms/{form_id}", data={**COMPLETE, "f_other": "改", "action": "draft"})
    assert _answers(app, "officer")[1]["other"] == "无"
    # The reviewer (inspector of the subtree) reopens with a reason; the officer corrects and submits again.
    inspector = _login(app, "inspector")
    assert inspector.post(f"/forms/submissions/{sub.id}/reopen", data={"reason": ""}).status_code == 302
    assert _answers(app, "officer")[0].status == "submitted"
    assert inspector.post(f"/forms/submissions/{sub.id}/reopen", data={"reason": "请补充亲属情况"}).status_code == 302
    assert _answers(app, "officer")[0].status == "draft"
    assert "请补充亲属情况" in officer.get(f"/forms/{form_id}").get_data(as_text=True)
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.kind == "form_reopened"))
        assert note.user_id == sub.user_id and note.link == f"/forms/{form_id}"
        # F5: the notice sends the person to the form; the reason itself is sealed there.
        assert "请补充亲属情况" not in note.body and "查看原因" in note.body
        assert db.session.get(FormSubmission, sub.id).reopen_reason == ""
    assert officer.post(f"/forms/{form_id}", data={**COMPLETE, "f_other": "已补充", "action": "submit"}).status_code == 302
    assert _answers(app, "officer")[1]["other"] == "已补充"


def test_yes_needs_details_and_group_rows_need_every_cell(app, form_id):
    """"Yes" without details and a half-filled relative row cannot be submitted; empty rows are dropped."""
    officer = _login(app, "officer")
    resp = officer.post(f"/forms/{form_id}", data={**COMPLETE, "f_lawyer": "yes", "f_relatives__0__c1": "王磊",
                                                    "f_relatives__3__c1": "", "action": "submit"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请说明具体情况" in page and "每一行的各项都要填写" in page
    sub, answers = _answers(app, "officer")
    assert sub.status == "draft" and answers["relatives"] == [{"c1": "王磊", "c2": "", "c3": "", "c4": ""}]


def test_a_new_version_does_not_change_submitted_answers(app, city, form_id):
    """After the office publishes version 2 (a question renamed, one added), the submitted answers and their questions stay version 1's; a new filler gets version 2."""
    officer = _login(app, "officer")
    officer.post(f"/forms/{form_id}", data={**COMPLETE, "f_other": "按第一版填写", "action": "submit"})
    admin = _login(app, "admin")
    assert admin.post(f"/forms/manage/{form_id}/fields/1/delete").status_code == 302
    assert admin.post(f"/forms/manage/{form_id}/fields", data={"kind": "text", "label": "第二版的新问题",
                                                                "required": "y"}).status_code == 302
    assert admin.post(f"/forms/manage/{form_id}/publish").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(FormVersion.id)).where(FormVersion.form_id == form_id)) == 2
    sub, answers = _answers(app, "officer")
    assert sub.version.number == 1 and answers["other"] == "按第一版填写"
    page = officer.get(f"/forms/submissions/{sub.id}").get_data(as_text=True)
    assert "婚姻状况" in page and "第二版的新问题" not in page and "按第一版填写" in page
    second = _login(app, "officer2")
    assert "第二版的新问题" in second.get(f"/forms/{form_id}").get_data(as_text=True)
    second.post(f"/forms/{form_id}/autosave", data={"f_other": "x"})
    assert _answers(app, "officer2")[0].version.number == 2


def test_builder_creates_orders_and_publishes_a_form(app, city):
    """The office creates a form, adds fields of each type one at a time, moves one up, and publishes; a choice with one option is refused and changes nothing."""
    admin = _login(app, "admin")
    resp = admin.post("/forms/manage/new", data={"title": "自查自纠报告", "confidentiality": "confidential",
                                                 "stage_id": 0, "target_unit_id": 0, "target_roles": ["officer"],
                                                 "due_at": "2026-03-20T18:00"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    with app.app_context():
        fid = db.session.scalar(select(Form.id))
    for data in ({"kind": "section", "label": "一、自查"}, {"kind": "text", "label": "单行"},
                 {"kind": "textarea", "label": "多行", "help_text": "如实填写"},
                 {"kind": "single", "label": "单选", "options": "甲\n乙"}, {"kind": "multi", "label": "多选", "options": "甲\n乙\n丙"},
                 {"kind": "yesno", "label": "是否"}, {"kind": "date", "label": "日期"}, {"kind": "number", "label": "数字"},
                 {"kind": "group", "label": "亲属从业情况", "columns": "姓名\n关系\n职业\n单位"},
                 {"kind": "file", "label": "附件"}):
        assert admin.post(f"/forms/manage/{fid}/fields", data=data).status_code == 302
    admin.post(f"/forms/manage/{fid}/fields", data={"kind": "single", "label": "坏的", "options": "只有一个"})
    admin.post(f"/forms/manage/{fid}/fields/2/move", data={"direction": "up"})
    with app.app_context():
        fields = db.session.get(Form, fid).draft_definition["fields"]
    assert [f["label"] for f in fields][:3] == ["一、自查", "多行", "单行"] and len(fields) == 10
    assert fields[8]["columns"][3] == {"key": "c4", "label": "单位"}
    assert admin.post(f"/forms/manage/{fid}/publish").status_code == 302
    page = _login(app, "officer").get(f"/forms/{fid}").get_data(as_text=True)
    assert "亲属从业情况" in page and "如实填写" in page
    # Publishing the same definition again makes no new version.
    admin.post(f"/forms/manage/{fid}/publish")
    with app.app_context():
        assert db.session.scalar(select(func.count(FormVersion.id))) == 1


def test_attachments_are_checked_by_content(app, form_id):
    """A web page renamed .png and an empty file are refused and store nothing; a real photo is re-encoded; a file can be removed from a draft."""
    officer = _login(app, "officer")
    fake = officer.post(f"/forms/{form_id}", data={"action": "draft", "file_proof": (io.BytesIO(b"<html>x</html>"), "a.png")},
                        content_type="multipart/form-data")
    assert fake.status_code == 422 and "不是" in fake.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(FormFile.id))) == 0
    ok = officer.post(f"/forms/{form_id}", data={"action": "draft", "file_proof": (io.BytesIO(png_bytes()), "p.png")},
                      content_type="multipart/form-data")
    assert ok.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(FormFile))
        assert row.kind == "jpeg" and row.size > 0
        file_id = row.id
    officer.post(f"/forms/{form_id}", data={"action": "draft", "remove_file": str(file_id)})
    with app.app_context():
        assert db.session.scalar(select(func.count(FormFile.id))) == 0


def test_forms_reach_only_their_target(app, city):
    """A form aimed at branch B is not listed for an officer of branch A and its fill page is 404 there."""
    with app.app_context():
        fid = make_form(db.session, city.users["admin"], target_unit_id=city.branch_b).id
        db.session.commit()
    assert _login(app, "officer").get(f"/forms/{fid}").status_code == 404
    assert _login(app, "officer_b").get(f"/forms/{fid}").status_code == 200


def test_the_officer_home_shows_forms_to_fill(app, form_id):
    """The officer's home page points to the form still to fill."""
    page = _login(app, "officer").get("/home").get_data(as_text=True)
    assert "还有 1 张表需要填报" in page and f"/forms/{form_id}" in page


def test_open_forms_are_read_by_the_units_supervisor(app, city):
    """An open (non-confidential) form's submission is readable by the supervisor of the person's subtree, not by another branch's."""
    with app.app_context():
        fid = make_form(db.session, city.users["admin"], confidential=False, title="满意度测评").id
        db.session.commit()
    officer = _login(app, "officer")
    officer.post(f"/forms/{fid}", data={**COMPLETE, "f_other": "很满意", "action": "submit"})
    sub, _answers_ = _answers(app, "officer")
    assert "很满意" in _login(app, "supervisor").get(f"/forms/submissions/{sub.id}").get_data(as_text=True)
    assert _login(app, "supervisor_b").get(f"/forms/submissions/{sub.id}").status_code == 404
    assert _login(app, "leader").get(f"/forms/submissions/{sub.id}").status_code == 404


def test_an_attachment_over_the_limit_stores_nothing(make_app, city):
    """A file over FORMS_FILE_MAX_BYTES is refused with the limit named; no row is stored."""
    application = make_app(FORMS_FILE_MAX_BYTES=2048)
    with application.app_context():
        fid = make_form(db.session, city.users["admin"]).id
        db.session.commit()
    officer = _login(application, "officer")
    big = b"%PDF-1.4\n" + b"0" * 4096
    resp = officer.post(f"/forms/{fid}", data={"action": "draft", "file_proof": (io.BytesIO(big), "big.pdf")},
                        content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "上限" in resp.get_data(as_text=True)
    with application.app_context():
        assert db.session.scalar(select(func.count(FormFile.id))) == 0


def test_add_row_works_without_javascript(app, form_id):
    """"添加一行" posted by a browser without JavaScript saves the draft and shows one more empty row."""
    officer = _login(app, "officer")
    assert "第 2 行" not in officer.get(f"/forms/{form_id}").get_data(as_text=True)
    page = officer.post(f"/forms/{form_id}", data={"f_relatives__0__c1": "王磊", "action": "addrow:relatives"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="王磊"' in html and "第 3 行" in html
    assert _answers(app, "officer")[1]["relatives"][0]["c1"] == "王磊"


# --- forms on the officer's task list (规定动作) ---

def _groups(page: str) -> tuple[str, str]:
    """The 待完成 and 已完成 parts of the task list."""
    open_part, _, done_part = page.partition("已完成（")
    return open_part, done_part


def test_a_form_to_fill_is_an_open_required_action_until_submitted(app, form_id):
    """The task list shows the form under 待完成 (linking to its fill page) and, once submitted, under 已完成 (linking to the read-only submission)."""
    officer = _login(app, "officer")
    open_part, done_part = _groups(officer.get("/tasks/").get_data(as_text=True))
    assert f'href="/forms/{form_id}"' in open_part and "个人有关事项报告" in open_part and "未填报" in open_part
    assert "个人有关事项报告" not in done_part
    assert officer.post(f"/forms/{form_id}", data={**COMPLETE, "action": "submit"}).status_code == 302
    open_part, done_part = _groups(officer.get("/tasks/").get_data(as_text=True))
    assert "个人有关事项报告" not in open_part
    assert re.search(r'href="/forms/submissions/\d+"', done_part) and "已提交" in done_part


def test_a_form_aimed_elsewhere_is_not_on_the_task_list(app, city, form_id):
    """An officer outside the form's target unit does not see it among their tasks."""
    assert "个人有关事项报告" in _login(app, "officer").get("/tasks/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Form, form_id).target_unit_id = city.branch_b
        db.session.commit()
    page = _login(app, "officer").get("/tasks/").get_data(as_text=True)
    assert "个人有关事项报告" not in page


def test_the_desk_tells_returned_from_never_started_and_filters_by_status(app, form_id):
    """On the inspector's desk a reopened submission reads 已退回修改 (not 未提交); ?show= filters 未提交/已提交; any other filter is 400."""
    officer = _login(app, "officer")
    assert officer.post(f"/forms/{form_id}", data={**COMPLETE, "action": "submit"}).status_code == 302
    sub, _answers_now = _answers(app, "officer")
    inspector = _login(app, "inspector")
    page = inspector.get(f"/forms/desk/{form_id}").get_data(as_text=True)
    assert "已提交（1）" in page and "fm-status--submitted" in page
    assert inspector.post(f"/forms/submissions/{sub.id}/reopen", data={"reason": "请补充"}).status_code == 302
    page = inspector.get(f"/forms/desk/{form_id}").get_data(as_text=True)
    assert "已退回修改" in page and "已提交（0）" in page
    pending = inspector.get(f"/forms/desk/{form_id}?show=pending").get_data(as_text=True)
    assert "fm-status--returned" in pending and "fm-status--submitted" not in pending
    assert "没有符合筛选条件的人员" in inspector.get(f"/forms/desk/{form_id}?show=submitted").get_data(as_text=True)
    assert inspector.get(f"/forms/desk/{form_id}?show=everyone").status_code == 400
