"""The question bank (issue #4 items 1–3): format, shipped bank, CLI import/export, versions,
the exam pool (QUALITY E22 groundwork). The grading rule is in test_grading.py."""
from __future__ import annotations

import io
import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select

from app.db import db
from app.exams import bank_format, bank_io, bank_queries, bank_read
from app.models import MODULES, QUESTION_TYPES, AuditLog, Question, QuestionVersion

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "question_bank"
DATA = Path(__file__).resolve().parent / "data"


# --- helpers --------------------------------------------------------------------------------

def question(bank_id: str = "t-001", **fields) -> dict:
    """A valid single-choice question as a bank file writes it; ``fields`` override keys."""
    q = {"id": bank_id, "module": "theory", "type": "single", "difficulty": 1, "stem": "政法干警核心价值观是什么？",
         "options": {"A": "忠诚、为民、公正、廉洁", "B": "爱国、敬业", "C": "团结、奋进", "D": "忠诚、干净、担当"},
         "answer": ["A"], "explanation": "见公开资料。", "tags": ["核心价值观"], "source": "公开资料"}
    q.update(fields)
    return {k: v for k, v in q.items() if v is not None}


def write_bank(path: Path, *questions: dict) -> Path:
    path.write_text(yaml.safe_dump(list(questions), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def markers(path: Path) -> list[tuple[int, str, str]]:
    """(line, id, reason fragment) of each ``# expect: ID | TEXT`` comment in a fixture file."""
    found = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if "# expect:" in text:
            bank_id, fragment = (s.strip() for s in text.split("# expect:", 1)[1].split("|", 1))
            found.append((number, bank_id, fragment))
    return found


def bank_import(app, *args):
    return app.test_cli_runner().invoke(args=["bank", "import", *map(str, args)])


def counts(app) -> tuple[int, int]:
    """(questions, versions) stored."""
    with app.app_context():
        s = db.session
        return s.scalar(select(func.count(Question.id))), s.scalar(select(func.count(QuestionVersion.id)))


def load_shipped(app) -> None:
    with app.app_context():
        bank_io.import_entries(db.session, list(shipped_entries()))
        db.session.commit()


@lru_cache(maxsize=1)
def shipped_entries() -> tuple[bank_format.Entry, ...]:
    return tuple(bank_read.read_path(SHIPPED).entries)


# --- the format and the shipped bank --------------------------------------------------------

def test_shipped_bank_is_valid_and_complete():
    """The shipped bank passes every check: ≥300 questions, every module × type present, ids unique."""
    parsed = bank_read.read_path(SHIPPED)
    assert parsed.problems == []
    entries = parsed.entries
    assert len(entries) >= 300
    assert len({e.bank_id for e in entries}) == len(entries)
    cells = Counter((e.module, e.qtype) for e in entries)
    assert {(m, t) for m in MODULES for t in QUESTION_TYPES} <= set(cells)
    assert min(cells.values()) >= 10
    assert all(e.explanation and e.tags and e.source for e in entries)
    assert {e.difficulty for e in entries} == {1, 2, 3}


def test_every_error_kind_is_reported_with_file_line_and_id():
    """Each bad entry is reported at its line with its id and reason; only the good entry survives."""
    path = DATA / "bank_bad.yaml"
    parsed = bank_read.read_path(path)
    got = {(p.line, p.bank_id): p.reason for p in parsed.problems}
    expected = markers(path)
    assert len(expected) == 19
    for line, bank_id, fragment in expected:
        assert (line, bank_id) in got, f"nothing reported at line {line} for {bank_id}"
        assert fragment in got[(line, bank_id)], got[(line, bank_id)]
        assert all(p.file == str(path) for p in parsed.problems)
    assert len(parsed.problems) == len(expected), [str(p) for p in parsed.problems]
    assert [e.bank_id for e in parsed.entries] == ["good-001"]
    assert parsed.skipped == 19  # one bad entry per marker


def test_yaml_syntax_error_names_the_line():
    """A YAML syntax error is reported with the line it is on, and the file yields nothing."""
    parsed = bank_read.read_path(DATA / "bank_syntax.yaml")
    assert parsed.entries == []
    [problem] = parsed.problems
    assert problem.line == 7 and "YAML 语法错误" in problem.reason


@pytest.mark.parametrize("content, fragment", [
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "网页"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "二进制"),
    (b"\xff\xfe\x00b\x00a", "二进制"),
    ("id: theory-001\n".encode(), "题目列表"),
    ("- !!python/object/apply:os.system ['true']\n".encode(), "YAML"),
], ids=["html", "png", "utf16", "not-a-list", "python-tag"])
def test_unreadable_yaml_is_refused_with_a_reason(content, fragment):
    """Disguised HTML, binary data, a non-list and unsafe tags are refused with a clear reason."""
    parsed = bank_read.read_files([("upload.yaml", content)])
    assert parsed.entries == [] and parsed.problems
    assert fragment in parsed.problems[0].reason


def test_yaml_alias_bomb_is_reported_not_expanded():
    """Nested YAML aliases (a "billion laughs" file) are named as wrong values, never expanded."""
    levels = ["- &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"- &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = "\n".join(levels) + "\n- {id: *a9, module: *a9, type: single, difficulty: 1, stem: *a9}\n"
    parsed = bank_read.read_files([("bomb.yaml", text.encode())])
    assert parsed.entries == []
    assert any("未知的模块“list”" in p.reason for p in parsed.problems)


def test_file_named_after_a_module_holds_only_that_module(tmp_path):
    """In theory.yaml every question's module must be theory (the README's rule)."""
    parsed = bank_read.read_path(write_bank(tmp_path / "theory.yaml", question(module="warning")))
    assert [p.line for p in parsed.problems] == [2] and "文件名" in parsed.problems[0].reason


def test_duplicate_ids_across_files(tmp_path):
    """An id used in two files of one input is reported in both, and neither is imported."""
    write_bank(tmp_path / "a.yaml", question("x-1"))
    write_bank(tmp_path / "b.yaml", question("x-1", stem="另一道题？"))
    parsed = bank_read.read_path(tmp_path)
    assert parsed.entries == []
    assert sorted(Path(p.file).name for p in parsed.problems) == ["a.yaml", "b.yaml"]
    assert all("id 重复" in p.reason for p in parsed.problems)


# --- CLI import -----------------------------------------------------------------------------

def test_cli_bad_entries_named_and_nothing_imported(app):
    """bank import lists every bad entry as file:line: id: reason, exits non-zero, imports nothing."""
    path = DATA / "bank_bad.yaml"
    result = bank_import(app, path)
    assert result.exit_code != 0
    lines = result.output.splitlines()
    for line, bank_id, fragment in markers(path):
        prefix = f"{path}:{line}: {bank_id}: "
        assert any(out.startswith(prefix) and fragment in out for out in lines), prefix
    assert "nothing imported" in result.output
    assert counts(app) == (0, 0)


def test_cli_syntax_error_imports_nothing_from_any_file(app, tmp_path):
    """One broken file in a directory stops the whole import."""
    write_bank(tmp_path / "good.yaml", question())
    (tmp_path / "broken.yaml").write_bytes((DATA / "bank_syntax.yaml").read_bytes())
    result = bank_import(app, tmp_path)
    assert result.exit_code != 0 and "broken.yaml:7: -: YAML 语法错误" in result.output
    assert counts(app) == (0, 0)


def test_cli_skip_invalid_imports_the_rest(app):
    """--skip-invalid imports the good entries, still lists the bad ones, and exits 0."""
    result = bank_import(app, DATA / "bank_bad.yaml", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "created 1," in result.output and "skipped 19" in result.output
    assert "bad-module: 未知的模块" in result.output
    with app.app_context():
        assert list(db.session.scalars(select(Question.bank_id))) == ["good-001"]
        audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "bank.import"))
        assert audit.after["created"] == 1 and audit.after["skipped"] == 19


def test_cli_dry_run_writes_nothing(app, tmp_path):
    """--dry-run reports what would change and writes nothing, not even an audit row."""
    result = bank_import(app, write_bank(tmp_path / "b.yaml", question("a-1"), question("a-2")), "--dry-run")
    assert result.exit_code == 0 and "would have created 2" in result.output
    assert counts(app) == (0, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditLog.id))) == 0


