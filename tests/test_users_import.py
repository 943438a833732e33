"""Accounts at scale: Excel import from the CLI and the admin page (issue #2 item 6, issue #16 point 3).

The admin page previews first and changes nothing until the admin confirms; existing accounts
change only with an explicit choice (the preview's checkbox, the CLI's --update); the
template's sample row is fake and ignored; new accounts' passwords download once.
"""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, inspect, select

from app.db import db
from app.models import AuditLog, User

HEADER = ["警号", "姓名", "单位编码", "角色", "手机号"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def codes(app, city):
    from app.models import Unit

    with app.app_context():
        return {u.id: u.code for u in db.session.scalars(select(Unit))}


@pytest.fixture
def admin(client, auth, city):
    assert auth.login(client, "admin").status_code == 302
    return client


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def users_table(app) -> dict:
    """Every column of every account, by badge number (or username): the 'unchanged' check."""
    with app.app_context():
        columns = [c.key for c in inspect(User).column_attrs]
        return {u.badge_no or u.username: tuple(getattr(u, c) for c in columns)
                for u in db.session.scalars(select(User))}


def get_user(app, badge: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.badge_no == badge))
        db.session.expunge_all()
        return user


def upload(client, data: bytes, **form):
    return client.post("/admin/users/import", data={"file": (io.BytesIO(data), "p.xlsx"), **form},
                       content_type="multipart/form-data")


def token_of(resp) -> str:
    match = re.search(r'name="token" value="([^"]+)"', resp.get_data(as_text=True))
    assert match, "no confirm form on the page"
    return match.group(1)


def confirm(client, token: str, update_existing: bool = False):
    data = {"step": "confirm", "token": token}
    if update_existing:
        data["update_existing"] = "1"
    return client.post("/admin/users/import", data=data)


def set_name(app, badge: str, name: str) -> None:
    with app.app_context():
        db.session.scalar(select(User).where(User.badge_no == badge)).name = name
        db.session.commit()


# --- the CLI ----------------------------------------------------------------------------------

def test_import_bad_rows_named_and_nothing_imported(app, runner, codes, city, tmp_path):
    """A bad row is reported with its row number and reason, and nothing is imported."""
    a1 = codes[city.station_a1]
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook([
        ["140100001", "张三", a1, "干警", "13800000000"],
        ["140100002", "", a1, "干警", None],          # row 3: no name
        ["140100003", "王五", "NOPE", "干警", None],   # row 4: unknown unit
        ["140100001", "赵六", a1, "队长", "123"],      # row 5: duplicate badge, bad role, bad phone
    ]))
    before = user_count(app)
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code != 0
    out = result.output
    assert "row 3" in out and "姓名" in out
    assert "row 4" in out and "NOPE" in out
    assert "row 5" in out and "第 2 行重复" in out and "角色" in out and "手机号" in out
    assert "row 2:" not in out
    assert user_count(app) == before


def test_cli_skip_invalid_creates_and_writes_passwords(app, runner, codes, city, tmp_path):
    """--skip-invalid imports the good rows and writes 账号, 姓名, 单位, 初始密码 of the new accounts."""
    a1 = codes[city.station_a1]
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook([["140100001", "张三", a1, "干警", None], ["bad!", "李四", a1, "干警", None]]))
    result = runner.invoke(args=["users", "import", str(path), "--skip-invalid",
                                 "--passwords-out", str(tmp_path / "pw.xlsx")])
    assert result.exit_code == 0, result.output
    assert "preview: new 1, changed 0" in result.output
    assert "created 1, updated 0" in result.output and "skipped 1 bad row(s)" in result.output
    creds = load_workbook(tmp_path / "pw.xlsx").active
    assert [c.value for c in creds[1]] == ["账号", "姓名", "单位", "初始密码"]
    assert [c.value for c in creds[2]][:3] == ["140100001", "张三", "甲一所"] and len(creds.cell(2, 4).value) == 16
    assert get_user(app, "140100001").must_change_password


