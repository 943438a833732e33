"""The results of a survey (匿名测评) as a workbook: the same aggregates as the results page
(app/forms_/survey.py) — one row per group and option, suppressed groups saying so. Never an
answer sheet: the workbook is built from ``SurveyResults`` only."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from ..xlsx import safe_cell
from .export import sheet_title
from .survey import SurveyResults, suppressed_text


def workbook(results: SurveyResults) -> bytes:
    """The .xlsx bytes: a 汇总 sheet (group, sheets, question, option, count, share or mean) and,
    for free-text questions, a sheet of the shown groups' texts, sorted."""
    book = Workbook()
    main = book.active
    used: set = set()
    main.title = sheet_title(_("汇总"), used)
    main.append([safe_cell(f"{results.form.title} · {results.unit.name}")])
    main.append([_("单位"), _("答卷份数"), _("题目"), _("选项"), _("人数"), _("占比"), _("平均值")])
    texts = []
    if not results.published:
        main.append([_("测评进行中，截止后公布结果。")])
    for group in results.groups:
        name = ("\u3000" if group.depth else "") + group.name
        if not group.shown:
            main.append([safe_cell(name), "", suppressed_text(group.reason, results.minimum)])
            continue
        for q in group.questions:
            if q.kind == "choice":
                for option in q.options:
                    main.append([safe_cell(name), group.count, safe_cell(q.label), safe_cell(option.label), option.count,
                                 option.share])
                    main.cell(main.max_row, 6).number_format = "0.0%"
            elif q.kind == "number":
                main.append([safe_cell(name), group.count, safe_cell(q.label), "", q.answered, None,
                             round(q.mean, 2) if q.mean is not None else None])
            else:
                texts.append((name, q))
    if texts:
        sheet = book.create_sheet(sheet_title(_("意见建议"), used))
        sheet.append([_("单位"), _("题目"), _("内容（已排序，不含姓名）")])
        for name, q in texts:
            if q.texts is None:
                sheet.append([safe_cell(name), safe_cell(q.label), _("不足%(n)d条，不予显示", n=results.minimum)])
            for text in q.texts or []:
                sheet.append([safe_cell(name), safe_cell(q.label), safe_cell(text)])
    for sheet in book.worksheets:
        for cell in sheet[2 if sheet is main else 1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["C"].width = 30
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
