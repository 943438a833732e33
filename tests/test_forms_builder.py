"""The office's form builder (issue 17 point 1, follow-up): a field edited in place keeps its key
and is checked by the definition's one validator (bad input changes nothing, with a Chinese
message); fields move up and down, across section headings; edits and moves are audited;
publishing after an edit makes a new version while submitted answers keep theirs; only the
office may do any of it, and never without a CSRF token."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db import db
from app.forms_ import access
from app.models import AuditLog, Form, FormSubmission, FormVersion, User
from tests.conftest import csrf_of
from tests.factories import PASSWORD, signed_in as _login
from tests.test_forms_flow import form_id  # noqa: F401  (a fixture: the 个人有关事项报告 draft form)

# PERSONAL_FORM (tests/factories.py): 0 s1 section, 1 marital single, 2 lawyer yesno,
# 3 relatives group, 4 proof file, 5 other textarea.
MARITAL, LAWYER, RELATIVES, OTHER = 1, 2, 3, 5




def _draft(app, form_id) -> list[dict]:
    with app.app_context():
        return db.session.get(Form, form_id).draft_definition["fields"]


def _audits(app, action) -> list[AuditLog]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def _edit(client, form_id, index, **data):
    return client.post(f"/forms/manage/{form_id}/fields/{index}/edit", data=data)


def test_edit_page_is_prefilled_and_an_edit_keeps_the_key(app, form_id):
    """The edit page shows the field's current words and options; saving changes them in place under the same key, audited with before and after."""
    admin = _login(app, "admin")
    page = admin.get(f"/forms/manage/{form_id}/fields/{MARITAL}/edit").get_data(as_text=True)
    assert 'value="婚姻状况"' in page and "未婚\n已婚" in page and 'name="key" type="hidden" value="marital"' in page
    assert "发布新版本" in page and "保留原来的版本" in page and "类型不能修改" in page
    resp = _edit(admin, form_id, MARITAL, key="marital", kind="single", label="婚姻状况（现在）", help_text="按身份证",
                 options="未婚\n已婚\n离异", required="")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#field-marital")
    fields = _draft(app, form_id)
    assert fields[MARITAL] == {"key": "marital", "type": "single", "label": "婚姻状况（现在）", "help": "按身份证",
                               "required": False, "options": ["未婚", "已婚", "离异"]}
    assert [f["key"] for f in fields] == ["s1", "marital", "lawyer", "relatives", "proof", "other"]
    # The other kinds: a table's columns and the yes/no details prompt.
    assert _edit(admin, form_id, RELATIVES, key="relatives", kind="group", label="亲属从业情况",
                 columns="姓名\n关系\n职业\n工作单位").status_code == 302
    assert _edit(admin, form_id, LAWYER, key="lawyer", kind="yesno", label="亲属是否从事律师职业", required="y",
                 details_label="请写明亲属姓名和律所").status_code == 302
    fields = _draft(app, form_id)
    assert fields[RELATIVES]["columns"][3] == {"key": "c4", "label": "工作单位"}
    assert fields[LAWYER]["details_label"] == "请写明亲属姓名和律所" and fields[LAWYER]["key"] == "lawyer"
    (row, *_rest) = _audits(app, "form.field_edit")
    assert row.target_type == "form" and row.target_id == str(form_id) and row.detail == "婚姻状况（现在）"
    assert row.before["field_label"] == "婚姻状况" and row.after["options"] == ["未婚", "已婚", "离异"]
    # Saving it unchanged writes no audit row.
    _edit(admin, form_id, LAWYER, key="lawyer", kind="yesno", label="亲属是否从事律师职业", required="y",
          details_label="请写明亲属姓名和律所")
    assert len(_audits(app, "form.field_edit")) == 3