def test_cli_without_update_leaves_existing_accounts(app, runner, codes, city, tmp_path):
    """Without --update the CLI reports a changed existing account as skipped (use --update) and leaves it untouched, still creating new ones."""
    b1 = codes[city.station_b1]
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook([["B1004", "改名", b1, "单位管理员", None], ["140100009", "新人", b1, "干警", None]]))
    before = users_table(app)
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "B1004: name officer -> 改名" in result.output and "skipped (use --update)" in result.output
    assert "created 1, updated 0" in result.output and "skipped 1 existing (use --update)" in result.output
    after = users_table(app)
    assert after.pop("140100009")[2:4] == ("140100009", "新人")
    assert after == before


def test_cli_update_changes_existing_accounts(app, runner, codes, city, tmp_path):
    """With --update the CLI changes name, unit and role by badge number, never duplicating, and audits each account."""
    b1 = codes[city.station_b1]
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook([["B1004", "张三丰", b1, "单位管理员", None]]))
    dry = runner.invoke(args=["users", "import", str(path), "--update", "--dry-run"])
    assert "will update" in dry.output and get_user(app, "B1004").name == "officer"
    result = runner.invoke(args=["users", "import", str(path), "--update"])
    assert result.exit_code == 0, result.output
    assert "created 0, updated 1" in result.output
    with app.app_context():
        users = db.session.scalars(select(User).where(User.badge_no == "B1004")).all()
        assert len(users) == 1
        assert (users[0].name, users[0].unit_id, users[0].role) == ("张三丰", city.station_b1, "supervisor")
        assert users[0].phone is None
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
        assert row.actor_name == "cli" and row.before["name"] == "officer" and row.after["name"] == "张三丰"


def test_import_not_a_workbook(app, runner, tmp_path):
    """A file that is not an Excel workbook gets a clear message and changes nothing."""
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"<html><script>alert(1)</script></html>")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code != 0 and "不是有效的 Excel" in result.output


def test_import_wrong_header(app, runner, tmp_path, city):
    """A sheet whose header is not the template's is refused with the expected header."""
    path = tmp_path / "p.xlsx"
    path.write_bytes(workbook([["1", "2", "3", "4", "5"]], header=["a", "b", "c", "d", "e"]))
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code != 0 and "表头应为" in result.output


def test_full_width_digits_in_a_phone_are_refused(app, runner, admin, codes, city, tmp_path):
    """A phone with a full-width or Arabic-Indic digit, or one digit too many, is a bad row on the page and the CLI (the form's rule)."""
    a1 = codes[city.station_a1]
    phones = ["1380013800０", "١٣٨٠٠١٣٨٠٠٠", "１３８００１３８０００", "138001380001"]
    data = workbook([[f"14010010{i}", "王五", a1, "干警", phone] for i, phone in enumerate(phones)])
    before = users_table(app)
    resp = upload(admin, data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and body.count("手机号应为 11 位数字") == len(phones)
    path = tmp_path / "p.xlsx"
    path.write_bytes(data)
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code != 0 and result.output.count("手机号应为 11 位数字") == len(phones)
    assert users_table(app) == before


# --- the admin page: preview, confirm, passwords ----------------------------------------------

def test_template_plus_one_new_row_changes_no_existing_account(app, admin, codes, city):
    """The unmodified template plus one new row previews 1 new account with the sample row ignored, and after confirming no existing account changed."""
    with app.app_context():  # the officer whom the old template's sample row renamed
        from app.models import Unit

        unit = db.session.scalar(select(Unit).where(Unit.id == city.station_a1))
        db.session.add(User(username="140100001", badge_no="140100001", name="王建国", unit_id=unit.id,
                            role="officer", password_hash="!"))
        db.session.commit()
    wb = load_workbook(io.BytesIO(admin.get("/admin/users/import/template.xlsx").data))
    wb.active.append(["140100555", "李新", codes[city.station_a2], "干警", "13912345678"])
    wb.active.append(["140100001", "张三", "TY-GA-XD-01", "干警", "13800000000"])  # the old template's sample
    buf = io.BytesIO()
    wb.save(buf)
    before = users_table(app)
    resp = upload(admin, buf.getvalue())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "新建账号（1 人）" in body and "140100555" in body and "李新" in body
    assert "已有账号的变化" not in body and "张三" not in body
    assert "第 2、3、5 行" in body  # sample, note and the old sample row: ignored
    assert users_table(app) == before  # the preview wrote nothing
    resp = confirm(admin, token_of(resp), update_existing=True)
    assert resp.status_code == 200 and "新建 1 人，更新 0 人" in resp.get_data(as_text=True)
    after = users_table(app)
    new = after.pop("140100555")
    assert after == before
    assert new[2:5] == ("140100555", "李新", city.station_a2)
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-2:] == ["user.create", "user.import"]