def test_cli_import_of_shipped_bank_then_again_is_unchanged(app):
    """Importing the shipped bank twice creates every question once; the second run changes nothing."""
    first = bank_import(app, SHIPPED)
    assert first.exit_code == 0, first.output
    n = len(shipped_entries())
    assert f"created {n}," in first.output
    second = bank_import(app, SHIPPED)
    assert f"created 0, updated 0 (0 new versions), unchanged {n}" in second.output
    assert counts(app) == (n, n)


def test_reimport_updates_by_id_and_keeps_old_versions(app, tmp_path):
    """Re-import updates by id, never duplicates; a content edit adds a version and keeps the old row (E22)."""
    path = tmp_path / "b.yaml"
    bank_import(app, write_bank(path, question("q-1"), question("q-2", difficulty=2)))
    with app.app_context():
        q1 = db.session.scalar(select(Question).where(Question.bank_id == "q-1"))
        v1_id = q1.current_version_id

    edited = question("q-1", answer=["B"], explanation="改正后的解析。")
    result = bank_import(app, write_bank(path, edited, question("q-2", difficulty=3, tags=["新标签"])))
    assert "created 0, updated 2 (1 new versions), unchanged 0" in result.output, result.output
    assert counts(app) == (2, 3)
    with app.app_context():
        s = db.session
        q1 = s.scalar(select(Question).where(Question.bank_id == "q-1"))
        old, new = s.get(QuestionVersion, v1_id), s.get(QuestionVersion, q1.current_version_id)
        assert (old.version, old.answer, old.explanation) == (1, ["A"], "见公开资料。")
        assert (new.version, new.answer, new.explanation) == (2, ["B"], "改正后的解析。")
        q2 = s.scalar(select(Question).where(Question.bank_id == "q-2"))
        assert (q2.difficulty, q2.tags) == (3, ["新标签"])
        assert s.scalar(select(func.count(QuestionVersion.id)).where(QuestionVersion.question_id == q2.id)) == 1
        pool = {row.bank_id: row.id for row in bank_queries.current_pool(s)}
        assert pool["q-1"] == new.id


