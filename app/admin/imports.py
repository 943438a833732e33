"""Account import from Excel: parse and check the whole sheet, then plan it against the database.

Template columns (row 1 headers, data from row 2): 警号, 姓名, 单位编码, 角色, 手机号.
Nothing here writes. ``parse_workbook`` reports every bad row with its number and reason (issue
#2); ``build_plan`` sorts the good rows into new accounts, existing accounts that would change
(each field old → new) and unchanged ones (issue #16). The admin page shows that plan and applies
it only when the admin confirms; the confirm carries the checked rows back in a signed token
(``preview_token``) and is refused when the plan computed again from them differs from the one
shown (``PreviewToken.digest``), so what is applied is exactly what was previewed.

The template's sample row is fake (警号 ``示例``) and, with the note row below it, ignored.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import lzma
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Unit, User
from ..xlsx import safe_cell
from .forms import BADGE_RULE, PHONE_RULE

HEADERS = ["警号", "姓名", "单位编码", "角色", "手机号"]
ROLE_ALIASES = {
    "officer": "officer", "干警": "officer", "民警": "officer", "辅警": "officer",
    "supervisor": "supervisor", "单位管理员": "supervisor", "管理员": "supervisor",
    "leader": "leader", "领导": "leader",
    "admin": "admin", "教育整顿办": "admin", "系统管理员": "admin",
    "inspector": "inspector", "纪检督察": "inspector", "纪检": "inspector",
}
#: A row whose 警号 or 姓名 starts with this is the template's sample and is never imported; a
#: row whose 警号 starts with NOTE_MARK is the template's note. Neither can be a real account
#: (a badge number is ASCII letters and digits), so ignoring them loses nothing.
SAMPLE_MARK = "示例"
NOTE_MARK = "说明"
SAMPLE_ROW = ["示例", "示例：张三", "TY-GA-XD-01", "干警", "13800000000"]
#: The sample row of templates downloaded before issue #16: a real badge number. Ignored too, so
#: an old template filled in and uploaded again cannot rename officer 140100001 to 张三.
LEGACY_SAMPLE_ROW = ("140100001", "张三", "TY-GA-XD-01", "干警", "13800000000")
#: Fields an import sets on an existing account, in display order.
FIELDS = ("name", "unit", "role", "phone")
#: How long a preview may be confirmed, and the passwords of its new accounts downloaded.
PREVIEW_MAX_AGE = 30 * 60
PASSWORDS_MAX_AGE = 30 * 60


@dataclass(frozen=True)
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
    ignored: list[int] = field(default_factory=list)  # the template's sample and note rows
    fatal: bool = False  # not a workbook, or not the template's header: no row was read


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_template_row(badge: str, name: str, values: tuple) -> bool:
    return (badge.startswith((SAMPLE_MARK, NOTE_MARK)) or name.startswith(SAMPLE_MARK)
            or values == LEGACY_SAMPLE_ROW)


def parse_workbook(data: bytes, session: Session, max_rows: int = 20000) -> ImportReport:
    """Read and check every row; never writes. Raises nothing for bad content: it is reported."""
    report = ImportReport()
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        report.errors.append((0, _("文件不是有效的 Excel 工作簿（.xlsx）。")))
        report.fatal = True
        return report
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, [])]
    if header[: len(HEADERS)] != HEADERS:
        report.errors.append((1, _("表头应为：%(h)s。请下载模板填写。", h="、".join(HEADERS))))
        report.fatal = True
        return report

    units = set(session.scalars(select(Unit.code)))
    seen: dict[str, int] = {}
    for number, values in enumerate(rows, start=2):
        values = list(values or []) + [None] * len(HEADERS)
        cells = tuple(_cell(v) for v in values[: len(HEADERS)])
        badge, name, unit_code, role_raw, phone = cells
        if not any(cells):
            continue
        if number - 1 > max_rows:
            report.errors.append((number, _("一次最多导入 %(n)d 行。", n=max_rows)))
            break
        if _is_template_row(badge, name, cells):
            report.ignored.append(number)
            continue
        problems = []
        if not BADGE_RULE.regex.fullmatch(badge):
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
        if phone and not PHONE_RULE.regex.fullmatch(phone):
            problems.append(_("手机号应为 11 位数字"))
        if problems:
            report.errors.append((number, "；".join(problems)))
        else:
            seen[badge] = number
            report.rows.append(ImportRow(number, badge, name, unit_code, role, phone or None))
    return report


# --- the plan: what confirming would do -------------------------------------------------------

@dataclass(frozen=True)
class FieldChange:
    field: str  # one of FIELDS; a unit is given by id, a role by code
    old: str | int | None
    new: str | int | None


@dataclass(frozen=True)
class PlannedUpdate:
    row: ImportRow
    user_id: int
    changes: tuple[FieldChange, ...]


@dataclass
class ImportPlan:
    """New accounts, existing ones that would change, unchanged ones, and bad rows.

    ``digest`` fingerprints everything a confirm would do: it differs as soon as an account the
    file matches has changed, an account with one of its badge numbers appeared, or a unit it
    names is gone.
    """

    new: list[ImportRow]
    changed: list[PlannedUpdate]
    unchanged: list[ImportRow]
    errors: list[tuple[int, str]]
    ignored: list[int]
    units: dict[int, tuple[str, str]]  # id -> (name, code) of every unit
    unit_ids: dict[str, int]  # code -> id
    repeated_names: set[str] = field(default_factory=set)  # unit names that more than one unit has

    @property
    def digest(self) -> str:
        content = [
            [[r.badge_no, r.name, self.unit_ids[r.unit_code], r.role, r.phone] for r in self.new],
            [[u.user_id, u.row.badge_no, [[c.field, c.old, c.new] for c in u.changes]] for u in self.changed],
            [r.badge_no for r in self.unchanged],
            [row for row, _reason in self.errors],  # numbers only: the wording follows the locale
        ]
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()

    def unit_label(self, unit_id: int | None) -> str:
        """The unit's name, with its code where another unit has the same name."""
        name, code = self.units.get(unit_id, ("", ""))
        return f"{name}（{code}）" if name in self.repeated_names else name

    def importable(self, skip_invalid: bool) -> bool:
        """Something to do, and no bad row unless the admin chose to skip them."""
        return bool(self.new or self.changed) and (not self.errors or skip_invalid)


