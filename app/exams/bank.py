"""The question bank (issue #4 items 1–3): read, check, import and export the bank files
(format: question_bank/README.md), the admin search, the pool the weekly exam draws from and
the one grading rule.

Reading and checking never touch the database; ``check_against_db`` and the queries only
read; writes flush and never commit (the CLI command or the request commits once).

Stems, options and explanations are plain text. They are never rendered as HTML: the pages
escape them (Jinja autoescape) and the Excel export neutralises formula prefixes (QUALITY A25),
so markup in a stem shows as the characters typed.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from ..models import MODULES, QUESTION_TYPES, Question, QuestionVersion
from ..xlsx import FORMULA_PREFIXES, safe_cell

MODULE_LABELS = {"theory": _l("理论学习"), "political": _l("政治教育"), "party_history": _l("党史教育"),
                 "warning": _l("警示教育"), "role_model": _l("英模教育")}
#: Untranslated, for the header comment of exported files (the files are in Chinese whatever the UI).
MODULE_NAMES = {"theory": "理论学习", "political": "政治教育", "party_history": "党史教育", "warning": "警示教育",
                "role_model": "英模教育"}
TYPE_LABELS = {"single": _l("单选题"), "multiple": _l("多选题"), "truefalse": _l("判断题"), "fill": _l("填空题")}

#: Keys of a question in a bank file, in the order the files (and the export) write them.
FIELDS = ("id", "module", "type", "difficulty", "stem", "options", "answer", "explanation", "tags", "source",
          "retired")
REQUIRED = ("id", "module", "type", "difficulty", "stem", "answer", "explanation", "tags", "source")
FIELD_LABELS = {"id": _l("编号"), "module": _l("模块"), "type": _l("题型"), "difficulty": _l("难度"), "stem": _l("题干"),
                "answer": _l("答案"), "explanation": _l("解析"), "tags": _l("标签"), "source": _l("来源")}
OPTION_KEYS = "ABCDE"
#: The option keys each type must have, exactly.
OPTION_SETS = {"single": ("ABCD",), "multiple": ("ABCD", "ABCDE"), "truefalse": ("AB",)}
TRUE_FALSE = (("A", "正确"), ("B", "错误"))
BLANK = "____"
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
LIMITS = {"stem": 1000, "option": 300, "explanation": 2000, "tag": 32, "tags": 10, "source": 200, "answer": 100}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

#: Columns of the Excel template (row 1); ``retired`` is optional and written by the export.
XLSX_HEADERS = ["id", "module", "type", "difficulty", "stem", "A", "B", "C", "D", "E", "answer", "explanation",
                "tags", "source"]
XLSX_OPTIONAL = ["retired"]
MODULE_ALIASES = {**{m: m for m in MODULES}, "理论学习": "theory", "政治教育": "political", "党史教育": "party_history",
                  "警示教育": "warning", "英模教育": "role_model", "party-history": "party_history",
                  "role-model": "role_model"}
TYPE_ALIASES = {**{t: t for t in QUESTION_TYPES}, "单选": "single", "单选题": "single", "多选": "multiple",
                "多选题": "multiple", "判断": "truefalse", "判断题": "truefalse", "填空": "fill", "填空题": "fill"}
TAG_SEPARATORS = r"[,，;；]"
#: Excel answers of a true/false question may also be written as words.
TRUE_FALSE_WORDS = {"正确": "A", "对": "A", "√": "A", "T": "A", "TRUE": "A",
                    "错误": "B", "错": "B", "×": "B", "F": "B", "FALSE": "B"}
TRUTHY = {"true", "yes", "1", "是", "已停用", "停用"}
FALSY = {"false", "no", "0", "否"}


# --- checked questions and problems ---------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One reason an entry is bad, located as ``file:line`` (Excel: the row number)."""

    file: str
    line: int
    bank_id: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.bank_id or '-'}: {self.reason}"