def test_question_type_cannot_change(app, tmp_path):
    """Re-importing an id with another type is refused: served versions do not record their type."""
    path = tmp_path / "b.yaml"
    bank_import(app, write_bank(path, question("q-1")))
    tf = question("q-1", type="truefalse", options={"A": "正确", "B": "错误"}, answer=["B"])
    result = bank_import(app, write_bank(path, tf))
    assert result.exit_code != 0 and f"{path}:1: q-1: 题型不能修改" in result.output
    with app.app_context():
        assert db.session.scalar(select(Question.qtype)) == "single"


def test_retired_flag_survives_reimport(app, tmp_path):
    """A question retired in the database stays retired when a file without ``retired`` is imported;
    ``retired: false`` brings it back."""
    path = write_bank(tmp_path / "b.yaml", question("q-1"))
    bank_import(app, path)
    with app.app_context():
        bank_io.set_retired(db.session, db.session.scalar(select(Question)), True)
        db.session.commit()
    assert "unchanged 1" in bank_import(app, path).output
    with app.app_context():
        assert db.session.scalar(select(Question.is_retired)) is True
    bank_import(app, write_bank(path, question("q-1", retired=False)))
    with app.app_context():
        assert db.session.scalar(select(Question.is_retired)) is False


# --- export ---------------------------------------------------------------------------------