@pytest.mark.parametrize("data, message", [
    ({"kind": "single", "label": "婚姻状况", "options": "只有一个"}, "单选、多选至少需要两个不同的选项"),
    ({"kind": "single", "label": "婚姻状况", "options": "已婚\n已婚"}, "单选、多选至少需要两个不同的选项"),
    ({"kind": "single", "label": "", "options": "未婚\n已婚"}, "请填写题目"),
    ({"kind": "single", "label": "   ", "options": "未婚\n已婚"}, "请填写题目"),
    ({"kind": "single", "label": "婚姻状况", "options": "未婚\n已婚", "help_text": "长" * 501}, "不能超过 500"),
    ({"kind": "text", "label": "婚姻状况"}, "题目类型不能修改"),
    ({"kind": "nonsense", "label": "婚姻状况"}, "题目类型不能修改"),
])
def test_a36_bad_edit_changes_nothing_and_says_why(app, form_id, data, message):
    """A36: an edit the add form would refuse (one option, duplicates, no label, too long) or a type change is refused with a message, the draft unchanged and nothing audited."""
    admin = _login(app, "admin")
    before = _draft(app, form_id)
    resp = _edit(admin, form_id, MARITAL, key="marital", **data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert message in page
    assert _draft(app, form_id) == before and not _audits(app, "form.field_edit")


def test_type_change_message_is_chinese_and_names_the_way_out(app, form_id):
    """Changing a field's type is refused in Chinese, telling the office to delete it and add one of the new type."""
    resp = _edit(_login(app, "admin"), form_id, OTHER, key="other", kind="group", label="其他事项", columns="甲")
    assert "题目类型不能修改" in resp.get_data(as_text=True) and "删除此项后重新添加" in resp.get_data(as_text=True)


def test_a_stale_page_changes_nothing(app, form_id):
    """An edit, move or delete sent from a page showing another field at that position is refused, so the wrong field is never changed."""
    admin = _login(app, "admin")
    before = _draft(app, form_id)
    resp = _edit(admin, form_id, MARITAL, key="lawyer", kind="single", label="改错了", options="甲\n乙")
    assert resp.status_code == 302
    assert "已被移动或删除" in admin.get(resp.headers["Location"]).get_data(as_text=True)
    admin.post(f"/forms/manage/{form_id}/fields/{MARITAL}/move", data={"direction": "up", "key": "lawyer"})
    admin.post(f"/forms/manage/{form_id}/fields/{MARITAL}/delete", data={"key": "lawyer"})
    assert _draft(app, form_id) == before
    assert admin.get(f"/forms/manage/{form_id}/fields/99/edit").status_code == 404
    assert _edit(admin, form_id, 99, key="x", kind="text", label="x").status_code == 404


def test_move_reorders_across_sections_and_is_audited(app, form_id):
    """Down then up swaps neighbours; a question moved past a section heading lands in the other section; the ends refuse; each move is audited."""
    admin = _login(app, "admin")
    admin.post(f"/forms/manage/{form_id}/fields/{OTHER}/move", data={"direction": "up", "key": "other"})
    assert [f["key"] for f in _draft(app, form_id)] == ["s1", "marital", "lawyer", "relatives", "other", "proof"]
    admin.post(f"/forms/manage/{form_id}/fields/0/move", data={"direction": "down", "key": "s1"})
    assert [f["key"] for f in _draft(app, form_id)][:2] == ["marital", "s1"]  # 婚姻状况 now before the first section
    before = _draft(app, form_id)
    resp = admin.post(f"/forms/manage/{form_id}/fields/0/move", data={"direction": "up", "key": "marital"})
    assert "无效的位置" in admin.get(resp.headers["Location"]).get_data(as_text=True)
    admin.post(f"/forms/manage/{form_id}/fields/5/move", data={"direction": "down", "key": "proof"})
    assert _draft(app, form_id) == before
    moves = _audits(app, "form.field_move")
    assert [(m.before, m.after, m.detail) for m in moves] == [
        ({"position": 6}, {"position": 5}, "其他事项"), ({"position": 1}, {"position": 2}, "一、基本情况")]
    page = admin.get(f"/forms/manage/{form_id}").get_data(as_text=True)
    assert page.index("婚姻状况") < page.index("一、基本情况")
    log = admin.get("/admin/audit/").get_data(as_text=True).split("<tbody>", 1)[1]
    assert "移动表单题目" in log and "位置（第几项）" in log and "form.field_move" not in log


def test_a_question_moves_into_another_section_in_one_step(app, form_id):
    """The field's page offers the other sections; choosing one puts the question at that section's end in one step; an unknown section changes nothing."""
    admin = _login(app, "admin")
    admin.post(f"/forms/manage/{form_id}/fields", data={"kind": "section", "label": "二、其他"})  # f7, last
    admin.post(f"/forms/manage/{form_id}/fields", data={"kind": "text", "label": "备注"})  # f8, in 二
    page = admin.get(f"/forms/manage/{form_id}/fields/{MARITAL}/edit").get_data(as_text=True)
    assert '<option value="f7">二、其他</option>' in page and '<option value="s1">' not in page
    assert 'id="move-section"' not in admin.get(f"/forms/manage/{form_id}/fields/0/edit").get_data(as_text=True)
    before = _draft(app, form_id)
    admin.post(f"/forms/manage/{form_id}/fields/{MARITAL}/move", data={"key": "marital", "section": "nope"})
    admin.post(f"/forms/manage/{form_id}/fields/0/move", data={"key": "s1", "section": "f7"})  # a heading stays
    assert _draft(app, form_id) == before
    admin.post(f"/forms/manage/{form_id}/fields/{MARITAL}/move", data={"key": "marital", "section": "f7"})
    assert [f["key"] for f in _draft(app, form_id)] == ["s1", "lawyer", "relatives", "proof", "other", "f7", "f8",
                                                        "marital"]
    (move,) = _audits(app, "form.field_move")
    assert (move.before, move.after, move.detail) == ({"position": 2}, {"position": 8}, "婚姻状况")
    admin.post(f"/forms/manage/{form_id}/fields/7/move", data={"key": "marital", "section": "s1"})
    assert [f["key"] for f in _draft(app, form_id)][:7] == ["s1", "lawyer", "relatives", "proof", "other", "marital",
                                                             "f7"]


def test_add_and_delete_are_audited(app, form_id):
    """Adding and deleting a field write audit rows naming the field, like the other builder actions."""
    admin = _login(app, "admin")
    admin.post(f"/forms/manage/{form_id}/fields", data={"kind": "yesno", "label": "是否经商办企业",
                                                        "details_label": "写明企业名称"})
    added = _draft(app, form_id)[-1]
    assert added["details_label"] == "写明企业名称" and added["key"] == "f7"
    admin.post(f"/forms/manage/{form_id}/fields/6/delete", data={"key": "f7"})
    assert [r.detail for r in _audits(app, "form.field_add")] == ["是否经商办企业"]
    assert [r.before["field_key"] for r in _audits(app, "form.field_delete")] == ["f7"]


def test_adding_a_field_says_so_and_lands_on_the_new_field(app, form_id):
    """After 添加 the office is told it went to the end of the draft and the page opens at the new field, not at the top of the list."""
    admin = _login(app, "admin")
    resp = admin.post(f"/forms/manage/{form_id}/fields", data={"kind": "text", "label": "备注"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#field-f7")
    assert "已添加到草稿末尾" in admin.get(resp.headers["Location"].split("#")[0]).get_data(as_text=True)


def _own(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        sub = db.session.scalar(select(FormSubmission).where(FormSubmission.user_id == user.id))
        return sub.id, sub.version.number, access.own_answers(user, sub)


def test_publishing_an_edit_makes_a_new_version_and_old_answers_keep_theirs(app, form_id):
    """After an edit the draft differs (badge on the list and the page); publishing makes version 2; the answer submitted on version 1 still shows under version 1's wording; a new filler gets version 2 under the same key."""
    officer = _login(app, "officer")
    officer.post(f"/forms/{form_id}", data={"f_marital": "已婚", "f_lawyer": "no", "f_other": "按第一版填写",
                                            "action": "submit"})
    admin = _login(app, "admin")
    assert "草稿有未发布的修改" not in admin.get("/forms/manage/").get_data(as_text=True)
    _edit(admin, form_id, OTHER, key="other", kind="textarea", label="其他需要向组织说明的事项")
    assert "草稿有未发布的修改" in admin.get("/forms/manage/").get_data(as_text=True)
    assert 'id="draft-differs"' in admin.get(f"/forms/manage/{form_id}").get_data(as_text=True)
    assert admin.post(f"/forms/manage/{form_id}/publish").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(FormVersion.id)).where(FormVersion.form_id == form_id)) == 2
    assert "草稿有未发布的修改" not in admin.get("/forms/manage/").get_data(as_text=True)
    assert "与第 2 版相同" in admin.get(f"/forms/manage/{form_id}").get_data(as_text=True)
    sub_id, number, answers = _own(app, "officer")
    assert number == 1 and answers["other"] == "按第一版填写"
    page = officer.get(f"/forms/submissions/{sub_id}").get_data(as_text=True)
    assert "其他事项" in page and "其他需要向组织说明的事项" not in page and "按第一版填写" in page
    second = _login(app, "officer2")
    assert "其他需要向组织说明的事项" in second.get(f"/forms/{form_id}").get_data(as_text=True)
    second.post(f"/forms/{form_id}/autosave", data={"f_other": "按第二版填写"})
    _sid, number, answers = _own(app, "officer2")
    assert number == 2 and answers["other"] == "按第二版填写"


@pytest.mark.parametrize("username", ["officer", "supervisor", "leader", "inspector"])
def test_a14_only_the_office_edits_and_moves_fields(app, form_id, username):
    """A14: every other role gets 403 from the edit page, the edit, the move and the delete, and the draft stays as it was."""
    client = _login(app, username)
    before = _draft(app, form_id)
    assert client.get(f"/forms/manage/{form_id}/fields/{MARITAL}/edit").status_code == 403
    assert _edit(client, form_id, MARITAL, key="marital", kind="single", label="改", options="甲\n乙").status_code == 403
    assert client.post(f"/forms/manage/{form_id}/fields/{MARITAL}/move", data={"direction": "up"}).status_code == 403
    assert client.post(f"/forms/manage/{form_id}/fields/{MARITAL}/delete").status_code == 403
    assert _draft(app, form_id) == before


class TestCsrf:
    """This class runs with CSRF on."""

    @pytest.fixture
    def app(self, make_app):
        return make_app(WTF_CSRF_ENABLED=True)

    def test_a18_edit_and_move_need_the_token(self, app, form_id):
        """A18: an edit or a move without the CSRF token is refused (400) and changes nothing; with it both work."""
        client = app.test_client()
        token = csrf_of(client, "/login")
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        before = _draft(app, form_id)
        edit = {"key": "marital", "kind": "single", "label": "改过的", "options": "甲\n乙"}
        assert _edit(client, form_id, MARITAL, **edit).status_code == 400
        move = {"direction": "up", "key": "marital"}
        assert client.post(f"/forms/manage/{form_id}/fields/{MARITAL}/move", data=move).status_code == 400
        assert _draft(app, form_id) == before
        token = csrf_of(client, f"/forms/manage/{form_id}")
        assert _edit(client, form_id, MARITAL, csrf_token=token, **edit).status_code == 302
        assert client.post(f"/forms/manage/{form_id}/fields/{MARITAL}/move",
                           data={**move, "csrf_token": token}).status_code == 302
        assert [f["label"] for f in _draft(app, form_id)][:2] == ["改过的", "一、基本情况"]
