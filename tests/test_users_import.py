"""Accounts at scale: Excel import from the CLI and the admin page (issue #2 item 6)."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.db import db
from app.models import AuditLog, User

HEADER = ["警号", "姓名", "单位编码", "角色", "手机号"]


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


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


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
    assert "row 2" not in out
    assert user_count(app) == before


def test_import_skip_invalid_and_reimport_updates(app, runner, codes, city, tmp_path):
    """--skip-invalid imports the good rows; importing again updates by badge number, never duplicates."""
    a1, b1 = codes[city.station_a1], codes[city.station_b1]
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook([["140100001", "张三", a1, "干警", None], ["bad!", "李四", a1, "干警", None]]))
    result = runner.invoke(args=["users", "import", str(path), "--skip-invalid",
                                 "--passwords-out", str(tmp_path / "pw.xlsx")])
    assert result.exit_code == 0, result.output
    assert "created 1" in result.output and "skipped 1" in result.output
    creds = load_workbook(tmp_path / "pw.xlsx").active
    assert creds.cell(2, 1).value == "140100001" and len(creds.cell(2, 3).value) == 16
    path.write_bytes(workbook([["140100001", "张三丰", b1, "单位管理员", None]]))
    result = runner.invoke(args=["users", "import", str(path)])
    assert "created 0, updated 1" in result.output
    with app.app_context():
        users = db.session.scalars(select(User).where(User.badge_no == "140100001")).all()
        assert len(users) == 1
        assert users[0].name == "张三丰" and users[0].unit_id == city.station_b1 and users[0].role == "supervisor"
        assert users[0].must_change_password


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


def test_admin_upload_bad_rows_change_nothing(app, client, auth, codes, city):
    """The admin upload lists every bad row and imports nothing."""
    auth.login(client, "admin")
    data = workbook([["140100001", "张三", codes[city.station_a1], "干警", None],
                     ["140100002", "李四", "NOPE", "干警", None]])
    before = user_count(app)
    resp = client.post("/admin/users/import", data={"file": (io.BytesIO(data), "p.xlsx")},
                       content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "本次没有导入任何人员" in body and "NOPE" in body
    assert user_count(app) == before


def test_admin_upload_imports_and_shows_passwords_once(app, client, auth, codes, city):
    """A good upload creates the accounts, shows their initial passwords and writes an audit row."""
    auth.login(client, "admin")
    data = workbook([["140100001", "张三", codes[city.station_a1], "干警", "13800000000"]])
    resp = client.post("/admin/users/import", data={"file": (io.BytesIO(data), "p.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and "新建 1 人" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "user.import")) == 1


def test_admin_upload_wrong_extension(app, client, auth, city):
    """Only .xlsx files are accepted by the upload form."""
    auth.login(client, "admin")
    resp = client.post("/admin/users/import", data={"file": (io.BytesIO(b"x"), "p.html")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and "只能上传 .xlsx" in resp.get_data(as_text=True)


def test_template_download(client, auth, city):
    """The import template downloads with the expected header."""
    auth.login(client, "admin")
    resp = client.get("/admin/users/import/template.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[1]] == HEADER


def test_a25_credentials_sheet_neutralises_formulas():
    """A25: a name starting with = is written as text, not as a formula."""
    from app.admin.imports import credentials_workbook

    ws = load_workbook(io.BytesIO(credentials_workbook([("1234", "=HYPERLINK(\"x\")", "pw")]))).active
    assert ws.cell(2, 2).value.startswith("'=")
