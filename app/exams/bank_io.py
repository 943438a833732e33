"""Moving questions between checked entries and the database: import (create or update by id,
a new version when the content changes), retire, and export (YAML, Excel, the Excel
template). Writes flush and never commit: the CLI command or the request commits once."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import MODULES, Question, QuestionVersion
from ..models.modules import REGISTRY
from ..xlsx import safe_cell
from .bank_format import OPTION_KEYS, TYPE_LABELS, XLSX_HEADERS, XLSX_OPTIONAL, YAML_SUFFIXES, Entry, Parsed
from .bank_read import read_path

#: Untranslated, for the header comment of exported files (the files are in Chinese whatever the UI).
MODULE_NAMES = {m.code: m.name for m in REGISTRY}


def check_against_db(session: Session, parsed: Parsed) -> Parsed:
    """Checks that need the stored bank: a question's type never changes, because the versions
    attempts were served do not record it (give the new question a new id instead)."""
    stored = dict(_chunked(session, select(Question.bank_id, Question.qtype), [e.bank_id for e in parsed.entries]))
    keep = []
    for e in parsed.entries:
        if e.bank_id in stored and stored[e.bank_id] != e.qtype:
            parsed.fail(e.file, e.line, e.bank_id, _("题型不能修改（已有题目是%(t)s）；请为新题目使用新的 id",
                                                    t=TYPE_LABELS[stored[e.bank_id]]))
        else:
            keep.append(e)
    parsed.entries = keep
    return parsed


def _chunked(session: Session, stmt, bank_ids: list[str], size: int = 500) -> list:
    rows = []
    for i in range(0, len(bank_ids), size):
        rows += session.execute(stmt.where(Question.bank_id.in_(bank_ids[i:i + size]))).all()
    return rows


# --- writing --------------------------------------------------------------------------------

@dataclass
class Change:
    """What an update changed: the changed fields' old and new values (for the audit row)."""

    before: dict
    after: dict
    new_version: bool


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    versioned: list[str] = field(default_factory=list)
    skipped: int = 0

    def counts(self) -> dict:
        return {"created": len(self.created), "updated": len(self.updated), "unchanged": len(self.unchanged),
                "new_versions": len(self.versioned), "skipped": self.skipped}

    def summary(self) -> str:
        c = self.counts()
        return (f"created {c['created']}, updated {c['updated']} ({c['new_versions']} new versions), "
                f"unchanged {c['unchanged']}, skipped {c['skipped']}")


def stored_entry(question: Question, version: QuestionVersion) -> Entry:
    return Entry(bank_id=question.bank_id, module=question.module, qtype=question.qtype,
                 difficulty=question.difficulty, stem=version.stem,
                 options=tuple(tuple(o) for o in version.options or ()), answer=tuple(version.answer),
                 explanation=version.explanation, tags=tuple(question.tags or ()), source=question.source or "",
                 retired=question.is_retired)


def diff(old: Entry, new: Entry) -> Change | None:
    """The changed fields between the stored question and a checked entry; None if none."""
    before, after = {}, {}
    for part in ("content", "metadata"):
        old_values, new_values = getattr(old, part)(), getattr(new, part)()
        for key, value in new_values.items():
            if old_values[key] != value:
                before[key], after[key] = old_values[key], value
    if new.retired is not None and new.retired != old.retired:
        before["is_retired"], after["is_retired"] = old.retired, new.retired
    if not after:
        return None
    return Change(before, after, new_version=old.content() != new.content())