def _in_chunks(values: list, size: int = 5000):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def build_plan(session: Session, report: ImportReport, actor_id: int | None = None) -> ImportPlan:
    """Match the good rows to accounts by badge number; never writes.

    A blank 手机号 keeps an existing account's phone. ``actor_id`` (the admin importing) may not
    take away their own admin role through the file, as on the edit page.
    """
    units = {u.code: u for u in session.scalars(select(Unit))}
    badges = [r.badge_no for r in report.rows]
    by_badge: dict[str, User] = {}
    taken: dict[str, int] = {}  # username -> id, for badges that are someone else's login name
    for chunk in _in_chunks(badges):
        by_badge.update((u.badge_no, u) for u in session.scalars(select(User).where(User.badge_no.in_(chunk))))
        taken.update(session.execute(select(User.username, User.id).where(User.username.in_(chunk))).all())
    plan = ImportPlan([], [], [], list(report.errors), list(report.ignored), {}, {})
    plan.units = {u.id: (u.name, u.code) for u in units.values()}
    plan.unit_ids = {code: u.id for code, u in units.items()}
    plan.repeated_names = {n for n, count in Counter(u.name for u in units.values()).items() if count > 1}
    for r in report.rows:
        unit = units.get(r.unit_code)
        user = by_badge.get(r.badge_no)
        if unit is None:
            plan.errors.append((r.row, _("单位编码“%(c)s”不存在", c=r.unit_code)))
        elif user is None and r.badge_no in taken:
            plan.errors.append((r.row, _("账号“%(u)s”已被其他人员使用", u=r.badge_no)))
        elif user is None:
            plan.new.append(r)
        elif user.id == actor_id and r.role != "admin":
            plan.errors.append((r.row, _("不能通过导入取消自己的管理员角色")))
        else:
            wanted = {"name": r.name, "unit": unit.id, "role": r.role, "phone": r.phone or user.phone}
            current = {"name": user.name, "unit": user.unit_id, "role": user.role, "phone": user.phone}
            changes = tuple(FieldChange(f, current[f], wanted[f]) for f in FIELDS if current[f] != wanted[f])
            if changes:
                plan.changed.append(PlannedUpdate(r, user.id, changes))
            else:
                plan.unchanged.append(r)
    plan.errors.sort(key=lambda e: e[0])
    return plan


# --- the preview token: the checked rows, signed, carried by the confirm form ------------------

class PreviewExpired(ValueError):
    """The token is forged, too old, or another admin's."""


