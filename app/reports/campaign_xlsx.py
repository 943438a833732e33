"""The campaign report as an Excel workbook (issue 17 point 5): a 概况 sheet (the campaign's
stages and every section's headline figures), then one sheet per section with its tables, the
unit tree in full. Styled like the weekly exports (app/reports/export.py): navy headers, column
widths, the first table's header row frozen, % and hours as number formats, formula-safe text."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..web import week_label
from ..xlsx import safe_cell
from .campaign import STAGE_COLUMNS, CampaignReport, Column, Table, stage_rows
from .export import NAVY, THIN

FORMATS = {"int": "0", "pct": "0.0%", "hours": "0.0", "score": "0.0"}
BOX = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
#: Excel refuses sheet names longer than 31 characters or with any of these.
SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _value(column: Column, row: dict):
    value = row.get(column.key)
    if value is None or value == "":
        return "—" if column.kind not in ("text", "stage") else ""
    if column.kind == "week":
        return week_label(value)
    if column.kind == "unit":
        return "\u3000" * row.get("depth", 0) + str(value)
    return value if isinstance(value, (int, float)) else str(value)


def _title(ws, row: int, text: str, width: int, size: int = 12) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=max(width, 1))
    cell = ws.cell(row, 1, safe_cell(text))
    cell.font = Font(bold=True, size=size, color=NAVY)


def _table(ws, row: int, table: Table) -> tuple[int, int]:
    """Write ``table`` from ``row`` (title, header, rows, note); returns (header row, next free row)."""
    columns = table.columns
    _title(ws, row, str(table.title), len(columns))
    header = row + 1
    for col, column in enumerate(columns, 1):
        cell = ws.cell(header, col, str(column.label))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=NAVY)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BOX
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, column.width + 2)
    r = header
    for r, data in enumerate(table.rows, header + 1):
        for col, column in enumerate(columns, 1):
            value = _value(column, data)
            cell = ws.cell(r, col, safe_cell(value))
            cell.border = BOX
            if isinstance(value, (int, float)) and column.kind in FORMATS:
                cell.number_format = FORMATS[column.kind]
            if data.get("depth") == 0 and table.tree:
                cell.font = Font(bold=True)
    nxt = r + 1
    if table.note:
        ws.cell(nxt, 1, safe_cell(str(table.note))).font = Font(size=9, color="6B7380")
        nxt += 1
    return header, nxt + 1


def workbook(report: CampaignReport, title: str, subtitle: str) -> bytes:
    """The report's workbook. ``title``/``subtitle`` head the 概况 sheet (the unit and campaign,
    when it was generated in Beijing time); the caller renders them in Chinese."""
    wb = Workbook()
    ws = wb.active
    ws.title = "概况"
    _title(ws, 1, title, 4, size=14)
    ws.cell(2, 1, safe_cell(subtitle)).font = Font(size=10, color="6B7380")
    header, row = _table(ws, 4, Table("教育整顿阶段", STAGE_COLUMNS, stage_rows(report)))
    ws.freeze_panes = ws.cell(header + 1, 1)
    figures = Table("主要成效", (Column("section", "方面", "text", 10), Column("label", "指标", "text", 24),
                                 Column("value", "数值", "text", 12)), [])
    start = row
    header_f, row = _table(ws, start, figures)
    r = header_f + 1
    for section, result in report.sections:
        for label, value, kind in result.headline:
            cells = (str(section.title), str(label), "—" if value is None else value)
            for col, value_ in enumerate(cells, 1):
                cell = ws.cell(r, col, safe_cell(value_))
                cell.border = BOX
                if col == 3 and isinstance(value_, (int, float)) and kind in FORMATS:
                    cell.number_format = FORMATS[kind]
            r += 1
    for section, result in report.sections:
        sheet = wb.create_sheet(str(section.title).translate(SHEET_FORBIDDEN)[:31])
        row, first = 1, None
        for table in result.tables:
            header, row = _table(sheet, row, table)
            first = first or header
        if first:
            sheet.freeze_panes = sheet.cell(first + 1, 1)
            sheet.print_title_rows = f"{first}:{first}"
        sheet.page_setup.orientation = "portrait"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