@dataclass(frozen=True)
class Entry:
    """A question that passed every check, in stored form: options in key order, text stripped."""

    bank_id: str
    module: str
    qtype: str
    difficulty: int
    stem: str
    options: tuple[tuple[str, str], ...]
    answer: tuple[str, ...]
    explanation: str
    tags: tuple[str, ...]
    source: str
    #: None: keep the stored state (a new question starts active).
    retired: bool | None = None
    file: str = ""
    line: int = 0

    def content(self) -> dict:
        """What a version holds; a change here makes a new version (QUALITY E22)."""
        return {"stem": self.stem, "options": [list(o) for o in self.options], "answer": list(self.answer),
                "explanation": self.explanation}

    def metadata(self) -> dict:
        return {"module": self.module, "difficulty": self.difficulty, "tags": list(self.tags), "source": self.source}

    def to_yaml(self) -> dict:
        out: dict[str, Any] = {"id": self.bank_id, "module": self.module, "type": self.qtype,
                               "difficulty": self.difficulty, "stem": self.stem}
        if self.options:
            out["options"] = dict(self.options)
        out.update(answer=list(self.answer), explanation=self.explanation, tags=list(self.tags), source=self.source)
        if self.retired:
            out["retired"] = True
        return out


@dataclass
class Parsed:
    """The outcome of reading some input: the good entries and every problem found."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: (file, line) of each bad entry, or of a file that could not be read at all.
    bad: set[tuple[str, int]] = field(default_factory=set)

    @property
    def skipped(self) -> int:
        return len(self.bad)

    def fail(self, file: str, line: int, bank_id: str | None, reason: str, entry_line: int | None = None) -> None:
        self.problems.append(Problem(file, line, bank_id, reason))
        self.bad.add((file, line if entry_line is None else entry_line))

    def extend(self, other: Parsed) -> None:
        self.entries += other.entries
        self.problems += other.problems
        self.bad |= other.bad


def _show(value: Any) -> str:
    """A value for a message. Containers are named, not printed: YAML aliases can nest a small
    file into a structure far too large to turn into text."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)[:64]
    return type(value).__name__


