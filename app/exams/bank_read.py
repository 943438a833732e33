"""Reading bank input (question_bank/README.md): YAML files, Excel workbooks, a directory of
files. Every entry goes through ``bank_format.check_entry``; ids are checked across the whole
input at once, and every problem is reported as ``file:line: id: reason``. Nothing here touches
the database (``bank_io.check_against_db`` does the checks that need it)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

import yaml
from flask_babel import gettext as _

from ..models import MODULES
from ..xlsx import FORMULA_PREFIXES
from .bank_format import (OPTION_KEYS, XLSX_HEADERS, XLSX_MIN_OPTION_COLUMNS, XLSX_OPTIONAL, YAML_SUFFIXES, Parsed,
                          Problem, _show, check_entry, find_duplicate_ids, raw_from_cells)


# --- reading YAML ---------------------------------------------------------------------------

class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built in
    """The safe loader, noting keys written twice in one mapping (YAML keeps the last silently)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, str]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    self.duplicate_keys.append((key_node.start_mark.line + 1, key_node.value))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def _decode(data: bytes | str, file: str, kind: str, parsed: Parsed) -> str | None:
    if isinstance(data, str):
        return data
    if data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):  # a bank file starts with # or -
        parsed.fail(file, 1, None, _("这是网页或 XML 文件，不是 %(k)s 题库文件", k=kind))
        return None
    if b"\x00" in data:
        parsed.fail(file, 1, None, _("这是二进制文件，不是 %(k)s 题库文件", k=kind))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.fail(file, 1, None, _("文件不是 UTF-8 编码的文本"))
        return None


def read_yaml(data: bytes | str, file: str, max_entries: int = 20000) -> tuple[Parsed, list[tuple[str, str, int]]]:
    """Check every question of one YAML file; also returns (id, file, line) of each entry seen."""
    parsed, seen = Parsed(), []
    text = _decode(data, file, "YAML", parsed)
    if text is None:
        return parsed, seen
    file_module = Path(file).stem if Path(file).stem in MODULES else None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return parsed, seen
        if not isinstance(root, yaml.SequenceNode):
            parsed.fail(file, root.start_mark.line + 1, None, _("文件应是题目列表（每道题以“- id:”开头）"))
            return parsed, seen
        if len(root.value) > max_entries:
            parsed.fail(file, 1, None, _("一个文件最多 %(n)d 道题", n=max_entries))
            return parsed, seen
        for node in root.value:
            try:
                _read_node(loader, node, file, file_module, parsed, seen)
            except yaml.YAMLError as err:  # e.g. an unknown tag such as !!python/object
                _yaml_error(parsed, file, err, entry_line=node.start_mark.line + 1)
                loader.duplicate_keys = []
    except yaml.YAMLError as err:
        _yaml_error(parsed, file, err)
    finally:
        loader.dispose()
    return parsed, seen


def _yaml_error(parsed: Parsed, file: str, err: yaml.YAMLError, entry_line: int | None = None) -> None:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + 1 if mark else (entry_line or 1)
    detail = " ".join(filter(None, (getattr(err, "context", None), getattr(err, "problem", None)))) or str(err)
    parsed.fail(file, line, None, _("YAML 语法错误：%(d)s", d=detail), entry_line=entry_line)


def _read_node(loader: _Loader, node, file: str, file_module: str | None, parsed: Parsed, seen: list) -> None:
    line = node.start_mark.line + 1
    raw = loader.construct_document(node)
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        key_lines = {k.value: k.start_mark.line + 1 for k, _v in node.value if isinstance(k, yaml.ScalarNode)}
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        seen.append((raw["id"], file, line))
    entry, problems = check_entry(raw, file, line, key_lines, file_module)
    bank_id = raw.get("id") if isinstance(raw, dict) else None
    for dup_line, key in loader.duplicate_keys:
        problems.append(Problem(file, dup_line, None if bank_id is None else _show(bank_id),
                                _("键“%(k)s”写了两次", k=key)))
    loader.duplicate_keys = []
    if problems:
        entry = None
        for p in problems:
            parsed.fail(p.file, p.line, p.bank_id, p.reason, entry_line=line)
    if entry is not None:
        parsed.entries.append(entry)