@dataclass(frozen=True)
class PreviewToken:
    report: ImportReport  # the good rows, the bad ones with their reasons, the ignored ones
    filename: str
    skip_invalid: bool  # the admin chose to leave bad rows out
    digest: str  # ImportPlan.digest at preview time


def _signer(purpose: str) -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt=f"admin.user-import.{purpose}")


def _pack(payload: dict) -> bytes:
    # Column by column and LZMA: 20,000 rows with random phone numbers stay near 250 KB, half
    # of the form-field limit (MAX_FORM_MEMORY_SIZE, 500 KB).
    return base64.urlsafe_b64encode(lzma.compress(json.dumps(payload, ensure_ascii=False).encode()))


def _unpack(purpose: str, token: str, max_age: int) -> dict:
    try:
        packed = _signer(purpose).unsign(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        raise PreviewExpired from None
    return json.loads(lzma.decompress(base64.urlsafe_b64decode(packed)))  # signed: ours, not a bomb


def preview_token(plan: ImportPlan, report: ImportReport, *, actor_id: int, filename: str,
                  skip_invalid: bool) -> str:
    """The rows of ``report`` and the plan's digest, signed with SECRET_KEY for ``actor_id``.

    Every worker on every host can check it (they share SECRET_KEY) and nothing is stored; a
    changed row breaks the signature, a changed database changes the digest."""
    columns = [list(col) for col in zip(*[(r.row, r.badge_no, r.name, r.unit_code, r.role, r.phone)
                                          for r in report.rows])] or [[]] * 6
    payload = {"a": actor_id, "f": filename[:64], "i": report.ignored,
               "e": report.errors, "k": skip_invalid, "d": plan.digest, "c": columns}
    return _signer("preview").sign(_pack(payload)).decode()


def load_preview(token: str, actor_id: int) -> PreviewToken:
    payload = _unpack("preview", token, PREVIEW_MAX_AGE)
    if payload.get("a") != actor_id:
        raise PreviewExpired
    rows = [ImportRow(*values) for values in zip(*payload["c"])]
    report = ImportReport(rows=rows, errors=[tuple(e) for e in payload["e"]], ignored=payload["i"])
    return PreviewToken(report, payload["f"], payload["k"], payload["d"])


def passwords_token(user_ids: list[int], *, actor_id: int) -> str:
    """Names the new accounts whose initial passwords the admin may download, once."""
    return _signer("passwords").sign(_pack({"a": actor_id, "u": user_ids})).decode()


def load_passwords_token(token: str, actor_id: int) -> list[int]:
    payload = _unpack("passwords", token, PASSWORDS_MAX_AGE)
    if payload.get("a") != actor_id:
        raise PreviewExpired
    return [int(i) for i in payload["u"]]


# --- workbooks --------------------------------------------------------------------------------

def template_workbook() -> bytes:
    """The downloadable template: a fake sample row and a note row (both ignored), and notes."""
    wb = Workbook()
    ws = wb.active
    ws.title = "人员导入"
    ws.append(HEADERS)
    ws.append(SAMPLE_ROW)
    ws.append(["说明：第 2 行是示例，以“示例”开头的行和本行不会导入，可保留或删除；请从第 4 行起填写。"])
    ws.merge_cells("A3:E3")
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1A3A6B")
        cell.alignment = Alignment(horizontal="center")
    for cell in (*ws[2], ws["A3"]):
        cell.font = Font(italic=True, color="808080")
    for col, width in zip("ABCDE", (14, 14, 16, 12, 14)):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("填写说明")
    for line in (
        "警号：4–20 位字母或数字，作为登录账号。",
        "已有警号的人员：上传后先显示预览（新建、变化、无变化、错误），确认后才导入；"
        "只有在预览页勾选“同时更新已有账号”时，才会修改已有账号的姓名、单位、角色和手机号。",
        "单位编码：见管理后台“单位”页面。",
        "角色：干警、单位管理员、领导（留空为干警）。",
        "手机号：可留空；留空不会清除已有账号的手机号。",
        "新账号会生成随机初始密码，确认导入后下载（只能下载一次），首次登录必须修改。",
        "以“示例”开头的行和“说明”行不会导入。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def credentials_workbook(credentials: list[tuple[str, str, str, str]]) -> bytes:
    """账号, 姓名, 单位, 初始密码 of new accounts; cells that look like formulas stay text (A25)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "初始密码"
    ws.append(["账号", "姓名", "单位", "初始密码"])
    for row in credentials:
        ws.append([safe_cell(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCD", (16, 12, 28, 22)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