def update_question(session: Session, question: Question, entry: Entry) -> Change | None:
    """Apply a checked entry to a stored question. Content changes add a version and move
    ``current_version_id``; the old version stays for the attempts that were served it."""
    current = session.get(QuestionVersion, question.current_version_id)
    change = diff(stored_entry(question, current), entry)
    if change is None:
        return None
    question.module, question.difficulty = entry.module, entry.difficulty
    question.tags, question.source = list(entry.tags), entry.source
    if entry.retired is not None:
        question.is_retired = entry.retired
    if change.new_version:
        last = session.scalar(select(func.max(QuestionVersion.version))
                              .where(QuestionVersion.question_id == question.id)) or 0
        version = QuestionVersion(question_id=question.id, version=last + 1, **entry.content())
        session.add(version)
        session.flush()
        question.current_version_id = version.id
        change.after["version"] = version.version
        change.before["version"] = current.version
    session.flush()
    return change


def import_entries(session: Session, entries: list[Entry], *, dry_run: bool = False, skipped: int = 0) -> ImportResult:
    """Create or update by id; unchanged questions are not touched. ``dry_run`` only counts."""
    result = ImportResult(skipped=skipped)
    stmt = select(Question, QuestionVersion).join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
    stored = {q.bank_id: (q, v) for q, v in _chunked(session, stmt, [e.bank_id for e in entries])}
    new = []
    for entry in entries:
        if entry.bank_id not in stored:
            new.append(entry)
            result.created.append(entry.bank_id)
            continue
        question, version = stored[entry.bank_id]
        change = diff(stored_entry(question, version), entry) if dry_run else update_question(session, question, entry)
        if change is None:
            result.unchanged.append(entry.bank_id)
        else:
            result.updated.append(entry.bank_id)
            if change.new_version:
                result.versioned.append(entry.bank_id)
    if new and not dry_run:
        _create(session, new)
    return result


def _create(session: Session, entries: list[Entry]) -> None:
    """Questions, then their first versions, then the pointers: three batched flushes."""
    questions = [Question(bank_id=e.bank_id, module=e.module, qtype=e.qtype, difficulty=e.difficulty,
                          tags=list(e.tags), source=e.source, is_retired=bool(e.retired)) for e in entries]
    session.add_all(questions)
    session.flush()
    versions = [QuestionVersion(question_id=q.id, version=1, **e.content()) for q, e in zip(questions, entries)]
    session.add_all(versions)
    session.flush()
    for q, v in zip(questions, versions):
        q.current_version_id = v.id
    session.flush()


def set_retired(session: Session, question: Question, retired: bool) -> bool:
    """Retire (never drawn again) or bring back a question; returns whether anything changed."""
    if question.is_retired == retired:
        return False
    question.is_retired = retired
    session.flush()
    return True


# --- export ---------------------------------------------------------------------------------

def _natural(bank_id: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", bank_id)]


def all_entries(session: Session) -> list[Entry]:
    """Every question's current version, retired ones included, by module then id."""
    rows = session.execute(select(Question, QuestionVersion)
                           .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)).all()
    entries = [stored_entry(q, v) for q, v in rows]
    return sorted(entries, key=lambda e: (MODULES.index(e.module), _natural(e.bank_id)))


def dump_yaml(entries: list[Entry], module: str | None = None) -> str:
    """The bank file format, written the way the shipped files are (block style, one blank
    line between questions, a header comment), so an export of the shipped bank equals it."""
    if module:
        title = f"# 题库：{MODULE_NAMES[module]}（{module}）\n"
    else:
        title = "# 题库：全部模块\n"
    header = title + "# 格式说明见同目录 README.md。id 一经发布不得修改；导入时按 id 新增或更新。\n\n"
    body = "\n".join(yaml.safe_dump([e.to_yaml()], allow_unicode=True, sort_keys=False, width=float("inf"),
                                    default_flow_style=False) for e in entries)
    return header + (body or "[]\n")