def test_changed_name_previewed_and_applied_only_with_checkbox(app, admin, codes, city):
    """A changed name and unit show old → new in the preview; a confirm without the checkbox leaves the account, with it applies the change."""
    a1, b1 = codes[city.station_a1], codes[city.station_b1]
    data = workbook([["B1004", "张三", b1, "干警", None], ["B1005", "officer2", a1, "干警", None]])
    resp = upload(admin, data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "已有账号的变化（1 人）" in body and "已有账号无变化（1 人）" in body
    assert re.search(r"姓名：<del>officer</del> → <strong>张三</strong>", body)
    assert "单位：<del>甲一所</del> → <strong>乙一所</strong>" in body
    assert 'name="update_existing"' in body and "checked" not in body.split('name="update_existing"')[1][:40]
    token = token_of(resp)
    before = users_table(app)
    resp = confirm(admin, token)
    assert resp.status_code == 200 and "1 个已有账号的变化未勾选更新，保持不变" in resp.get_data(as_text=True)
    assert users_table(app) == before
    resp = confirm(admin, token_of(upload(admin, data)), update_existing=True)
    assert resp.status_code == 200 and "更新 1 人" in resp.get_data(as_text=True)
    user = get_user(app, "B1004")
    assert (user.name, user.unit_id) == ("张三", city.station_b1)
    with app.app_context():
        row = db.session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
        assert row.before["name"] == "officer" and row.after["unit_id"] == city.station_b1


def test_unit_name_held_twice_is_shown_with_its_code(app, admin, city):
    """Where two units share a name, the preview names the unit with its code, so a move between them shows."""
    from app.models import Unit
    from tests.factories import make_unit

    with app.app_context():
        make_unit(db.session, "甲一所", db.session.get(Unit, city.branch_b), code="B-JIA1")
        old_code = db.session.get(Unit, city.station_a1).code
        db.session.commit()
    body = upload(admin, workbook([["B1004", "officer", "B-JIA1", "干警", None]])).get_data(as_text=True)
    assert f"单位：<del>甲一所（{old_code}）</del> → <strong>甲一所（B-JIA1）</strong>" in body


def test_confirm_refused_when_data_changed_since_preview(app, admin, codes, city):
    """A confirm is refused (409, nothing written) when an account in the file changed after the preview, and a forged or other admin's token is refused."""
    data = workbook([["B1004", "张三", codes[city.station_a1], "干警", None],
                     ["140100777", "新人", codes[city.station_a1], "干警", None]])
    token = token_of(upload(admin, data))
    set_name(app, "B1004", "李四")  # someone edits the officer in between
    before = users_table(app)
    resp = confirm(admin, token, update_existing=True)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "预览之后人员数据已有变化" in body
    assert "<del>李四</del>" in body  # the fresh preview shows the current state
    assert users_table(app) == before
    assert confirm(admin, token[:-3] + "AAA").status_code == 400
    assert users_table(app) == before
    fresh = token_of(resp)
    assert confirm(admin, fresh).status_code == 200
    assert confirm(admin, fresh).status_code == 409  # a second click: the new account exists now
    assert get_user(app, "B1004").name == "李四"


def test_passwords_download_once_with_no_store(app, admin, codes, city, clock):
    """The new accounts' passwords download once as .xlsx (账号, 姓名, 单位, 初始密码) with no-store; a second download is 410; the password signs in and must be changed."""
    resp = confirm(admin, token_of(upload(admin, workbook([["140100888", "赵新", codes[city.station_a1], "", None]]))))
    assert resp.status_code == 200
    assert get_user(app, "140100888").password_hash == "!"  # no password exists before the download
    pw_token = token_of(resp)
    resp = admin.post("/admin/users/import", data={"step": "passwords", "token": pw_token})
    assert resp.status_code == 200 and resp.mimetype == XLSX
    assert "no-store" in resp.headers["Cache-Control"] and "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[1]] == ["账号", "姓名", "单位", "初始密码"]
    account, name, unit, password = (c.value for c in ws[2])
    assert (account, name, unit) == ("140100888", "赵新", "甲一所")
    again = admin.post("/admin/users/import", data={"step": "passwords", "token": pw_token})
    assert again.status_code == 410
    officer = app.test_client()
    assert officer.post("/login", data={"username": account, "password": password}).status_code == 302
    assert get_user(app, "140100888").must_change_password


def test_admin_upload_bad_rows_change_nothing(app, admin, codes, city):
    """The preview lists every bad row with its number and offers no confirm; nothing is imported."""
    data = workbook([["140100001", "张三", codes[city.station_a1], "干警", None],
                     ["140100002", "李四", "NOPE", "干警", None]])
    before = user_count(app)
    resp = upload(admin, data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "本次不能导入" in body and "NOPE" in body and 'name="token"' not in body
    assert user_count(app) == before
    resp = upload(admin, data, skip_invalid="y")
    assert resp.status_code == 200 and "这些行将被跳过" in resp.get_data(as_text=True)
    assert confirm(admin, token_of(resp)).status_code == 200
    assert user_count(app) == before + 1


def test_admin_cannot_demote_self_by_import(app, admin, codes, city):
    """A row that would take the importing admin's own admin role away is a bad row."""
    with app.app_context():
        db.session.get(User, city.users["admin"]).badge_no = "ADM001"
        db.session.commit()
    resp = upload(admin, workbook([["ADM001", "管理员", codes[city.root], "干警", None]]))
    assert resp.status_code == 422 and "不能通过导入取消自己的管理员角色" in resp.get_data(as_text=True)


def test_admin_upload_wrong_extension(app, admin, city):
    """Only .xlsx files are accepted by the upload form."""
    resp = admin.post("/admin/users/import", data={"file": (io.BytesIO(b"x"), "p.html")},
                      content_type="multipart/form-data")
    assert resp.status_code == 400 and "只能上传 .xlsx" in resp.get_data(as_text=True)


def test_template_sample_row_is_fake(admin):
    """The template has the expected header, a sample row marked 示例 and a note row."""
    resp = admin.get("/admin/users/import/template.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[1]] == HEADER
    assert ws["A2"].value == "示例" and ws["B2"].value.startswith("示例")
    assert ws["A3"].value.startswith("说明") and "不会导入" in ws["A3"].value


def test_a25_credentials_sheet_neutralises_formulas():
    """A25: a name starting with = is written as text, not as a formula."""
    from app.admin.imports import credentials_workbook

    ws = load_workbook(io.BytesIO(credentials_workbook([("1234", "=HYPERLINK(\"x\")", "甲一所", "pw")]))).active
    assert ws.cell(2, 2).value.startswith("'=")