def _text(value: Any) -> str | None:
    """Text as stored: a string (numbers accepted as their digits), stripped, CRLF → LF."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.replace("\r\n", "\n").strip()


def check_entry(raw: Any, file: str, line: int, key_lines: dict | None = None,
                file_module: str | None = None) -> tuple[Entry | None, list[Problem]]:
    """Check one question against the format; returns the entry, or None and every problem.

    ``key_lines`` maps keys to their own line, so a problem points at the offending key.
    ``file_module`` is the module a file's name promises (``theory.yaml``), if any.
    """
    if not isinstance(raw, dict):
        return None, [Problem(file, line, None, _("每道题应是一组“键: 值”（以 id: 开头）。"))]
    key_lines = key_lines or {}
    raw_id = raw.get("id")
    shown_id = None if raw_id is None else _show(raw_id)
    problems: list[Problem] = []

    def bad(key: str | None, reason: str) -> None:
        problems.append(Problem(file, key_lines.get(key, line), shown_id, reason))

    for key in raw:
        if key not in FIELDS:
            bad(key, _("未知的键“%(k)s”（允许的键：%(all)s）", k=_show(key), all="、".join(FIELDS)))
    for key in REQUIRED:
        if raw.get(key) in (None, "", [], {}):
            bad(key, _("缺少%(f)s（%(k)s）", f=FIELD_LABELS[key], k=key))
    present = {k for k in REQUIRED if raw.get(k) not in (None, "", [], {})}

    bank_id = raw_id if isinstance(raw_id, str) and ID_RE.match(raw_id) else None
    if "id" in present and bank_id is None:
        bad("id", _("id 只能由字母、数字、“-”“_”“.”组成，以字母或数字开头，最长 64 位"))
    module = raw.get("module")
    if "module" in present and module not in MODULES:
        bad("module", _("未知的模块“%(v)s”（可选：%(all)s）", v=_show(module), all="、".join(MODULES)))
    elif file_module and module != file_module and "module" in present:
        bad("module", _("模块“%(v)s”与文件名不符（应为 %(m)s）", v=_show(module), m=file_module))
    qtype = raw.get("type")
    if "type" in present and qtype not in QUESTION_TYPES:
        bad("type", _("未知的题型“%(v)s”（可选：%(all)s）", v=_show(qtype), all="、".join(QUESTION_TYPES)))
        qtype = None
    difficulty = raw.get("difficulty")
    if "difficulty" in present and (type(difficulty) is not int or not 1 <= difficulty <= 3):
        bad("difficulty", _("难度只能是 1、2 或 3（现为“%(v)s”）", v=_show(difficulty)))

    texts = {}
    for key in ("stem", "explanation", "source"):
        value, label = _text(raw.get(key)), FIELD_LABELS[key]
        if key in present and not value:
            bad(key, _("%(f)s应为文字", f=label))
        elif value and len(value) > LIMITS[key]:
            bad(key, _("%(f)s不能超过 %(n)d 字", f=label, n=LIMITS[key]))
        elif value and _CONTROL.search(value):
            bad(key, _("%(f)s含有不可见的控制字符", f=label))
        texts[key] = value or ""
    stem = texts["stem"]
    if qtype == "fill" and stem and re.findall(r"_{2,}", stem) != [BLANK]:
        bad("stem", _("填空题的题干必须用“____”（四个下划线）标出唯一的空"))

    tags = raw.get("tags")
    clean_tags: list[str] = []
    if "tags" in present:
        clean_tags = [t for t in (_text(t) for t in tags) if t] if isinstance(tags, list) else []
        if not isinstance(tags, list) or len(clean_tags) != len(tags) or not clean_tags:
            bad("tags", _("标签应为非空的文字列表"))
        elif any(re.search(TAG_SEPARATORS, t) for t in clean_tags):
            bad("tags", _("一个标签里不能有逗号或分号（Excel 中用它们分隔标签）"))
        elif len(clean_tags) > LIMITS["tags"] or any(len(t) > LIMITS["tag"] for t in clean_tags):
            bad("tags", _("标签最多 %(n)d 个，每个不超过 %(m)d 字", n=LIMITS["tags"], m=LIMITS["tag"]))

    retired = raw.get("retired")
    if retired is not None and not isinstance(retired, bool):
        bad("retired", _("retired 只能是 true 或 false"))

    options = _check_options(qtype, raw.get("options"), bad)
    answer = _check_answer(qtype, options, raw.get("answer"), "answer" in present, bad)

    if problems:
        return None, problems
    return Entry(bank_id=bank_id, module=module, qtype=qtype, difficulty=difficulty, stem=stem,
                 options=tuple(options or ()), answer=tuple(answer), explanation=texts["explanation"],
                 tags=tuple(clean_tags), source=texts["source"], retired=retired, file=file, line=line), []


def _check_options(qtype: str | None, raw: Any, bad) -> list[tuple[str, str]] | None:
    """Options in key order, or None when they are unusable (the answer check then stops)."""
    if qtype is None:
        return None
    if qtype == "fill":
        if raw not in (None, {}, []):
            bad("options", _("填空题不能有选项（options）"))
        return []
    if not isinstance(raw, dict) or not raw:
        bad("options", _("缺少选项（options），应为“键: 文字”"))
        return None
    keys = "".join(sorted(str(k) for k in raw))
    if keys not in OPTION_SETS[qtype]:
        wanted = _("或").join("、".join(s) for s in OPTION_SETS[qtype])
        bad("options", _("%(t)s的选项键必须正好是 %(w)s（现为 %(k)s）", t=TYPE_LABELS[qtype], w=wanted,
                         k="、".join(str(k) for k in raw)))
        return None
    options = []
    for key in sorted(raw):
        text = _text(raw[key])
        if not text or len(text) > LIMITS["option"] or _CONTROL.search(text):
            bad("options", _("选项 %(k)s 应为不超过 %(n)d 字的文字", k=key, n=LIMITS["option"]))
            return None
        options.append((key, text))
    if len({t for _k, t in options}) != len(options):
        bad("options", _("有两个选项的文字相同"))
        return None
    if qtype == "truefalse" and tuple(options) != TRUE_FALSE:
        bad("options", _("判断题的选项必须是 A: 正确、B: 错误"))
        return None
    return options


def _check_answer(qtype: str | None, options, raw: Any, present: bool, bad) -> list[str]:
    if not present or qtype is None:
        return []
    if not isinstance(raw, list) or any(not isinstance(a, str) for a in raw):
        bad("answer", _("答案应为文字列表（数字要加引号，如 '1921'）"))
        return []
    answer = [a.strip() for a in raw]
    if qtype == "fill":
        if any(not normalise(a) or len(a) > LIMITS["answer"] or "|" in a for a in answer):
            bad("answer", _("填空题的每个可接受答案都不能为空、不含“|”，且不超过 %(n)d 字", n=LIMITS["answer"]))
        return answer
    if options is None:
        return []
    keys = {k for k, _t in options}
    unknown = [a for a in answer if a not in keys]
    if unknown:
        bad("answer", _("答案“%(a)s”不在选项中（选项：%(k)s）", a="、".join(unknown), k="、".join(sorted(keys))))
    elif len(set(answer)) != len(answer):
        bad("answer", _("答案中有重复的选项"))
    elif qtype in ("single", "truefalse") and len(answer) != 1:
        bad("answer", _("%(t)s必须正好有一个答案（现有 %(n)d 个）", t=TYPE_LABELS[qtype], n=len(answer)))
    elif qtype == "multiple" and len(answer) < 2:
        bad("answer", _("多选题至少要有两个正确答案"))
    return sorted(answer)


def find_duplicate_ids(parsed: Parsed, seen: list[tuple[str, str, int]]) -> None:
    """Every occurrence of an id used twice is bad, so a skip never picks one at random."""
    where: dict[str, list[tuple[str, int]]] = {}
    for bank_id, file, line in seen:
        where.setdefault(bank_id, []).append((file, line))
    dupes = {i: locs for i, locs in where.items() if len(locs) > 1}
    for bank_id, locs in dupes.items():
        for file, line in locs:
            others = "、".join(f"{f}:{n}" for f, n in locs if (f, n) != (file, line))
            parsed.fail(file, line, bank_id, _("id 重复（另见 %(o)s）", o=others))
    parsed.entries = [e for e in parsed.entries if e.bank_id not in dupes]


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


def raw_from_cells(cells: dict[str, str]) -> dict:
    """A question as the YAML reader would see it, from Excel cells or the edit form.

    ``answer``: option keys separated by commas (``A,C``; ``AC`` also works), or for fill the
    accepted strings separated by ``|``. ``tags``: separated by commas.
    """
    qtype = TYPE_ALIASES.get(cells.get("type", "").lower(), cells.get("type") or None)
    module = MODULE_ALIASES.get(cells.get("module", "").lower(), cells.get("module") or None)
    difficulty: Any = cells.get("difficulty") or None
    if isinstance(difficulty, str) and difficulty.isdigit():
        difficulty = int(difficulty)
    options = {k: cells[k] for k in OPTION_KEYS if cells.get(k)}
    if qtype == "truefalse" and not options:
        options = dict(TRUE_FALSE)
    answer_text = cells.get("answer", "")
    if qtype == "truefalse":
        answer_text = TRUE_FALSE_WORDS.get(answer_text.strip().upper(), answer_text)
    if qtype == "fill":
        answer = [a for a in answer_text.split("|") if a.strip()]
    else:
        compact = re.sub(r"[\s,，、;；]+", ",", answer_text.upper()).strip(",")
        answer = list(compact) if re.fullmatch(r"[A-E]{2,5}", compact) else [a for a in compact.split(",") if a]
    raw = {"id": cells.get("id") or None, "module": module, "type": qtype, "difficulty": difficulty,
           "stem": cells.get("stem") or None, "options": options or None, "answer": answer or None,
           "explanation": cells.get("explanation") or None,
           "tags": [t for t in re.split(TAG_SEPARATORS, cells.get("tags", "")) if t.strip()] or None,
           "source": cells.get("source") or None}
    flag = (cells.get("retired") or "").lower()
    if flag:
        raw["retired"] = True if flag in TRUTHY else False if flag in FALSY else flag
    return raw


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
    header = [_cell(v).lower() for v in next(rows, ())]
    expected = [h.lower() for h in XLSX_HEADERS]
    if header[: len(expected)] != expected:
        parsed.fail(file, 1, None, _("表头应为：%(h)s。请下载模板填写。", h="、".join(XLSX_HEADERS)))
        return parsed, seen
    columns = XLSX_HEADERS + [h for h in XLSX_OPTIONAL if h in header[len(expected):]]
    for number, values in enumerate(rows, start=2):
        values = list(values or ())
        cells = {name: _cell(values[header.index(name.lower())] if header.index(name.lower()) < len(values) else None)
                 for name in columns}
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

YAML_SUFFIXES = (".yaml", ".yml")


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
                 explanation=version.explanation, tags=tuple(question.tags or ()), source=question.source,
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


XLSX_WIDTHS = {"id": 18, "module": 14, "type": 10, "difficulty": 8, "stem": 48, "A": 20, "B": 20, "C": 20, "D": 20,
               "E": 20, "answer": 14, "explanation": 48, "tags": 20, "source": 30}


def _row(e: Entry) -> list:
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


TEMPLATE_EXAMPLES = (
    Entry("theory-901", "theory", "single", 1, "政法干警核心价值观是什么？",
          (("A", "忠诚、为民、公正、廉洁"), ("B", "爱国、敬业、诚信、友善"), ("C", "团结、奋进、求实、创新"),
           ("D", "忠诚、干净、担当")), ("A",), "政法干警核心价值观是“忠诚、为民、公正、廉洁”。", ("核心价值观",), "公开资料"),
    Entry("political-901", "political", "multiple", 2, "政法队伍教育整顿的“四项任务”包括哪些？",
          (("A", "筑牢政治忠诚"), ("B", "清除害群之马"), ("C", "整治顽瘴痼疾"), ("D", "弘扬英模精神")),
          ("A", "B", "C", "D"), "四项任务是筑牢政治忠诚、清除害群之马、整治顽瘴痼疾、弘扬英模精神。", ("四项任务",), "公开资料"),
    Entry("warning-901", "warning", "truefalse", 1, "“自查从宽”意味着主动说明问题的干警一律不予处理。", TRUE_FALSE, ("B",),
          "从宽是依规依纪依法从轻、减轻或免予处理，不是一律不处理。", ("自查从宽",), "公开资料"),
    Entry("party-history-901", "party_history", "fill", 1, "中国共产党成立于____年。", (), ("1921", "1921年"),
          "1921年中共一大召开，中国共产党正式成立。", ("建党",), "公开资料"),
)


def template_workbook() -> bytes:
    """The downloadable Excel template: one example per type and a sheet of notes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = _sheet(wb, "题库导入", XLSX_HEADERS, XLSX_WIDTHS)
    for e in TEMPLATE_EXAMPLES:
        ws.append(_row(e))
    notes = wb.create_sheet("填写说明")
    for line in (
        "每行一道题；第 1 行是表头，请勿修改。示例行可以删除。",
        "id：题目的永久编号（字母、数字、-、_），同一 id 再次导入会更新该题，不会重复。",
        "module：theory 理论学习、political 政治教育、party_history 党史教育、warning 警示教育、role_model 英模教育（也可填中文）。",
        "type：single 单选、multiple 多选、truefalse 判断、fill 填空（也可填中文）。",
        "difficulty：1 易、2 中、3 难。",
        "A–E：选项。单选题填 A–D；多选题填 A–D 或 A–E；判断题可留空（自动为 A 正确、B 错误）；填空题留空。",
        "answer：选择题填选项字母，多个用逗号分隔，如 A,C；填空题填可接受的答案，多个用 | 分隔，如 1921|1921年。",
        "填空题的题干用 ____（四个下划线）标出唯一的空。",
        "explanation：解析；tags：标签，用逗号分隔；source：出处，如“公开资料”。",
        "有任何一行出错时整份文件都不会导入，除非勾选“跳过有错误的行”。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    return _save(wb)


# --- queries --------------------------------------------------------------------------------

#: ``sort`` values the admin search accepts; anything else is refused (QUALITY A26).
SORTS = {
    "id": (Question.bank_id,),
    "-id": (Question.bank_id.desc(),),
    "updated": (Question.updated_at.desc(), Question.id.desc()),
    "difficulty": (Question.difficulty, Question.bank_id),
    "-difficulty": (Question.difficulty.desc(), Question.bank_id),
    "module": (Question.module, Question.bank_id),
}


def search(session: Session, *, q: str = "", module: str | None = None, qtype: str | None = None,
           difficulty: int | None = None, retired: bool | None = None, sort: str = "id",
           page: int = 1, per_page: int = 30) -> tuple[list, int]:
    """(Question, current QuestionVersion) rows matching text in id, stem or tags, and the total.

    Tags are JSON: on SQLite and ``json`` columns the stored text escapes non-ASCII
    (``\\u4e60``), so the term is matched both as typed and JSON-escaped.
    """
    stmt = select(Question, QuestionVersion).join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
    if q:
        import json

        tags = cast(Question.tags, Text)
        stmt = stmt.where(or_(Question.bank_id.icontains(q, autoescape=True),
                              QuestionVersion.stem.icontains(q, autoescape=True),
                              tags.icontains(q, autoescape=True),
                              tags.icontains(json.dumps(q)[1:-1], autoescape=True)))
    if module:
        stmt = stmt.where(Question.module == module)
    if qtype:
        stmt = stmt.where(Question.qtype == qtype)
    if difficulty:
        stmt = stmt.where(Question.difficulty == difficulty)
    if retired is not None:
        stmt = stmt.where(Question.is_retired.is_(retired))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(*SORTS[sort]).limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def find(session: Session, bank_id: str) -> tuple[Question, QuestionVersion] | None:
    row = session.execute(select(Question, QuestionVersion)
                          .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
                          .where(Question.bank_id == bank_id)).first()
    return tuple(row) if row else None


def versions(session: Session, question_id: int) -> list[QuestionVersion]:
    return list(session.scalars(select(QuestionVersion).where(QuestionVersion.question_id == question_id)
                                .order_by(QuestionVersion.version.desc())))


def current_pool(session: Session, *, exclude_retired: bool = True) -> list:
    """The questions a new paper may draw, in one query: rows of (id — the current version's
    id, question_id, bank_id, qtype, module, difficulty), ordered by question so that a seeded
    draw is reproducible."""
    stmt = (select(QuestionVersion.id, QuestionVersion.question_id, Question.bank_id, Question.qtype,
                   Question.module, Question.difficulty)
            .join(Question, Question.current_version_id == QuestionVersion.id)
            .order_by(Question.id))
    if exclude_retired:
        stmt = stmt.where(Question.is_retired.is_(False))
    return list(session.execute(stmt))


# --- grading --------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """How fill answers compare: NFKC (full-width → half-width), case-folded, every whitespace
    character removed (the full-width space included). Repeated until stable, because removing
    a space can put combining marks side by side that NFKC then reorders; so it is idempotent."""
    for _round in range(10):
        folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def grade_answer(qtype: str, correct: list, given: list | None, multiple_partial: bool = False) -> float:
    """The fraction (0..1) of a question's points an answer earns.

    single/truefalse: exactly the key. multiple: all-or-nothing, or with ``multiple_partial``
    a correct subset with no wrong option earns len(given)/len(correct) (any wrong option: 0).
    fill: ``given`` is one string, right when ``normalise`` makes it equal to an accepted one.
    """
    if not given:
        return 0.0
    if qtype == "fill":
        if len(given) != 1 or not isinstance(given[0], str) or not normalise(given[0]):
            return 0.0
        return 1.0 if normalise(given[0]) in {normalise(a) for a in correct} else 0.0
    if qtype not in ("single", "truefalse", "multiple"):
        raise ValueError(f"unknown question type {qtype!r}")
    chosen, key = set(given), set(correct)
    if chosen == key:
        return 1.0
    if qtype == "multiple" and multiple_partial and chosen < key:
        return len(chosen) / len(key)
    return 0.0