# --- reading Excel --------------------------------------------------------------------------

def _cell(value) -> str:
    """A cell as text; undoes ``safe_cell``'s apostrophe so an export imports unchanged."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_PREFIXES:
        text = text[1:]
    return text


def _columns(header: list[str]) -> dict[str, int] | None:
    """Column name → index for a template header, or None when the header is not one.

    The header is the template's: id … stem, the option columns, answer, explanation, tags,
    source, then optionally retired. The option columns run from A to H; a workbook made from
    an older template, with A–E only, is read the same way (its questions have at most five
    options)."""
    names = [h.strip() for h in header]
    lowered = [h.lower() for h in names]
    fixed_before, fixed_after = XLSX_HEADERS[:5], XLSX_HEADERS[5 + len(OPTION_KEYS):]
    if lowered[:5] != fixed_before:
        return None
    n = 0
    while n < len(OPTION_KEYS) and 5 + n < len(names) and names[5 + n].upper() == OPTION_KEYS[n]:
        n += 1
    rest = 5 + n
    if n < XLSX_MIN_OPTION_COLUMNS or lowered[rest: rest + len(fixed_after)] != fixed_after:
        return None
    columns = {name: i for i, name in enumerate(fixed_before)}
    columns.update({OPTION_KEYS[k]: 5 + k for k in range(n)})
    columns.update({name: rest + i for i, name in enumerate(fixed_after)})
    extra = lowered[rest + len(fixed_after):]
    columns.update({name: rest + len(fixed_after) + extra.index(name) for name in XLSX_OPTIONAL if name in extra})
    return columns


def read_xlsx(data: bytes, file: str, max_rows: int = 20000) -> tuple[Parsed, list[tuple[str, str, int]]]:
    """Check every row of the template's first sheet; a problem's line is the Excel row."""
    from openpyxl import load_workbook

    parsed, seen = Parsed(), []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        parsed.fail(file, 1, None, _("文件不是有效的 Excel 工作簿（.xlsx）"))
        return parsed, seen
    rows = wb.worksheets[0].iter_rows(values_only=True)
    columns = _columns([_cell(v) for v in next(rows, ())])
    if columns is None:
        parsed.fail(file, 1, None, _("表头应为：%(h)s。请下载模板填写。", h="、".join(XLSX_HEADERS)))
        return parsed, seen
    for number, values in enumerate(rows, start=2):
        values = list(values or ())
        cells = {name: _cell(values[i] if i < len(values) else None) for name, i in columns.items()}
        if not any(cells.values()):
            continue
        if number - 1 > max_rows:
            parsed.fail(file, number, None, _("一次最多导入 %(n)d 行", n=max_rows))
            break
        raw = raw_from_cells(cells)
        if raw["id"]:
            seen.append((raw["id"], file, number))
        entry, problems = check_entry(raw, file, number)
        for p in problems:
            parsed.fail(p.file, p.line, p.bank_id, p.reason)
        if entry is not None:
            parsed.entries.append(entry)
    return parsed, seen


# --- reading any input ----------------------------------------------------------------------

def read_files(files: Iterable[tuple[str, bytes]], max_entries: int = 20000) -> Parsed:
    """Read every (name, content) and check ids across all of them: the whole input at once."""
    parsed, seen = Parsed(), []
    for name, data in files:
        if name.lower().endswith(".xlsx"):
            part, part_seen = read_xlsx(data, name, max_entries)
        elif name.lower().endswith(YAML_SUFFIXES):
            part, part_seen = read_yaml(data, name, max_entries)
        else:
            part, part_seen = Parsed(), []
            part.fail(name, 1, None, _("只能导入 .yaml、.yml 或 .xlsx 文件"))
        parsed.extend(part)
        seen += part_seen
    find_duplicate_ids(parsed, seen)
    return parsed


def read_path(path: Path, max_entries: int = 20000) -> Parsed:
    """A bank file, or a directory of them (its .yaml/.yml files, in name order)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in YAML_SUFFIXES)
        if not files:
            parsed = Parsed()
            parsed.fail(str(path), 0, None, _("目录中没有 .yaml 题库文件"))
            return parsed
    else:
        files = [path]
    return read_files(((str(p), p.read_bytes()) for p in files), max_entries)

