"""Account import from Excel: parse and validate the whole sheet before anything is written.

Template columns (row 1 headers, data from row 2): 警号, 姓名, 单位编码, 角色, 手机号.
Every bad row is reported with its row number and reason; the caller imports nothing when any
row is bad unless it asked to skip them (issue #2, QUALITY "no import row lost silently").
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Unit, User
from ..xlsx import safe_cell

HEADERS = ["警号", "姓名", "单位编码", "角色", "手机号"]
ROLE_ALIASES = {
    "officer": "officer", "干警": "officer", "民警": "officer", "辅警": "officer",
    "supervisor": "supervisor", "单位管理员": "supervisor", "管理员": "supervisor",
    "leader": "leader", "领导": "leader",
    "admin": "admin", "教育整顿办": "admin", "系统管理员": "admin",
}
BADGE_RE = re.compile(r"^[A-Za-z0-9]{4,20}$")
PHONE_RE = re.compile(r"^1\d{10}$")


@dataclass
class ImportRow:
    row: int
    badge_no: str
    name: str
    unit_code: str
    role: str
    phone: str | None


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_workbook(data: bytes, session: Session, max_rows: int = 20000) -> ImportReport:
    """Read and check every row; never writes. Raises nothing for bad content: it is reported."""
    report = ImportReport()
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        report.errors.append((0, _("文件不是有效的 Excel 工作簿（.xlsx）。")))
        return report
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, [])]
    if header[: len(HEADERS)] != HEADERS:
        report.errors.append((1, _("表头应为：%(h)s。请下载模板填写。", h="、".join(HEADERS))))
        return report

    units = {code: uid for code, uid in session.execute(select(Unit.code, Unit.id))}
    seen: dict[str, int] = {}
    for number, values in enumerate(rows, start=2):
        values = list(values or []) + [None] * len(HEADERS)
        badge, name, unit_code, role_raw, phone = (_cell(v) for v in values[: len(HEADERS)])
        if not any((badge, name, unit_code, role_raw, phone)):
            continue
        if number - 1 > max_rows:
            report.errors.append((number, _("一次最多导入 %(n)d 行。", n=max_rows)))
            break
        problems = []
        if not BADGE_RE.match(badge):
            problems.append(_("警号应为 4–20 位字母或数字"))
        elif badge in seen:
            problems.append(_("警号与第 %(r)d 行重复", r=seen[badge]))
        if not name or len(name) > 32:
            problems.append(_("姓名不能为空且不超过 32 个字"))
        if unit_code not in units:
            problems.append(_("单位编码“%(c)s”不存在", c=unit_code))
        role = ROLE_ALIASES.get(role_raw or "干警")
        if role is None:
            problems.append(_("角色“%(r)s”无效（可填：干警、单位管理员、领导）", r=role_raw))
        if phone and not PHONE_RE.match(phone):
            problems.append(_("手机号应为 11 位数字"))
        if problems:
            report.errors.append((number, "；".join(problems)))
        else:
            seen[badge] = number
            report.rows.append(ImportRow(number, badge, name, unit_code, role, phone or None))
    return report


def template_workbook() -> bytes:
    """The downloadable template, with one example row and notes."""
    wb = Workbook()
    ws = wb.active
    ws.title = "人员导入"
    ws.append(HEADERS)
    ws.append(["140100001", "张三", "TY-GA-XD-01", "干警", "13800000000"])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1A3A6B")
        cell.alignment = Alignment(horizontal="center")
    for col, width in zip("ABCDE", (14, 10, 16, 12, 14)):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("填写说明")
    for line in (
        "警号：4–20 位字母或数字，作为登录账号；重复导入同一警号会更新该人员信息。",
        "单位编码：见管理后台“单位”页面。",
        "角色：干警、单位管理员、领导（留空为干警）。",
        "手机号：可留空。",
        "新账号会生成随机初始密码，首次登录必须修改。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def apply_import(session: Session, report: ImportReport, issue_password) -> tuple[int, int, list[tuple[str, str, str]]]:
    """Create or update the valid rows; returns (created, updated, [(badge, name, password)]).

    ``issue_password(user)`` sets a random initial password and returns it. Accounts are
    matched by badge number, so a second import updates instead of duplicating. Flushes only.
    """
    units = {code: uid for code, uid in session.execute(select(Unit.code, Unit.id))}
    existing = {u.badge_no: u for u in session.scalars(
        select(User).where(User.badge_no.in_([r.badge_no for r in report.rows])))} if report.rows else {}
    created = updated = 0
    credentials = []
    for r in report.rows:
        user = existing.get(r.badge_no)
        if user is None:
            user = User(username=r.badge_no, badge_no=r.badge_no, name=r.name, unit_id=units[r.unit_code],
                        role=r.role, phone=r.phone, password_hash="!")
            session.add(user)
            session.flush()
            credentials.append((r.badge_no, r.name, issue_password(user)))
            created += 1
        else:
            user.name, user.unit_id, user.role, user.phone = r.name, units[r.unit_code], r.role, r.phone
            updated += 1
    session.flush()
    return created, updated, credentials


def credentials_workbook(credentials: list[tuple[str, str, str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "初始密码"
    ws.append(["警号", "姓名", "初始密码"])
    for row in credentials:
        ws.append([safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
