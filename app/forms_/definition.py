"""A form's definition (the JSON of a version) and the answers to it: the one place that knows
the field types.

A definition is ``{"fields": [field, ...]}``; a ``section`` field starts a new section (a
heading), every other field is a question::

    {"key": "f3", "type": "group", "label": "亲属从业情况", "help": "", "required": False,
     "columns": [{"key": "c1", "label": "姓名"}, ...]}

Answers are ``{key: value}``: text/long text/single/date/number a string, multiple a list of
strings, yes/no ``{"value": "yes"|"no"|"", "details": str}`` (the field may carry a
``details_label``, the prompt for the details), a group a list of rows
``{column key: str}``. Files are rows of their own (FormFile), not answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from ..timeutils import parse_date_arg

FIELD_TYPES = ("section", "text", "textarea", "single", "multi", "yesno", "date", "number", "group", "file")
CHOICE_TYPES = ("single", "multi")
MAX_FIELDS = 80
MAX_OPTIONS = 30
MAX_COLUMNS = 8
MAX_ROWS = 30
MAX_LABEL = 200
MAX_HELP = 500
MAX_TEXT = {"text": 200, "textarea": 5000, "details": 2000, "cell": 200, "number": 30}
KEY = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?", re.ASCII)


class DefinitionError(ValueError):
    """A definition the builder must not publish; ``code`` names the problem."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def _clean_text(value, limit: int) -> str:
    return str(value or "").replace("\x00", "").strip()[:limit]


def validate_definition(definition: dict, publishing: bool = True) -> dict:
    """The definition, checked and normalised; DefinitionError otherwise. A published version
    must hold at least one question (``publishing``); the builder's draft may be empty."""
    fields = (definition or {}).get("fields")
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise DefinitionError("shape")
    seen, out = set(), []
    for raw in fields:
        if not isinstance(raw, dict) or raw.get("type") not in FIELD_TYPES:
            raise DefinitionError("type")
        key = raw.get("key")
        if not isinstance(key, str) or not KEY.fullmatch(key) or key in seen:
            raise DefinitionError("key", key=key)
        seen.add(key)
        item = {"key": key, "type": raw["type"], "label": _clean_text(raw.get("label"), MAX_LABEL),
                "help": _clean_text(raw.get("help"), MAX_HELP), "required": bool(raw.get("required"))}
        if not item["label"]:
            raise DefinitionError("label", key=key)
        if item["type"] in CHOICE_TYPES:
            options = [_clean_text(o, MAX_LABEL) for o in raw.get("options") or []]
            options = [o for o in options if o]
            if len(options) < 2 or len(options) > MAX_OPTIONS or len(set(options)) != len(options):
                raise DefinitionError("options", key=key)
            item["options"] = options
        if item["type"] == "group":
            columns = raw.get("columns") or []
            if not 1 <= len(columns) <= MAX_COLUMNS:
                raise DefinitionError("columns", key=key)
            item["columns"] = [{"key": f"c{i + 1}", "label": _clean_text(c.get("label") if isinstance(c, dict) else c,
                                                                       MAX_LABEL)} for i, c in enumerate(columns)]
            if not all(c["label"] for c in item["columns"]):
                raise DefinitionError("columns", key=key)
        if item["type"] == "yesno" and _clean_text(raw.get("details_label"), MAX_LABEL):
            # Only when set, so definitions written before the prompt existed stay equal.
            item["details_label"] = _clean_text(raw.get("details_label"), MAX_LABEL)
        if item["type"] == "section":
            item["required"] = False
        out.append(item)
    if publishing and not any(f["type"] != "section" for f in out):
        raise DefinitionError("empty")
    return {"fields": out}


def differs(draft: dict, published: dict | None) -> bool:
    """Whether publishing ``draft`` would make a new version: nothing is published yet, or the
    draft, normalised as ``validate_definition`` does, is not the published definition (a draft
    that does not validate differs too: it cannot be what was published)."""
    if published is None:
        return True
    try:
        return validate_definition(draft, publishing=False) != published
    except DefinitionError:
        return True


def questions(definition: dict) -> list[dict]:
    return [f for f in (definition or {}).get("fields", []) if f["type"] != "section"]


def sections(definition: dict) -> list[dict]:
    """``[{"title": str, "fields": [...]}]``: the questions under each section heading."""
    out = [{"title": "", "fields": []}]
    for f in (definition or {}).get("fields", []):
        if f["type"] == "section":
            out.append({"title": f["label"], "help": f.get("help", ""), "fields": []})
        else:
            out[-1]["fields"].append(f)
    return [s for s in out if s["fields"] or s["title"]]