def test_export_reproduces_the_shipped_files(app, tmp_path):
    """bank export of the imported shipped bank writes files identical to question_bank/*.yaml."""
    load_shipped(app)
    out = tmp_path / "export"
    result = app.test_cli_runner().invoke(args=["bank", "export", str(out)])
    assert result.exit_code == 0, result.output
    for module in MODULES:
        assert (out / f"{module}.yaml").read_text(encoding="utf-8") == (SHIPPED / f"{module}.yaml").read_text(
            encoding="utf-8"), module


@pytest.mark.parametrize("name", ["bank.yaml", "bank.xlsx", "dir"])
def test_export_then_import_changes_nothing(app, tmp_path, name):
    """Export (a directory, one YAML file or Excel) then import: every question unchanged, and
    the export re-parses to the same data, retired questions included."""
    load_shipped(app)
    with app.app_context():
        s = db.session
        bank_io.set_retired(s, s.scalar(select(Question).where(Question.bank_id == "theory-001")), True)
        s.commit()
        before = bank_io.all_entries(s)
    target = tmp_path / name
    assert app.test_cli_runner().invoke(args=["bank", "export", str(target)]).exit_code == 0
    reparsed = bank_read.read_path(target)
    assert reparsed.problems == []
    strip = lambda entries: sorted((e.to_yaml() for e in entries), key=lambda d: d["id"])  # noqa: E731
    assert strip(reparsed.entries) == strip(before)
    result = bank_import(app, target)
    assert f"created 0, updated 0 (0 new versions), unchanged {len(before)}" in result.output, result.output
    assert counts(app) == (len(before), len(before))


def test_excel_export_neutralises_formulas(app, tmp_path):
    """Excel export cells starting with = + - @ get a leading apostrophe (A25) and import back unchanged."""
    path = write_bank(tmp_path / "b.yaml", question("f-1", stem="=HYPERLINK(\"http://x\")是什么？",
                                                    options={"A": "+1", "B": "-1", "C": "@SUM(A1)", "D": "丁"},
                                                    explanation="=1+1", tags=["-标签"]))
    bank_import(app, path)
    out = tmp_path / "b.xlsx"
    app.test_cli_runner().invoke(args=["bank", "export", str(out)])
    ws = load_workbook(out).active
    row = dict(zip((c.value for c in ws[1]), (c.value for c in ws[2])))
    assert row["stem"].startswith("'=") and [row[k] for k in "ABC"] == ["'+1", "'-1", "'@SUM(A1)"]
    assert row["explanation"] == "'=1+1" and row["tags"] == "'-标签"
    assert all(c.data_type != "f" for c in ws[2])
    assert "unchanged 1" in bank_import(app, out).output


# --- Excel import ---------------------------------------------------------------------------

#: The template's header before options F–H (issue 16); such workbooks still import.
OLD_HEADERS = ["id", "module", "type", "difficulty", "stem", "A", "B", "C", "D", "E", "answer", "explanation", "tags",
               "source"]