def export_to_path(session: Session, path: Path) -> tuple[list[Path], int]:
    """``x.yaml``: one file; ``x.xlsx``: the Excel template's columns; otherwise a directory
    with one ``<module>.yaml`` per module that has questions. Returns (files written, questions)."""
    entries = all_entries(session)
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES or suffix == ".xlsx":
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".xlsx":
            path.write_bytes(export_workbook(entries))
        else:
            path.write_text(dump_yaml(entries), encoding="utf-8")
        return [path], len(entries)
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for module in MODULES:
        part = [e for e in entries if e.module == module]
        if part:
            target = path / f"{module}.yaml"
            target.write_text(dump_yaml(part, module), encoding="utf-8")
            written.append(target)
    return written, len(entries)


def _sheet(wb, title: str, headers: list[str], widths: dict[str, int]):
    """A sheet with the house header style (as the account import template)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.active
    ws.title = title
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1A3A6B")
        cell.alignment = Alignment(horizontal="center")
    for i, name in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(name, 8)
    ws.freeze_panes = "A2"
    return ws


XLSX_WIDTHS = {"id": 18, "module": 14, "type": 10, "difficulty": 8, "stem": 48, **{k: 20 for k in OPTION_KEYS},
               "answer": 14, "explanation": 48, "tags": 20, "source": 30}


def _row(e: Entry) -> list:
    """A question in the template's columns; options it does not have, tags and source it
    lacks are empty cells (which import as "none")."""
    options = dict(e.options)
    answer = "|".join(e.answer) if e.qtype == "fill" else ",".join(e.answer)
    values = [e.bank_id, e.module, e.qtype, e.difficulty, e.stem, *(options.get(k, "") for k in OPTION_KEYS),
              answer, e.explanation, ",".join(e.tags), e.source]
    return [safe_cell(v) for v in values]


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_workbook(entries: list[Entry]) -> bytes:
    """The whole bank in the template's columns plus ``retired``; every cell through safe_cell."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = _sheet(wb, "题库", XLSX_HEADERS + XLSX_OPTIONAL, XLSX_WIDTHS)
    for e in entries:
        ws.append(_row(e) + [safe_cell("true" if e.retired else "")])
    return _save(wb)


#: The template's example rows, one per type: a bank file, checked by the bank's own rules.
TEMPLATE_EXAMPLES = Path(__file__).with_name("bank_template.yaml")


def template_examples() -> list[Entry]:
    parsed = read_path(TEMPLATE_EXAMPLES)
    if parsed.problems:
        raise RuntimeError("the Excel template's examples are invalid:\n" + "\n".join(map(str, parsed.problems)))
    return parsed.entries


def template_workbook() -> bytes:
    """The downloadable Excel template: one example per type and a sheet of notes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = _sheet(wb, "题库导入", XLSX_HEADERS, XLSX_WIDTHS)
    for e in template_examples():
        ws.append(_row(e))
    notes = wb.create_sheet("填写说明")
    for line in (
        "每行一道题；第 1 行是表头，请勿修改。示例行可以删除。",
        "id：题目的永久编号（字母、数字、-、_），同一 id 再次导入会更新该题，不会重复。",
        "module：" + "、".join(f"{m.code} {m.name}" for m in REGISTRY) + "（也可填中文）。",
        "type：single 单选、multiple 多选、truefalse 判断、fill 填空（也可填中文）。",
        "difficulty：1 易、2 中、3 难。",
        "A–H：选项，从 A 列起连续填写，不要空列。单选题 2–6 个选项（A–B 至 A–F）；多选题 3–8 个选项（A–C 至 A–H）；"
        "判断题可留空（自动为 A 正确、B 错误）；填空题留空。",
        "answer：选择题填选项字母，多个用逗号分隔，如 A,C；填空题填可接受的答案，多个用 | 分隔，如 1921|1921年。",
        "填空题的题干用 ____（四个下划线）标出唯一的空。",
        "explanation：解析（必填）。tags：标签，用逗号分隔；source：出处，如“公开资料”。这两列可以留空。",
        "用旧模板（只有 A–E 列）填写的文件仍可导入。",
        "有任何一行出错时整份文件都不会导入，除非勾选“跳过有错误的行”。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    return _save(wb)