def parse_post(definition: dict, form) -> dict:
    """Answers from a page's form fields (``f_<key>``, ``f_<key>_details``, ``f_<key>__<row>__<col>``).

    Lenient, for drafts: every value is cut to its limit, unknown choices are dropped, a row
    whose cells are all empty is left out. ``check_complete`` decides whether it may be submitted."""
    answers: dict = {}
    for f in questions(definition):
        name, kind = f"f_{f['key']}", f["type"]
        if kind in ("text", "textarea", "date"):
            answers[f["key"]] = _clean_text(form.get(name), MAX_TEXT.get(kind, 20))
        elif kind == "number":
            answers[f["key"]] = _clean_text(form.get(name), MAX_TEXT["number"])
        elif kind == "single":
            value = form.get(name) or ""
            answers[f["key"]] = value if value in f["options"] else ""
        elif kind == "multi":
            chosen = set(form.getlist(name))
            answers[f["key"]] = [o for o in f["options"] if o in chosen]
        elif kind == "yesno":
            value = form.get(name) or ""
            answers[f["key"]] = {"value": value if value in ("yes", "no") else "",
                                 "details": _clean_text(form.get(f"{name}_details"), MAX_TEXT["details"])}
        elif kind == "group":
            rows = []
            for r in range(MAX_ROWS):
                row = {c["key"]: _clean_text(form.get(f"{name}__{r}__{c['key']}"), MAX_TEXT["cell"])
                       for c in f["columns"]}
                if any(row.values()):
                    rows.append(row)
            answers[f["key"]] = rows
    return answers


class AnswerShapeError(ValueError):
    """JSON answers (the API) whose value for ``key`` is not of the documented type; ``key`` is
    empty when the answers are not an object at all."""

    def __init__(self, key: str, expected: str):
        super().__init__(key)
        self.key, self.expected = key, expected


def _strings(values) -> bool:
    return all(isinstance(v, str) for v in values)


def parse_json(definition: dict, answers) -> dict:
    """Answers sent as JSON in the shape of the module docstring, turned into the page's fields
    and read by ``parse_post``, so the API and the page keep the same limits and leniency.
    Keys that are not questions of this version (and file fields, whose answers are rows of
    their own) are ignored; a missing or null key is an empty answer; a value of the wrong type
    raises AnswerShapeError, nothing is guessed."""
    if not isinstance(answers, dict):
        raise AnswerShapeError("", "object")
    fields: MultiDict = MultiDict()
    for f in questions(definition):
        key, kind, name = f["key"], f["type"], f"f_{f['key']}"
        value = answers.get(key)
        if value is None or kind == "file":
            continue
        if kind in ("text", "textarea", "date", "number", "single"):
            if not isinstance(value, str):
                raise AnswerShapeError(key, "string")
            fields.add(name, value)
        elif kind == "multi":
            if not isinstance(value, list) or not _strings(value):
                raise AnswerShapeError(key, "array of strings")
            for item in value:
                fields.add(name, item)
        elif kind == "yesno":
            if not isinstance(value, dict) or not _strings(value.get(k, "") for k in ("value", "details")):
                raise AnswerShapeError(key, 'object {"value": "yes"|"no"|"", "details": string}')
            fields.add(name, value.get("value", ""))
            fields.add(f"{name}_details", value.get("details", ""))
        elif kind == "group":
            columns = [c["key"] for c in f["columns"]]
            if (not isinstance(value, list) or len(value) > MAX_ROWS
                    or not all(isinstance(row, dict) and _strings(row.get(c, "") for c in columns) for row in value)):
                raise AnswerShapeError(key, f"array of at most {MAX_ROWS} objects of strings")
            for r, row in enumerate(value):
                for c in columns:
                    fields.add(f"{name}__{r}__{c}", row.get(c, ""))
    return parse_post(definition, fields)


@dataclass
class Problems:
    """Field key → error code (``required``, ``date``, ``number``, ``details``, ``row``)."""

    by_key: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_key)


def check_complete(definition: dict, answers: dict, files_by_key: dict) -> Problems:
    """What stops these answers from being submitted: required fields empty, a date or number
    that is not one, "yes" without details, a group row with an empty cell."""
    problems = Problems()
    for f in questions(definition):
        key, kind, value = f["key"], f["type"], answers.get(f["key"])
        if kind == "file":
            empty = not files_by_key.get(key)
        elif kind == "yesno":
            value = value or {}
            empty = not value.get("value")
            if value.get("value") == "yes" and not value.get("details"):
                problems.by_key[key] = "details"
                continue
        elif kind == "group":
            empty = not value
            if value and any(not all(row.get(c["key"]) for c in f["columns"]) for row in value):
                problems.by_key[key] = "row"
                continue
        else:
            empty = not value
        if empty:
            if f["required"]:
                problems.by_key[key] = "required"
            continue
        if kind == "date":
            try:
                parse_date_arg(value)
            except ValueError:
                problems.by_key[key] = "date"
        elif kind == "number" and not NUMBER.fullmatch(value):
            problems.by_key[key] = "number"
    return problems


def display_value(f: dict, value, labels: dict) -> str:
    """One answer as a line of text (pages and the Excel export); ``labels`` has 是/否."""
    kind = f["type"]
    if kind == "multi":
        return "、".join(value or [])
    if kind == "yesno":
        value = value or {}
        word = labels.get(value.get("value"), "")
        return f"{word}：{value['details']}" if value.get("details") else word
    if kind == "group":
        return str(len(value or []))
    return str(value or "")
