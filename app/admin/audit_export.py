"""The audit log as Excel and CSV: the filtered rows, redacted (see ``audit_queries``) and
formula-safe (QUALITY A25: a username typed as ``=HYPERLINK(…)`` stays text)."""
from __future__ import annotations

import csv
import io
from typing import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from .. import audit_labels
from ..xlsx import safe_cell
from .audit_queries import AuditRow

#: (header, key, width). Codes become words in the exporter's language (``audit_labels``); the
#: action code stays in its own column for whoever filters the sheet by it.
COLUMNS = [
    (_l("时间（北京时间）"), "at", 20), (_l("操作人账号"), "actor_name", 14), (_l("操作人姓名"), "actor_display", 12),
    (_l("操作"), "action_label", 16), (_l("操作代码"), "action", 20), (_l("说明"), "detail_label", 16),
    (_l("对象类型"), "target_type", 12), (_l("对象编号"), "target_id", 12), (_l("变更前"), "before", 40),
    (_l("变更后"), "after", 40), (_l("IP 地址"), "ip", 16), (_l("请求号"), "request_id", 18),
]


def _record(row: AuditRow, names: Mapping) -> list:
    data = row.as_export()
    data["action_label"] = audit_labels.action_label(row.action)
    data["detail_label"] = audit_labels.detail_label(row.action, row.detail)
    data["target_type"] = audit_labels.target_label(row.target_type)
    data["before"] = audit_labels.snapshot_text(row.before, row.target_type, names)
    data["after"] = audit_labels.snapshot_text(row.after, row.target_type, names)
    return [safe_cell("" if data.get(key) is None else data[key]) for _h, key, _w in COLUMNS]


def workbook(title: str, rows: Iterable[AuditRow], names: Mapping) -> bytes:
    """A write-only workbook (constant memory however many rows)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(_l("操作日志")))
    for i, (_h, _k, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A3"
    head = WriteOnlyCell(ws, value=safe_cell(title))
    head.font = Font(bold=True, size=13, color="1A3A6B")
    ws.append([head])
    header = []
    for text, _k, _w in COLUMNS:
        cell = WriteOnlyCell(ws, value=str(text))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1A3A6B")
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append(_record(row, names))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_text(rows: Iterable[AuditRow], names: Mapping) -> str:
    """UTF-8 with a BOM so Excel opens the Chinese correctly; cells neutralised like the XLSX."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([str(header) for header, _k, _w in COLUMNS])
    for row in rows:
        writer.writerow(_record(row, names))
    return out.getvalue()
