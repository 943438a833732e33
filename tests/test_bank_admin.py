"""The question bank's admin pages: search (A26), view, edit with versions and audit (E22, A31),
retire, upload (YAML and Excel, all-or-nothing) and download; output escaped (A25)."""
from __future__ import annotations

import io
import re

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from app.db import db
from app.exams import bank_format, bank_queries
from app.models import AuditLog, Question, QuestionVersion
from tests.test_bank import DATA, counts, load_shipped, question, shipped_entries

BASE = "/admin/questions"


@pytest.fixture
def admin(app, city, auth):
    """A client signed in as the city admin, with the shipped bank loaded."""
    load_shipped(app)
    client = app.test_client()
    auth.login(client, "admin")
    return client


def stored(app, bank_id: str) -> tuple[Question, QuestionVersion]:
    with app.app_context():
        return bank_queries.find(db.session, bank_id)


def audit_rows(app, action: str) -> list[AuditLog]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def upload(client, name: str, data: bytes, **fields):
    return client.post(f"{BASE}/import", data={"file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


def yaml_bytes(*questions: dict) -> bytes:
    return yaml.safe_dump(list(questions), allow_unicode=True, sort_keys=False).encode()


# --- search ---------------------------------------------------------------------------------

def test_search_by_stem_id_and_tag_with_filters(admin):
    """Search finds text in the stem, the id and the tags (Chinese tags too), and filters narrow it."""
    body = admin.get(BASE + "/", query_string={"q": "theory-00"}).get_data(as_text=True)
    assert "theory-001" in body and "共 9 道题" in body
    by_stem = admin.get(BASE + "/", query_string={"q": "政法干警核心价值观"}).get_data(as_text=True)
    assert "theory-004" in by_stem
    tagged = [e for e in shipped_entries() if "十一个坚持" in e.tags]
    by_tag = admin.get(BASE + "/", query_string={"q": "十一个坚持"}).get_data(as_text=True)
    assert all(e.bank_id in by_tag for e in tagged) and tagged
    fills = admin.get(BASE + "/", query_string={"module": "warning", "type": "fill", "difficulty": "1"})
    expected = sum(1 for e in shipped_entries() if (e.module, e.qtype, e.difficulty) == ("warning", "fill", 1))
    assert f"共 {expected} 道题" in fills.get_data(as_text=True)


def test_search_paginates(admin):
    """Thirty questions a page; the last page holds the rest."""
    total = len(shipped_entries())
    last = (total + 29) // 30
    body = admin.get(BASE + "/", query_string={"page": last, "sort": "-id"}).get_data(as_text=True)
    assert f"{last} / {last}" in body and "上一页" in body and "下一页" not in body
    assert body.count('href="/admin/questions/q/') == total - 30 * (last - 1)


def test_pager_links_keep_only_search_parameters(admin):
    """Pager links carry the search, never other query keys (e.g. url_for's _scheme or _external)."""
    resp = admin.get(BASE + "/", query_string={"module": "theory", "_scheme": "javascript", "_external": "1"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'href="/admin/questions/?page=2&amp;module=theory"' in body
    assert "javascript" not in body


def test_a26_search_injection_returns_nothing_extra(admin):
    """A26: a search for ' OR 1=1-- is a plain string and matches no question."""
    body = admin.get(BASE + "/", query_string={"q": "' OR 1=1--"}).get_data(as_text=True)
    assert "共 0 道题" in body and "theory-001" not in body


@pytest.mark.parametrize("args", [{"sort": "id desc;drop table users--"}, {"sort": "stem"}, {"module": "x"},
                                  {"type": "essay"}, {"difficulty": "9"}, {"retired": "yes"}])
def test_a26_sort_and_filters_from_an_allowlist(admin, args):
    """A26: a sort or filter value outside the allowlist gets 400."""
    assert admin.get(BASE + "/", query_string=args).status_code == 400


# --- view, edit, retire ---------------------------------------------------------------------

def form_of(question: Question, version: QuestionVersion, **changes) -> dict:
    options = dict(version.options)
    data = {"base_version": version.id, "module": question.module, "difficulty": question.difficulty,
            "stem": version.stem, "answer": ",".join(version.answer), "explanation": version.explanation,
            "tags": ",".join(question.tags), "source": question.source,
            **{k: options.get(k, "") for k in bank_format.OPTION_KEYS}}
    data.update(changes)
    return data


def test_edit_content_creates_a_version_and_audits(app, admin):
    """Editing the answer adds version 2, keeps version 1, and writes question.update with before/after."""
    q, v1 = stored(app, "theory-002")
    resp = admin.post(f"{BASE}/q/theory-002/edit", data=form_of(q, v1, answer="B", explanation="新的解析。"))
    assert resp.status_code == 302
    q2, v2 = stored(app, "theory-002")
    assert v2.version == 2 and v2.answer == ["B"] and v2.id != v1.id
    with app.app_context():
        old = db.session.get(QuestionVersion, v1.id)
        assert old.answer == v1.answer and old.explanation == v1.explanation
    [row] = audit_rows(app, "question.update")
    assert row.target_id == str(q.id)
    assert row.before["answer"] == v1.answer and row.after["answer"] == ["B"]
    assert row.before["version"] == 1 and row.after["version"] == 2
    page = admin.get(f"{BASE}/q/theory-002").get_data(as_text=True)
    assert "第 2 版" in page and "第 1 版" in page and "新的解析。" in page


def test_edit_metadata_only_keeps_the_version(app, admin):
    """Changing difficulty and tags updates the question without a new version."""
    q, v1 = stored(app, "theory-002")
    admin.post(f"{BASE}/q/theory-002/edit", data=form_of(q, v1, difficulty=3, tags="甲,乙"))
    q2, v = stored(app, "theory-002")
    assert v.id == v1.id and (q2.difficulty, q2.tags) == (3, ["甲", "乙"])
    [row] = audit_rows(app, "question.update")
    assert row.after == {"difficulty": 3, "tags": ["甲", "乙"]}


def test_edit_invalid_shows_chinese_reason_and_changes_nothing(app, admin):
    """An answer not among the options is refused with a Chinese message; nothing changes."""
    q, v1 = stored(app, "theory-002")
    resp = admin.post(f"{BASE}/q/theory-002/edit", data=form_of(q, v1, answer="F"))
    assert resp.status_code == 400 and "答案“F”不在选项中" in resp.get_data(as_text=True)
    assert stored(app, "theory-002")[1].id == v1.id and audit_rows(app, "question.update") == []


def test_edit_over_a_newer_version_is_refused(app, admin):
    """A save based on an old version (someone else saved meanwhile) is refused with 409."""
    q, v1 = stored(app, "theory-002")
    admin.post(f"{BASE}/q/theory-002/edit", data=form_of(q, v1, answer="C"))
    resp = admin.post(f"{BASE}/q/theory-002/edit", data=form_of(q, v1, answer="D"))
    assert resp.status_code == 409 and "其他人修改" in resp.get_data(as_text=True)
    assert stored(app, "theory-002")[1].answer == ["C"]


def test_edit_truefalse_and_fill(app, admin):
    """True/false keeps its fixed options (answer may be written 错误); fill takes answers split by |."""
    q, v = stored(app, "warning-045")
    admin.post(f"{BASE}/q/warning-045/edit", data=form_of(q, v, answer="正确", A="", B=""))
    assert stored(app, "warning-045")[1].answer == ["A"] and stored(app, "warning-045")[1].options == [
        ["A", "正确"], ["B", "错误"]]
    q, v = stored(app, "party-history-059")
    resp = admin.post(f"{BASE}/q/party-history-059/edit", data=form_of(q, v, answer="1921|一九二一年"))
    assert resp.status_code == 302
    assert stored(app, "party-history-059")[1].answer == ["1921", "一九二一年"]
    bad = admin.post(f"{BASE}/q/party-history-059/edit", data=form_of(*stored(app, "party-history-059"),
                                                                       stem="没有空的题干。", answer="1921"))
    assert bad.status_code == 400 and "四个下划线" in bad.get_data(as_text=True)


def test_edit_form_shows_current_values(admin):
    """The edit page is filled from the current version."""
    body = admin.get(f"{BASE}/q/party-history-059/edit").get_data(as_text=True)
    assert "中国共产党成立于____年。" in body and "1921|1921年|一九二一" in body


def test_retire_and_unretire_are_audited_and_leave_the_pool(app, admin):
    """Retire removes a question from the exam pool and writes question.retire; unretire restores it."""
    assert admin.post(f"{BASE}/q/theory-003/retire", data={"retired": "1"}).status_code == 302
    with app.app_context():
        assert "theory-003" not in {r.bank_id for r in bank_queries.current_pool(db.session)}
    assert "已停用" in admin.get(f"{BASE}/q/theory-003").get_data(as_text=True)
    admin.post(f"{BASE}/q/theory-003/retire", data={"retired": "0"})
    with app.app_context():
        assert "theory-003" in {r.bank_id for r in bank_queries.current_pool(db.session)}
    rows = audit_rows(app, "question.retire")
    assert [(r.before, r.after) for r in rows] == [({"is_retired": False}, {"is_retired": True}),
                                                   ({"is_retired": True}, {"is_retired": False})]
    listed = admin.get(BASE + "/", query_string={"retired": "1"}).get_data(as_text=True)
    assert "共 0 道题" in listed


def test_unknown_question_is_404(admin):
    """A question id that does not exist is a 404 on every page."""
    assert admin.get(f"{BASE}/q/nope-001").status_code == 404
    assert admin.post(f"{BASE}/q/nope-001/retire", data={"retired": "1"}).status_code == 404


# --- escaping (A25) -------------------------------------------------------------------------

def test_a25_markup_in_a_question_shows_escaped(app, admin):
    """A25: <script> in a stem, option or explanation is shown as text on the list and the detail page."""
    payload = "<script>alert(1)</script>"
    q = question("xss-1", stem=f"{payload}是什么？", options={"A": payload, "B": "乙", "C": "丙", "D": "丁"},
                 explanation=f"<img src=x onerror=alert(1)>{payload}")
    assert upload(admin, "x.yaml", yaml_bytes(q)).status_code == 200
    for path in (f"{BASE}/q/xss-1", f"{BASE}/?q=xss", f"{BASE}/q/xss-1/edit"):
        body = admin.get(path).get_data(as_text=True)
        assert payload not in body and "<img src=x" not in body, path
        assert "&lt;script&gt;" in body, path


def test_a25_excel_export_from_the_page_neutralises_formulas(app, admin):
    """A25: the Excel download writes text starting with = + - @ with a leading apostrophe."""
    upload(admin, "f.yaml", yaml_bytes(question("f-1", stem='=HYPERLINK("http://evil")？', tags=["@x"])))
    resp = admin.get(f"{BASE}/export.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in ws[1]]
    row = dict(zip(header, next(r for r in ws.iter_rows(values_only=True) if r[0] == "f-1")))
    assert row["stem"] == "'=HYPERLINK(\"http://evil\")？" and row["tags"] == "'@x"


# --- upload ---------------------------------------------------------------------------------

def test_upload_bad_yaml_lists_every_problem_and_imports_nothing(app, admin):
    """An upload with bad entries lists each with file, line and id, and imports nothing (422)."""
    before = counts(app)
    resp = upload(admin, "bank_bad.yaml", (DATA / "bank_bad.yaml").read_bytes())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "本次没有导入任何题目" in body
    assert "bank_bad.yaml:6 · bad-module" in body and "未知的模块“police”" in body
    assert counts(app) == before and audit_rows(app, "bank.import") == []


def test_upload_skip_bad_entries_imports_the_rest(app, admin):
    """With “skip bad entries” the good ones are imported and the bad still listed."""
    resp = upload(admin, "bank_bad.yaml", (DATA / "bank_bad.yaml").read_bytes(), skip_invalid="y")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "新建 1 道" in body and "跳过 19 道" in body and "bad-module" in body
    assert stored(app, "good-001") is not None
    [row] = audit_rows(app, "bank.import")
    assert row.after["created"] == 1 and row.target_id == "bank_bad.yaml"


def test_upload_dry_run_writes_nothing(app, admin):
    """“Only check” reports what would change and writes nothing."""
    resp = upload(admin, "new.yaml", yaml_bytes(question("n-1"), question("n-2")), dry_run="y")
    assert "将新建 2 道" in resp.get_data(as_text=True)
    assert stored(app, "n-1") is None and audit_rows(app, "bank.import") == []


def test_upload_reimport_of_the_page_export_changes_nothing(app, admin):
    """The YAML and Excel downloads upload again with every question unchanged."""
    n = len(shipped_entries())
    for path, name in ((f"{BASE}/export.yaml", "bank.yaml"), (f"{BASE}/export.xlsx", "bank.xlsx")):
        data = admin.get(path).data
        body = upload(admin, name, data).get_data(as_text=True)
        assert f"新建 0 道，更新 0 道（其中 0 道生成新版本），{n} 道没有变化" in body, name


def test_upload_excel_from_the_template(app, admin):
    """The Excel template (columns A–H) downloads; filled in and uploaded, its rows are imported."""
    template = admin.get(f"{BASE}/template.xlsx")
    wb = load_workbook(io.BytesIO(template.data))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header == bank_format.XLSX_HEADERS and header[5:13] == list("ABCDEFGH")
    ws.delete_rows(2, ws.max_row)
    row = dict.fromkeys(header)
    row.update(id="e-1", module="英模教育", type="判断", difficulty=1, stem="这是判断题。", answer="正确",
               explanation="解析。", tags="甲,乙", source="公开资料")
    ws.append([row[h] for h in header])
    row.update(id="e-2", module="理论学习", type="单选", stem="哪一项？", answer="F", tags=None, source=None,
               **{k: f"选项{k}" for k in "ABCDEF"})
    ws.append([row[h] for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    body = upload(admin, "q.xlsx", buf.getvalue()).get_data(as_text=True)
    assert "新建 2 道" in body, body
    q, v = stored(app, "e-1")
    assert (q.module, q.qtype, v.answer, q.tags) == ("role_model", "truefalse", ["A"], ["甲", "乙"])
    q, v = stored(app, "e-2")
    assert (len(v.options), v.answer, q.tags, q.source) == (6, ["F"], [], "")


@pytest.mark.parametrize("name, data, status, message", [
    ("notes.txt", b"hello", 400, "只能上传 .yaml"),
    ("bank.xlsx", b"<html><script>alert(1)</script></html>", 422, "不是有效的 Excel"),
    ("bank.yaml", b"<!doctype html><html><body>x</body></html>", 422, "网页"),
    ("bank.yaml", b"x" * (bank_format.MAX_UPLOAD_BYTES + 1), 413, "文件太大"),
], ids=["txt", "html-as-xlsx", "html-as-yaml", "too-big"])
def test_bad_uploads_get_a_clear_message_and_store_nothing(app, admin, name, data, status, message):
    """Files that are not YAML or Excel, disguised HTML and oversized files are refused in Chinese."""
    before = counts(app)
    resp = upload(admin, name, data)
    assert resp.status_code == status and message in resp.get_data(as_text=True)
    assert counts(app) == before and audit_rows(app, "bank.import") == []


def test_admin_nav_links_to_the_bank(admin):
    """The admin sub-navigation has a 题库 link, active on the bank pages."""
    body = admin.get(BASE + "/").get_data(as_text=True)
    assert 'href="/admin/questions/" class="is-active">题库</a>' in body


# --- questions as offices write them (issue 16) -----------------------------------------------

def option_inputs(body: str) -> list[str]:
    """The option keys the edit page offers as text fields."""
    return [k for k in bank_format.OPTION_KEYS if re.search(f'<input [^>]*name="{k}" [^>]*type="text"', body)]


def test_edit_form_offers_as_many_option_fields_as_the_type_may_have(admin):
    """The edit form offers A–F for a single, A–H for a multiple, no option fields for true/false or fill."""
    single = admin.get(f"{BASE}/q/theory-002/edit").get_data(as_text=True)
    assert option_inputs(single) == list("ABCDEF") and "单选题填 2–6 个选项" in single
    multiple = admin.get(f"{BASE}/q/party-history-027/edit").get_data(as_text=True)
    assert option_inputs(multiple) == list("ABCDEFGH") and "多选题填 3–8 个选项" in multiple
    assert option_inputs(admin.get(f"{BASE}/q/warning-045/edit").get_data(as_text=True)) == []
    assert option_inputs(admin.get(f"{BASE}/q/party-history-059/edit").get_data(as_text=True)) == []


def test_edit_to_three_or_seven_options_without_tags_or_source(app, admin):
    """A single cut to three options and a multiple grown to seven save as new versions; tags, source clearable."""
    q, v = stored(app, "theory-002")
    resp = admin.post(f"{BASE}/q/theory-002/edit", data=form_of(q, v, D="", tags="", source=""))
    assert resp.status_code == 302
    q2, v2 = stored(app, "theory-002")
    assert [k for k, _t in v2.options] == ["A", "B", "C"] and v2.version == 2 and (q2.tags, q2.source) == ([], "")
    page = admin.get(f"{BASE}/q/theory-002").get_data(as_text=True)
    assert "标签：未填写" in page and "来源：未填写" in page
    q, v = stored(app, "party-history-027")
    resp = admin.post(f"{BASE}/q/party-history-027/edit", data=form_of(q, v, F="六", G="七", answer="A,B,D,G"))
    assert resp.status_code == 302
    _q, v2 = stored(app, "party-history-027")
    assert [k for k, _t in v2.options] == list("ABCDEFG") and v2.answer == ["A", "B", "D", "G"]


@pytest.mark.parametrize("changes, reason", [
    ({"C": ""}, "选项键应从 A 起连续"),
    ({"B": "", "C": "", "D": ""}, "单选题应有 2–6 个选项（现有 1 个"),
    ({"E": "五", "F": "六", "G": "七"}, "单选题应有 2–6 个选项（现有 7 个"),
], ids=["gap", "one", "seven"])
def test_edit_with_a_gap_or_out_of_range_options_is_refused(app, admin, changes, reason):
    """The edit form applies the file rules: keys from A without gaps, 2–6 options for a single."""
    q, v = stored(app, "theory-003")
    resp = admin.post(f"{BASE}/q/theory-003/edit", data=form_of(q, v, answer="A", **changes))
    assert resp.status_code == 400 and reason in resp.get_data(as_text=True)
    assert stored(app, "theory-003")[1].id == v.id


def test_upload_office_bank_then_its_download_changes_nothing(app, admin):
    """The office bank uploads on the import page; the page's YAML and Excel downloads of it upload back unchanged."""
    body = upload(admin, "office_bank.yaml", (DATA / "office_bank.yaml").read_bytes()).get_data(as_text=True)
    assert "新建 5 道" in body and "跳过 0 道" in body
    n = len(shipped_entries()) + 5
    for path, name in ((f"{BASE}/export.yaml", "bank.yaml"), (f"{BASE}/export.xlsx", "bank.xlsx")):
        body = upload(admin, name, admin.get(path).data).get_data(as_text=True)
        assert f"新建 0 道，更新 0 道（其中 0 道生成新版本），{n} 道没有变化" in body, name