def workbook(rows: list[list], header: list[str] | None = None) -> bytes:
    """A workbook with ``header`` (default: the older A–E template) and ``rows``."""
    wb = Workbook()
    ws = wb.active
    ws.append(header or OLD_HEADERS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_template_examples_are_valid():
    """The downloadable template's example rows (one per type) pass the checks."""
    parsed = bank_read.read_files([("模板.xlsx", bank_io.template_workbook())])
    assert parsed.problems == []
    assert sorted(e.qtype for e in parsed.entries) == sorted(QUESTION_TYPES)


def test_excel_rows_checked_like_yaml():
    """Excel rows get the YAML rules; problems name the row; answers, tags and type words are read."""
    data = workbook([
        ["x-1", "理论学习", "单选", 2, "题干？", "甲", "乙", "丙", "丁", None, "b", "解析。", "甲,乙", "公开资料"],
        ["x-2", "theory", "multiple", 1, "题干？", "甲", "乙", "丙", "丁", "戊", "A，C、E", "解析。", "甲", "公开资料"],
        ["x-3", "warning", "判断", 1, "题干。", None, None, None, None, None, "错误", "解析。", "甲", "公开资料"],
        ["x-4", "party_history", "fill", 1, "成立于____年。", None, None, None, None, None, "1921|1921年", "解析。", "甲",
         "公开资料"],
        ["x-5", "theory", "single", 5, "题干？", "甲", "乙", "丙", "丁", None, "F", "解析。", "甲", "公开资料"],
        [None] * 14,
        ["x-1", "theory", "single", 1, "", "甲", "乙", "丙", "丁", None, "A", "解析。", "甲", "公开资料"],
    ])
    parsed = bank_read.read_files([("q.xlsx", data)])
    got = {e.bank_id: e for e in parsed.entries}
    assert set(got) == {"x-2", "x-3", "x-4"}
    assert got["x-2"].answer == ("A", "C", "E") and got["x-3"].answer == ("B",)
    assert got["x-3"].options == bank_format.TRUE_FALSE and got["x-4"].answer == ("1921", "1921年")
    reasons = Counter()
    for p in parsed.problems:
        reasons[(p.line, p.bank_id)] += 1
    text = "\n".join(map(str, parsed.problems))
    assert "q.xlsx:6: x-5: 难度只能是" in text and "q.xlsx:6: x-5: 答案“F”不在选项中" in text
    assert "q.xlsx:8: x-1: 缺少题干" in text and "q.xlsx:2: x-1: id 重复（另见 q.xlsx:8）" in text
    assert set(reasons) == {(6, "x-5"), (8, "x-1"), (2, "x-1")} and parsed.skipped == 3


def test_excel_wrong_header_or_not_a_workbook():
    """A sheet without the template header, or a file that is no workbook, is refused with a reason."""
    wrong = bank_read.read_files([("q.xlsx", workbook([["x"]], header=["编号", "题干"]))])
    assert "表头应为" in wrong.problems[0].reason
    a_to_d = [h for h in OLD_HEADERS if h != "E"]
    assert "表头应为" in bank_read.read_files([("q.xlsx", workbook([["x"]], header=a_to_d))]).problems[0].reason
    fake = bank_read.read_files([("q.xlsx", b"<html><script>alert(1)</script></html>")])
    assert "不是有效的 Excel" in fake.problems[0].reason


# --- the pool -------------------------------------------------------------------------------

def test_current_pool_is_one_query_of_current_active_versions(app, tmp_path):
    """current_pool: one query; current versions only; retired questions left out unless asked."""
    bank_import(app, write_bank(tmp_path / "b.yaml", question("p-1"), question("p-2"), question("p-3")))
    bank_import(app, write_bank(tmp_path / "b.yaml", question("p-1", stem="新题干？"), question("p-2"),
                                question("p-3")))
    with app.app_context():
        s = db.session
        bank_io.set_retired(s, s.scalar(select(Question).where(Question.bank_id == "p-3")), True)
        s.flush()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            pool = bank_queries.current_pool(s)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        assert [r.bank_id for r in pool] == ["p-1", "p-2"]
        p1 = s.scalar(select(Question).where(Question.bank_id == "p-1"))
        assert pool[0].id == p1.current_version_id and pool[0].question_id == p1.id
        assert (pool[0].qtype, pool[0].module, pool[0].difficulty) == ("single", "theory", 1)
        assert len(bank_queries.current_pool(s, exclude_retired=False)) == 3


def test_demo_content_loads_the_shipped_bank(app, clock):
    """seed demo's exam content is the shipped bank (so `make run` has questions)."""
    from app.seed import exams_demo as demo

    with app.app_context():
        assert demo.load_content(db.session, clock.now) == {"questions": len(shipped_entries())}
        db.session.commit()
    assert counts(app)[0] == len(shipped_entries())


# --- an office's own bank (issue 16) --------------------------------------------------------

OFFICE = DATA / "office_bank.yaml"


def office_raw() -> list[dict]:
    return yaml.safe_load(OFFICE.read_text(encoding="utf-8"))


def office_workbook(header: list[str]) -> bytes:
    """The office bank typed into a workbook with ``header``, as an office fills the template:
    tags and source left empty; questions with more options than the header has columns left out."""
    rows = []
    for q in office_raw():
        options = q.get("options", {})
        if not set(options) <= set(header):
            continue
        cells = {**q, **options, "answer": ("|" if q["type"] == "fill" else ",").join(q["answer"])}
        rows.append([cells.get(h) for h in header])
    return workbook(rows, header)


def test_office_bank_without_tags_or_source_imports_cleanly(app):
    """A held-out office file (no tags or source; singles with 3 and 5 options, a multiple with 7) imports."""
    parsed = bank_read.read_path(OFFICE)
    assert parsed.problems == []
    got = {e.bank_id: e for e in parsed.entries}
    assert {k: len(e.options) for k, e in got.items()} == {"office-001": 3, "office-002": 5, "office-003": 7,
                                                           "office-004": 2, "office-005": 0}
    assert all(e.tags == () and e.source == "" for e in got.values())
    assert got["office-002"].answer == ("E",) and got["office-003"].answer == ("A", "B", "D", "E")
    result = bank_import(app, OFFICE)
    assert result.exit_code == 0 and "created 5, updated 0 (0 new versions), unchanged 0, skipped 0" in result.output
    with app.app_context():
        stored = {q.bank_id: q for q in db.session.scalars(select(Question))}
        assert all(q.tags == [] and q.source == "" for q in stored.values())
        v = db.session.get(QuestionVersion, stored["office-003"].current_version_id)
        assert [k for k, _t in v.options] == list("ABCDEFG")


@pytest.mark.parametrize("name", ["bank.yaml", "bank.xlsx", "dir"])
def test_office_bank_exports_without_empty_tags_or_source_and_round_trips(app, tmp_path, name):
    """The export of an office bank writes no empty tags or source; importing it back changes nothing."""
    bank_import(app, OFFICE)
    target = tmp_path / name
    assert app.test_cli_runner().invoke(args=["bank", "export", str(target)]).exit_code == 0
    if name == "bank.xlsx":
        ws = load_workbook(target).active
        header = [c.value for c in ws[1]]
        rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
        assert header[5:13] == list("ABCDEFGH") and len(rows) == 5
        assert all(r["tags"] is None and r["source"] is None for r in rows)
        assert next(r for r in rows if r["id"] == "office-003")["G"] == "压减办公经费开支"
    else:
        text = "".join(p.read_text(encoding="utf-8") for p in sorted(target.glob("*.yaml")) or [target])
        assert "tags" not in text and "source" not in text and "office-003" in text
    reparsed = bank_read.read_path(target)
    assert reparsed.problems == []
    as_written = sorted((e.to_yaml() for e in bank_read.read_path(OFFICE).entries), key=lambda d: d["id"])
    assert sorted((e.to_yaml() for e in reparsed.entries), key=lambda d: d["id"]) == as_written
    result = bank_import(app, target)
    assert "created 0, updated 0 (0 new versions), unchanged 5" in result.output, result.output
    assert counts(app) == (5, 5)


def test_office_bank_from_excel_old_and_new_template():
    """The office bank typed into the A–H template reads as the YAML does; the older A–E template still reads."""
    from_yaml = {e.bank_id: e.to_yaml() for e in bank_read.read_path(OFFICE).entries}
    new = bank_read.read_files([("office.xlsx", office_workbook(bank_format.XLSX_HEADERS + ["retired"]))])
    assert new.problems == []
    assert {e.bank_id: e.to_yaml() for e in new.entries} == from_yaml
    old = bank_read.read_files([("old.xlsx", office_workbook(OLD_HEADERS))])
    assert old.problems == [] and {e.bank_id: e.to_yaml() for e in old.entries} == {
        k: v for k, v in from_yaml.items() if k != "office-003"}


def office_question(bank_id: str, qtype: str, n: int, **fields) -> dict:
    keys = [chr(ord("A") + i) for i in range(n)]
    return question(bank_id, type=qtype, options={k: f"选项{k}" for k in keys},
                    answer=keys[:2] if qtype == "multiple" else keys[:1], tags=None, source=None, **fields)


@pytest.mark.parametrize("qtype, n, ok", [
    ("single", 1, False), ("single", 2, True), ("single", 6, True), ("single", 7, False),
    ("multiple", 2, False), ("multiple", 3, True), ("multiple", 8, True), ("multiple", 9, False),
])
def test_option_count_limits(app, tmp_path, qtype, n, ok):
    """Single choice takes 2–6 options, multiple 3–8; outside that the file is refused naming the file, line and id."""
    path = tmp_path / "office.yaml"
    path.write_text(yaml.safe_dump([question("ok-1"), office_question("lim-1", qtype, n)], allow_unicode=True,
                                   sort_keys=False), encoding="utf-8")
    result = bank_import(app, path)
    if ok:
        assert result.exit_code == 0 and "created 2," in result.output, result.output
        return
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if t.startswith("  options:") and i > 10)
    label = {"single": "单选题应有 2–6 个选项", "multiple": "多选题应有 3–8 个选项"}[qtype]
    assert result.exit_code != 0 and f"{path}:{line}: lim-1: {label}（现有 {n} 个" in result.output, result.output
    assert "nothing imported" in result.output and counts(app) == (0, 0)


