"""The bank's file format (question_bank/README.md): what a question is (``Entry``), the one
set of rules it must pass (``check_entry``), and how Excel cells and the edit form map onto it
(``raw_from_cells``). Files, Excel rows and the admin form are all checked here, so the rules
have one home. Nothing here touches the database; reading files is ``bank_read``.

Stems, options and explanations are plain text. They are never rendered as HTML: the pages
escape them (Jinja autoescape) and the Excel export neutralises formula prefixes (QUALITY A25),
so markup in a stem shows as the characters typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import MODULES, QUESTION_TYPES
from ..models.modules import REGISTRY
from .grading import normalise

TYPE_LABELS = {"single": _l("单选题"), "multiple": _l("多选题"), "truefalse": _l("判断题"), "fill": _l("填空题")}

#: Keys of a question in a bank file, in the order the files (and the export) write them.
FIELDS = ("id", "module", "type", "difficulty", "stem", "options", "answer", "explanation", "tags", "source",
          "retired")
REQUIRED = ("id", "module", "type", "difficulty", "stem", "answer", "explanation")
#: Values that count as "not given": a key left out, written without a value, or empty.
EMPTY = (None, "", [], {})
FIELD_LABELS = {"id": _l("编号"), "module": _l("模块"), "type": _l("题型"), "difficulty": _l("难度"), "stem": _l("题干"),
                "answer": _l("答案"), "explanation": _l("解析"), "tags": _l("标签"), "source": _l("来源")}
#: Every option key, in order. A question's keys are the first n of them (A, B, C … without gaps).
OPTION_KEYS = "ABCDEFGH"
#: How many options each type may have (fewest, most); true/false is always A 正确, B 错误.
OPTION_COUNTS = {"single": (2, 6), "multiple": (3, 8), "truefalse": (2, 2)}
TRUE_FALSE = (("A", "正确"), ("B", "错误"))
BLANK = "____"
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
LIMITS = {"stem": 1000, "option": 300, "explanation": 2000, "tag": 32, "tags": 10, "source": 200, "answer": 100}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

#: Columns of the Excel template (row 1); ``retired`` is optional and written by the export.
XLSX_HEADERS = ["id", "module", "type", "difficulty", "stem", *OPTION_KEYS, "answer", "explanation", "tags", "source"]
XLSX_OPTIONAL = ["retired"]
#: Option columns an older template has (A–E); the reader accepts any run from A–E to A–H.
XLSX_MIN_OPTION_COLUMNS = 5
#: A module may be written as its code, its Chinese name or its code with hyphens (``party-history``).
MODULE_ALIASES = {alias: m.code for m in REGISTRY for alias in (m.code, m.name, m.code.replace("_", "-"))}
TYPE_ALIASES = {**{t: t for t in QUESTION_TYPES}, "单选": "single", "单选题": "single", "多选": "multiple",
                "多选题": "multiple", "判断": "truefalse", "判断题": "truefalse", "填空": "fill", "填空题": "fill"}
TAG_SEPARATORS = r"[,，;；]"
#: Excel answers of a true/false question may also be written as words.
TRUE_FALSE_WORDS = {"正确": "A", "对": "A", "√": "A", "T": "A", "TRUE": "A",
                    "错误": "B", "错": "B", "×": "B", "F": "B", "FALSE": "B"}
TRUTHY = {"true", "yes", "1", "是", "已停用", "停用"}
FALSY = {"false", "no", "0", "否"}
YAML_SUFFIXES = (".yaml", ".yml")


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
    #: () and "" when the file gives none: both are optional.
    tags: tuple[str, ...] = ()
    source: str = ""
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
        out.update(answer=list(self.answer), explanation=self.explanation)
        if self.tags:
            out["tags"] = list(self.tags)
        if self.source:
            out["source"] = self.source
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
        if raw.get(key) in EMPTY:
            bad(key, _("缺少%(f)s（%(k)s）", f=FIELD_LABELS[key], k=key))
    # tags and source are optional: left out (or empty) they are stored as none.
    present = {k for k in FIELDS if k in raw and raw[k] not in EMPTY}

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
    given = "、".join(_show(k) for k in raw)
    fewest, most = OPTION_COUNTS[qtype]
    if qtype == "truefalse" and sorted(map(str, raw)) != ["A", "B"]:
        bad("options", _("%(t)s的选项键必须正好是 %(w)s（现为 %(k)s）", t=TYPE_LABELS[qtype], w="A、B", k=given))
        return None
    if not fewest <= len(raw) <= most:
        bad("options", _("%(t)s应有 %(lo)d–%(hi)d 个选项（现有 %(n)d 个：%(k)s）", t=TYPE_LABELS[qtype], lo=fewest,
                         hi=most, n=len(raw), k=given))
        return None
    if sorted(map(str, raw)) != list(OPTION_KEYS[:len(raw)]):
        bad("options", _("选项键应从 A 起连续（%(n)d 个选项应为 %(w)s，现为 %(k)s）", n=len(raw),
                         w="、".join(OPTION_KEYS[:len(raw)]), k=given))
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


# --- Excel cells and the edit form ----------------------------------------------------------

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
        run = f"[{OPTION_KEYS[0]}-{OPTION_KEYS[-1]}]{{2,{len(OPTION_KEYS)}}}"  # "ACE" means A, C, E
        answer = list(compact) if re.fullmatch(run, compact) else [a for a in compact.split(",") if a]
    raw = {"id": cells.get("id") or None, "module": module, "type": qtype, "difficulty": difficulty,
           "stem": cells.get("stem") or None, "options": options or None, "answer": answer or None,
           "explanation": cells.get("explanation") or None,
           "tags": [t for t in re.split(TAG_SEPARATORS, cells.get("tags", "")) if t.strip()] or None,
           "source": cells.get("source") or None}
    flag = (cells.get("retired") or "").lower()
    if flag:
        raw["retired"] = True if flag in TRUTHY else False if flag in FALSY else flag
    return raw

