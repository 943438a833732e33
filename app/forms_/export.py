"""Excel export of a form's submissions: one row per submission on the first sheet, one sheet per
repeating group (a row per group row, keyed by the submission). The rows come from
``access.export_rows``, so the export shows exactly what the caller may read, and is audited."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from ..timeutils import to_local
from ..xlsx import safe_cell
from . import definition as defn
from .access import Opened


def sheet_title(text: str, used: set) -> str:
    """A worksheet title Excel accepts (≤ 31 characters, none of []:*?/\\), unique in the book."""
    clean = "".join(ch for ch in text if ch not in "[]:*?/\\")[:28] or "Sheet"
    title, n = clean, 2
    while title in used:
        title = f"{clean[:25]}-{n}"
        n += 1
    used.add(title)
    return title


def workbook(title: str, rows: list[Opened], unit_names: dict[int, str]) -> bytes:
    """The .xlsx bytes. Columns follow each submission's own version: a question is matched by
    its key, so answers filled on an older version keep their place."""
    labels = {"yes": _("是"), "no": _("否")}
    fields: dict[str, dict] = {}
    for row in rows:
        for f in defn.questions(row.submission.version.definition):
            fields.setdefault(f["key"], f)
    plain = [f for f in fields.values() if f["type"] not in ("group", "file")]
    groups = [f for f in fields.values() if f["type"] == "group"]
    files = [f for f in fields.values() if f["type"] == "file"]

    book = Workbook()
    main = book.active
    used: set = set()
    main.title = sheet_title(title, used)
    head = [_("序号"), _("姓名"), _("警号"), _("单位"), _("版本"), _("提交时间")] + [f["label"] for f in plain]
    head += [f["label"] + _("（行数）") for f in groups] + [f["label"] + _("（附件数）") for f in files]
    main.append(head)
    for i, row in enumerate(rows, 1):
        sub, owner, answers = row.submission, row.owner, row.answers
        line = [i, owner.name, owner.badge_no or owner.username, unit_names.get(owner.unit_id, ""),
                sub.version.number, to_local(sub.submitted_at).strftime("%Y-%m-%d %H:%M") if sub.submitted_at else ""]
        line += [defn.display_value(f, answers.get(f["key"]), labels) for f in plain]
        line += [len(answers.get(f["key"]) or []) for f in groups]
        line += [sum(1 for x in sub.files if x.field_key == f["key"]) for f in files]
        main.append([safe_cell(v) for v in line])
    for group in groups:
        sheet = book.create_sheet(sheet_title(group["label"], used))
        sheet.append([_("序号"), _("姓名"), _("单位")] + [c["label"] for c in group["columns"]])
        for i, row in enumerate(rows, 1):
            for cells in row.answers.get(group["key"]) or []:
                sheet.append([safe_cell(v) for v in [i, row.owner.name, unit_names.get(row.owner.unit_id, "")]
                              + [cells.get(c["key"], "") for c in group["columns"]]])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