def test_option_keys_run_from_a_without_gaps(tmp_path):
    """Option keys are the first n letters: A, B, D is refused (at the options line), as is any key past H."""
    gap = question("gap-1", options={"A": "甲", "B": "乙", "D": "丁"}, tags=None, source=None)
    past_h = question("past-h-1", type="multiple", options={"A": "甲", "B": "乙", "C": "丙", "I": "壬"},
                      answer=["A", "B"])
    parsed = bank_read.read_path(write_bank(tmp_path / "b.yaml", gap, past_h))
    got = {(p.line, p.bank_id): p.reason for p in parsed.problems}
    assert set(got) == {(6, "gap-1"), (18, "past-h-1")} and parsed.entries == []
    assert "选项键应从 A 起连续（3 个选项应为 A、B、C，现为 A、B、D）" in got[(6, "gap-1")]
    assert "应为 A、B、C、D，现为 A、B、C、I" in got[(18, "past-h-1")]


def test_excel_row_with_too_many_options_is_named_by_row():
    """In Excel a single with seven options (A–G) is refused naming the file and row; the good row survives."""
    header = bank_format.XLSX_HEADERS
    good = dict(zip(header, ["x-1", "theory", "single", 1, "题干？", "甲", "乙", "丙", None, None, None, None, None, "A",
                             "解析。", None, None]))
    bad = {**good, "id": "x-2", **{k: f"选项{k}" for k in "ABCDEFG"}}
    parsed = bank_read.read_files([("q.xlsx", workbook([[r[h] for h in header] for r in (good, bad)], header))])
    assert [str(p) for p in parsed.problems] == ["q.xlsx:3: x-2: 单选题应有 2–6 个选项（现有 7 个：A、B、C、D、E、F、G）"]
    assert [e.bank_id for e in parsed.entries] == ["x-1"] and parsed.skipped == 1


