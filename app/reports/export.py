"""Excel and CSV for the weekly meeting: titled, formatted, formula-safe (QUALITY A25)."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..timeutils import WeekProgress, to_local
from ..xlsx import safe_cell
from .figures import progress_note

NAVY = "1A3A6B"
THIN = Side(style="thin", color="C9D1DE")

UNIT_COLUMNS = [
    ("名次", "rank", 6, None), ("全市同级名次", "city_rank", 8, None), ("单位", "unit_name", 22, None),
    ("干警人数", "officers", 8, None), ("学习达标人数", "study_target_met", 10, None),
    ("学习达标率", "study_completion_rate", 10, "0.0%"), ("人均学时", "avg_study_hours", 9, "0.0"),
    ("参考人数", "exam_participants", 8, None), ("参考率", "exam_participation_rate", 9, "0.0%"),
    ("平均分", "avg_score", 8, "0.0"), ("及格人数", "pass_count", 8, None), ("及格率", "pass_rate", 9, "0.0%"),
    ("综合得分", "composite_score", 9, "0.00"),
    # Issue 16: where the week stands. For a closed week 进度达标 equals 学习达标 (the
    # pro-rated target is the whole target); 状态 says whether ranks and composite are final.
    ("进度达标人数", "on_pace", 10, None), ("进度达标率", "on_pace_rate", 10, "0.0%"), ("状态", "status", 8, None),
]
OFFICER_COLUMNS = [
    ("姓名", "name", 10, None), ("警号", "badge_no", 12, None), ("单位", "unit_name", 20, None),
    ("本周学时", "study_hours", 9, "0.0"), ("学习达标", "study_target_met_text", 8, None),
    ("进度达标", "on_pace_text", 8, None),
    ("测试成绩", "exam_score", 9, "0.0"), ("是否及格", "passed_text", 8, None),
]


def subtitle(progress: WeekProgress, now) -> str:
    """The line under an export's title: when it was made, in Asia/Shanghai (the time people
    read on the page, never UTC), and for a week in progress how far it is and that ranks and
    composite are provisional (``figures.progress_note``)."""
    stamp = f"统计时间：{to_local(now):%Y-%m-%d %H:%M}（北京时间）"
    if progress.in_progress:
        return f"{stamp} · {progress_note(progress)} · 名次与综合得分为暂定"
    return stamp


def unit_rows(rows: list, progress: WeekProgress) -> list[dict]:
    """The unit table's cells: ``UnitRow.as_json`` plus the on-pace figures and the status."""
    status = "暂定" if progress.in_progress else ("未开始" if progress.state == "future" else "最终")
    return [{**r.as_json(), "on_pace": r.on_pace, "on_pace_rate": r.on_pace_rate, "status": status} for r in rows]


def _yes_no(value) -> str:
    return "—" if value is None else ("是" if value else "否")


def officer_table(rows: list[dict]) -> list[dict]:
    return [{**r, "study_hours": round(r["study_seconds"] / 3600, 1),
             "study_target_met_text": _yes_no(r["study_target_met"]),
             "on_pace_text": _yes_no(r.get("on_pace")),
             "passed_text": "待评分" if r.get("exam_pending") and r["passed"] is None else _yes_no(r["passed"])}
            for r in rows]


def workbook(title: str, subtitle: str, columns, rows: list[dict]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "报表"
    width = len(columns)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.cell(1, 1, safe_cell(title)).font = Font(bold=True, size=14, color=NAVY)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.cell(2, 1, safe_cell(subtitle)).font = Font(size=10, color="6B7380")
    ws.cell(2, 1).alignment = Alignment(horizontal="center")
    for col, (header, _key, col_width, _fmt) in enumerate(columns, 1):
        cell = ws.cell(3, col, header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=NAVY)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        ws.column_dimensions[get_column_letter(col)].width = col_width + 2
    for r, row in enumerate(rows, 4):
        for col, (_header, key, _w, fmt) in enumerate(columns, 1):
            value = row.get(key)
            cell = ws.cell(r, col, safe_cell("—" if value is None else value))
            cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
            if fmt and isinstance(value, (int, float)):
                cell.number_format = fmt
            if r % 2 == 1:
                cell.fill = PatternFill("solid", fgColor="F2F4F8")
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_text(columns, rows: list[dict], heading: tuple[str, ...] = ()) -> str:
    """CSV with a BOM so Excel opens the Chinese correctly; cells neutralised like the XLSX.
    ``heading``: lines before the column headers, one cell each (the title and subtitle)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for line in heading:
        writer.writerow([safe_cell(line)])
    writer.writerow([header for header, *_ in columns])
    for row in rows:
        writer.writerow([safe_cell("" if row.get(key) is None else row.get(key)) for _h, key, *_ in columns])
    return out.getvalue()