def test_papers_relabel_any_number_of_options():
    """A paper shuffles every option of a choice question and labels them A, B, C … however many there are."""
    from app.exams.blueprints import PoolRow
    from app.exams.papers import draw

    options = {1: [[k, k] for k in "ABCDEFG"], 2: [[k, k] for k in "ABC"], 3: [["A", "正确"], ["B", "错误"]]}
    pool = [PoolRow(1, 1, "multiple", "theory", 1), PoolRow(2, 2, "single", "theory", 1),
            PoolRow(3, 3, "truefalse", "theory", 1)]
    rules = [{"type": t, "module": None, "difficulty": None, "count": 1} for t in ("single", "multiple", "truefalse")]
    first_shown = set()
    for seed in range(40):
        paper = {q.question_version_id: q.option_map for q in draw(pool, rules, {"single": 1, "multiple": 1,
                                                                              "truefalse": 1}, seed, frozenset(),
                                                                   options)}
        for vid, opts in options.items():
            assert list(paper[vid]) == list("ABCDEFG"[:len(opts)])
            assert sorted(paper[vid].values()) == [k for k, _t in opts]
        assert paper[3] == {"A": "A", "B": "B"}
        first_shown.add(paper[1]["A"])
    assert first_shown == set("ABCDEFG")


def test_exam_from_office_bank_shows_every_option_and_grades_right(app, city, clock, auth):
    """A paper from the office bank shows every option (A.. for 3, 5, 7), no key while open (E14), grades right."""
    from app.exams import blueprints, services
    from app.models import AttemptQuestion

    bank_import(app, OFFICE)
    with app.app_context():
        bp = blueprints.default_blueprint()
        bp.rules = [{"type": t, "module": None, "difficulty": None, "count": n}
                    for t, n in (("single", 2), ("multiple", 1), ("truefalse", 1), ("fill", 1))]
        bp.points, bp.pool_multiple = {"single": 20, "multiple": 30, "truefalse": 15, "fill": 15}, 1
        db.session.add(bp)
        exam, created = services.create_weekly_exam(db.session, "2026-W11", clock.now)
        db.session.commit()
        exam_id = exam.id
    raw = {q["id"]: q for q in office_raw()}

    def paper(username: str):
        client = app.test_client()
        auth.login(client, username)
        resp = client.post(f"/api/v1/exams/{exam_id}/attempts")
        assert resp.status_code in (200, 201), resp.get_json()
        return client, resp.get_json()["attempt"]

    def key_of(attempt_id: int, q: dict) -> tuple[list[str], dict]:
        """The bank's key in the paper's display keys, and display key → bank key."""
        with app.app_context():
            aq = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id,
                                                                 AttemptQuestion.question_version_id == q["id"]))
            key = db.session.get(QuestionVersion, q["id"]).answer
            if not aq.option_map:
                return list(key), {}
            back = {bank: shown for shown, bank in aq.option_map.items()}
            return sorted(back[k] for k in key), dict(aq.option_map)

    client, att = paper("officer")
    page = client.get(f"/exams/attempts/{att['id']}").get_data(as_text=True)
    served = json.dumps(att, ensure_ascii=False) + page
    assert sorted(q["bank_id"] for q in att["questions"]) == sorted(raw)
    for q in att["questions"]:
        options = raw[q["bank_id"]].get("options", {})
        assert [o["key"] for o in q["options"]] == list("ABCDEFGH"[:len(options)])
        assert sorted(o["text"] for o in q["options"]) == sorted(options.values())
        assert all(text in page for text in options.values())
        for shown in "ABCDEFGH"[:len(options)]:
            assert f'name="q{q["id"]}" value="{shown}"' in page
    for q in raw.values():
        assert q["explanation"] not in served
    for field in ("is_correct", "correct_answer", "explanation", "points_awarded"):
        assert f'"{field}"' not in served

    for q in att["questions"]:
        right, _map = key_of(att["id"], q)
        assert client.put(f"/api/v1/attempts/{att['id']}/answers/{q['id']}", json={"answer": right}).status_code == 200
    result = client.post(f"/api/v1/attempts/{att['id']}/submit").get_json()["attempt"]
    assert result["score"] == 100 and result["passed"] is True

    other, att2 = paper("officer2")
    for q in att2["questions"]:
        right, shown_to_bank = key_of(att2["id"], q)
        if q["type"] == "multiple":
            wrong = sorted(right + [next(k for k in shown_to_bank if k not in right)])  # the key and one more
        elif q["type"] == "fill":
            wrong = ["从宽"]
        else:
            wrong = [next(k for k in shown_to_bank if k not in right)]
        other.put(f"/api/v1/attempts/{att2['id']}/answers/{q['id']}", json={"answer": wrong})
    result = other.post(f"/api/v1/attempts/{att2['id']}/submit").get_json()["attempt"]
    assert result["score"] == 0 and result["passed"] is False
