"""Every audit action, object type, field and detail the code can log has words for people
(issue 16 point 5): a static scan of every call of the audit writer, and the audit log page
rendered in Chinese and English without raw codes."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from app import audit_labels as L
from app.db import db
from app.i18n import LANG_COOKIE
from app.models import AuditLog, Base

APP = Path(__file__).resolve().parent.parent / "app"
WRITERS = {"record": 1, "record_now": 0, "build": 0}  # method → index of the action argument


def _policy_keys():
    from app.study.queries import policy_defaults

    return set(policy_defaults())


def _task_fields():
    from app.tasks.services import EDITABLE

    return set(EDITABLE)


def _weight_keys():
    from app.reports.figures import WEIGHT_KEYS

    return set(WEIGHT_KEYS)


def _task_create_keys():
    from app.models import Task

    return set(Task.__table__.columns.keys()) - {"id", "created_by_id"}  # what Task(created_by_id=…, **values) takes


def _bank_counts():
    return _function_keys("app/exams/bank_io.py", "counts")


def _question_change_keys():
    return (_function_keys("app/exams/bank_format.py", "content") | _function_keys("app/exams/bank_format.py", "metadata")
            | {"is_retired", "version"})


#: Where the keys of a ``before``/``after`` the scanner cannot read come from: "file: expression"
#: (the expression as written at the call, ``ast.unparse``) → the keys it can hold. A new
#: unreadable expression fails ``test_every_logged_key_has_a_label`` until it is added here.
KEY_SOURCES = {
    "app/study/services.py: _policy_dict(before) if before else None": _policy_keys,
    "app/study/services.py: _policy_dict(policy)": _policy_keys,
    "app/tasks/services.py: before": _task_fields,
    "app/tasks/services.py: {k: _plain(v) for k, v in changed.items()}": _task_fields,
    "app/tasks/services.py: snapshot": lambda: _task_fields() | {"title", "kind", "required", "stage_id"},
    "app/tasks/services.py: {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}":
        _task_create_keys,
    "app/reports/services.py: before": _weight_keys, "app/reports/services.py: weights": _weight_keys,
    "app/exams/bank_routes.py: change.before": _question_change_keys,
    "app/exams/bank_routes.py: change.after": _question_change_keys,
    "app/exams/bank_routes.py: result.counts()": _bank_counts, "app/exams/bank_cli.py: result.counts()": _bank_counts,
}


@dataclass
class Site:
    """One call of the audit writer, as far as the source says."""
    where: str
    actions: list = field(default_factory=list)  # literal codes, or re.Pattern for f-strings
    target_types: list = field(default_factory=list)
    details: list = field(default_factory=list)  # literal strings, or None for a built one
    snapshots: list = field(default_factory=list)  # (expression text, set of keys or None)


def _modules() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(APP.rglob("*.py"))}


def _functions(tree: ast.AST) -> dict[str, list[ast.FunctionDef]]:
    out: dict[str, list] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.setdefault(node.name, []).append(node)
    return out


def _function_keys(rel: str, name: str) -> set[str]:
    tree = ast.parse((APP.parent / rel).read_text(encoding="utf-8"))
    keys: set[str] = set()
    for fn in _functions(tree)[name]:
        for ret in (n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None):
            keys |= _resolve(ret.value, fn, tree, {}) or set()
    return keys


def _assignments(scope: ast.AST, name: str) -> list[ast.expr]:
    values = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    values.append(node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    values += [v for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name) and t.id == name]
    return values


def _subscript_keys(scope: ast.AST, name: str) -> set[str]:
    """Keys set as ``name["key"] = …`` in the scope."""
    keys = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name
                        and isinstance(target.slice, ast.Constant)):
                    keys.add(target.slice.value)
    return keys


def _module_constant(tree: ast.Module, name: str) -> set[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if isinstance(node.value, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Constant) for e in node.value.elts):
                return {e.value for e in node.value.elts}
    return None


def _resolve(expr: ast.expr, scope: ast.AST, tree: ast.Module, modules: dict) -> set[str] | None:
    """The keys a dict expression can hold, or None when the source does not say."""
    if isinstance(expr, ast.Constant) and expr.value is None:
        return set()
    if isinstance(expr, ast.Dict):
        keys = set()
        for k, v in zip(expr.keys, expr.values):
            if k is None:  # **spread
                inner = _resolve(v, scope, tree, modules)
                if inner is None:
                    return None
                keys |= inner
            elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                keys.add(k.value)
            else:
                return None
        return keys
    if isinstance(expr, ast.DictComp) and len(expr.generators) == 1:
        it = expr.generators[0].iter
        if isinstance(it, ast.Name):
            return _module_constant(tree, it.id)
        return None
    if isinstance(expr, ast.IfExp):
        a, b = _resolve(expr.body, scope, tree, modules), _resolve(expr.orelse, scope, tree, modules)
        return None if a is None or b is None else a | b
    if isinstance(expr, ast.Name):
        values = _assignments(scope, expr.id)
        if not values:
            return None
        keys = _subscript_keys(scope, expr.id)
        for value in values:
            inner = _resolve(value, scope, tree, modules)
            if inner is None:
                return None
            keys |= inner
        return keys
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        fns = _functions(tree).get(expr.func.id, [])
        if len(fns) == 1:
            keys = set()
            for ret in (n for n in ast.walk(fns[0]) if isinstance(n, ast.Return) and n.value is not None):
                inner = _resolve(ret.value, fns[0], tree, modules)
                if inner is None:
                    return None
                keys |= inner
            return keys
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and isinstance(expr.func.value, ast.Name):
        # module.function(…): the module imported under that name in this file
        for path, other in modules.items():
            if path.stem == expr.func.value.id:
                fns = _functions(other).get(expr.func.attr, [])
                if len(fns) == 1:
                    keys = set()
                    for ret in (n for n in ast.walk(fns[0]) if isinstance(n, ast.Return) and n.value is not None):
                        inner = _resolve(ret.value, fns[0], other, modules)
                        if inner is None:
                            return None
                        keys |= inner
                    return keys
    return None


def _template(node: ast.JoinedStr) -> re.Pattern:
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
    return re.compile("".join(parts))


def _enclosing(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    parents = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                parents.setdefault(node, fn)
    return parents


def _keywords(call: ast.Call, scope: ast.AST) -> dict[str, ast.expr]:
    """The call's keywords, with ``**kwargs`` followed to a ``kwargs = dict(…)`` in the function."""
    out = {}
    for kw in call.keywords:
        if kw.arg is not None:
            out[kw.arg] = kw.value
        elif isinstance(kw.value, ast.Name):
            for value in _assignments(scope, kw.value.id):
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
                    out.update({k.arg: k.value for k in value.keywords if k.arg})
    return out


def scan() -> list[Site]:
    """Every call of ``audit.record``/``record_now``/``build`` in app/, and bulk inserts into AuditLog."""
    modules, sites = _modules(), []
    for path, tree in modules.items():
        if path.name == "audit.py" and path.parent == APP:
            continue
        parents = _enclosing(tree)
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            func, scope = call.func, parents.get(call, tree)
            where = f"{path.relative_to(APP.parent)}:{call.lineno}"
            if (isinstance(func, ast.Attribute) and func.attr in WRITERS and isinstance(func.value, ast.Name)
                    and func.value.id == "audit"):
                values = _keywords(call, scope)
                values["action"] = call.args[WRITERS[func.attr]]
                sites.append(_site(where, values, scope, tree, modules))
            elif (isinstance(func, ast.Name) and func.id == "insert" and call.args
                  and isinstance(call.args[0], ast.Name) and call.args[0].id == "AuditLog"):
                for node in ast.walk(parents.get(call, tree)):
                    if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "action" for k in node.keys):
                        values = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
                        sites.append(_site(where, values, scope, tree, modules))
    return sites


def _site(where: str, values: dict, scope, tree, modules) -> Site:
    site = Site(where)
    action = values["action"]
    if isinstance(action, ast.Constant):
        site.actions.append(action.value)
    elif isinstance(action, ast.JoinedStr):
        site.actions.append(_template(action))
    else:
        site.actions.append(None)
    if isinstance(values.get("target_type"), ast.Constant):
        site.target_types.append(values["target_type"].value)
    if "detail" in values:
        d = values["detail"]
        site.details.append(d.value if isinstance(d, ast.Constant) else None)
    for key in ("before", "after"):
        if key in values:
            expr = values[key]
            site.snapshots.append((ast.unparse(expr), _resolve(expr, scope, tree, modules)))
    return site


def _codes(action) -> list[str]:
    """The labelled action codes a written action stands for (all that an f-string matches)."""
    if isinstance(action, str):
        return [action]
    return [code for code in L.ACTIONS if action.fullmatch(code)]


def test_scan_finds_the_known_writers():
    """The scanner sees the writers it must (a broken scan would make the label checks vacuous)."""
    sites = scan()
    seen = {a for s in sites for a in s.actions if isinstance(a, str)}
    assert {"auth.login", "user.update", "content.publish", "attempt.finish", "access.denied", "audit.export"} <= seen
    assert len(sites) >= 50
    assert any(isinstance(a, re.Pattern) for s in sites for a in s.actions)


def test_every_logged_action_and_category_has_a_label():
    """Each action code written anywhere in app/ (f-strings: at least one labelled code matches) has words, and so has its category."""
    missing = []
    for site in scan():
        for action in site.actions:
            if action is None:
                missing.append(f"{site.where}: action is neither a literal nor an f-string")
            elif not _codes(action) or isinstance(action, str) and action not in L.ACTIONS:
                missing.append(f"{site.where}: action {getattr(action, 'pattern', action)!r} → add it to audit_labels.ACTIONS")
    for code in L.ACTIONS:
        if code.split(".", 1)[0] not in L.CATEGORIES:
            missing.append(f"category of {code!r} → add it to audit_labels.CATEGORIES")
    assert not missing, "audit actions without words:\n" + "\n".join(missing)


def test_every_object_type_has_a_label():
    """Each literal target_type, and every model a row can name as its target, has words."""
    missing = [f"{s.where}: target_type {t!r}" for s in scan() for t in s.target_types if t not in L.TARGET_TYPES]
    models = {m.class_.__name__.lower() for m in Base.registry.mappers}
    missing += [f"model target {m!r}" for m in sorted(models - set(L.TARGET_TYPES))]
    assert not missing, "object types without words (add to audit_labels.TARGET_TYPES):\n" + "\n".join(missing)


def test_every_logged_key_has_a_label():
    """Each before/after key a call can write has a field label; an expression the scan cannot read must be taught in KEY_SOURCES."""
    missing = []
    for site in scan():
        for text, keys in site.snapshots:
            if keys is None:
                source = KEY_SOURCES.get(f"{site.where.split(':')[0]}: {text}")
                if source is None:
                    missing.append(f"{site.where}: cannot tell the keys of `{text}` → add "
                                   f"\"{site.where.split(':')[0]}: {text}\" to KEY_SOURCES in this test")
                    continue
                keys = source()
            missing += [f"{site.where}: key {k!r} of `{text}` → add it to audit_labels.FIELDS" for k in sorted(keys)
                        if k not in L.FIELDS]
    assert not missing, "audit fields without words:\n" + "\n".join(missing)


def test_every_logged_detail_has_words():
    """A fixed detail text has a label; a built one belongs to an action with a reader in DETAIL_FORMATS."""
    missing = []
    for site in scan():
        for detail in site.details:
            for code in (c for a in site.actions if a is not None for c in _codes(a)):
                if detail in L.DETAILS or code in L.DETAIL_FORMATS:
                    continue
                missing.append(f"{site.where}: detail {detail!r} of {code!r} → audit_labels.DETAILS or DETAIL_FORMATS")
    assert not missing, "audit details without words:\n" + "\n".join(missing)


def test_values_read_as_words(app):
    """Booleans 是/否, module and role codes by their labels, lengths as 字, times in Beijing time, weeks as 第N周."""
    with app.test_request_context():
        assert L.value_text("is_published", False) == "否" and L.value_text("required", True) == "是"
        assert L.value_text("module", "warning") == "警示教育" and L.value_text("role", "supervisor") == "单位管理员"
        assert L.value_text("body_html", "81 chars") == "81 字"
        assert L.value_text("publish_at", "2026-03-08T16:30:00") == "2026-03-09 00:30"
        assert L.value_text("week", "2026-W11") == "第11周（03-09～03-15）"
        assert L.value_text("daily_target_seconds", 7200) == "2 小时"
        assert L.value_text("unit_id", 7, {("unit", "7"): "甲一所"}) == "甲一所"
        assert L.detail_label("access.denied", "GET role") == "打开页面被拒绝：角色无此权限"
        assert L.detail_label("access.denied", "POST tasks.review not theirs") == "提交操作被拒绝：不在本人管辖范围内（任务）"
        assert L.target_text("studyitem", "5") == "学习内容 #5" and L.target_text("tasksubmission", "3") == "任务完成情况 #3"
        assert L.snapshot_text({"module": "warning", "body_html": "81 chars"}) == "模块：警示教育；正文：81 字"


# --- the page ------------------------------------------------------------------------------

TYPICAL = [
    dict(action="content.update", actor_name="admin", target_type="studyitem", target_id="5",
         before={"module": "theory", "body_html": "60 chars", "is_published": True},
         after={"module": "warning", "body_html": "81 chars", "is_published": False}),
    dict(action="access.denied", actor_name="officer", target_type="endpoint", target_id="admin.roles",
         detail="GET role"),
    dict(action="task.review", actor_name="supervisor", target_type="tasksubmission", target_id="3",
         before={"status": "submitted"}, after={"status": "returned", "comment": "请补充"}),
    dict(action="exam.create", actor_name="scheduler", target_type="exam", target_id="1",
         after={"week": "2026-W11", "pool": 30, "bank": 200, "duration": 30}),
    dict(action="study.flag_void", actor_name="admin", target_type="studyflag", target_id="2",
         before={"status": "open"}, after={"status": "voided", "voided_seconds": 3600}, detail="night 2026-W11"),
    dict(action="audit.export", actor_name="admin", target_type="audit_log", detail="xlsx 12",
         after={"format": "xlsx", "rows": 12}),
]
RAW = ["content.update", "studyitem", "tasksubmission", "body_html", "is_published", "module:", "warning",
       "GET role", "access.denied", "voided_seconds", "2026-W11", "chars", "audit_log", "endpoint", "submitted"]


@pytest.fixture
def typical(app, city):
    with app.app_context():
        for i, row in enumerate(TYPICAL):
            db.session.add(AuditLog(**row))
        db.session.commit()
    return city


def _table(client, lang: str | None = None) -> str:
    if lang:
        client.set_cookie(LANG_COOKIE, lang)
    html = client.get("/admin/audit/").get_data(as_text=True)
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_audit_page_in_chinese_shows_no_raw_codes(app, typical, auth):
    """The audit log in Chinese shows words, never the internal codes of typical rows."""
    client = app.test_client()
    auth.login(client, "admin")
    body = _table(client)
    for raw in RAW:
        assert raw not in body, raw
    for words in ("修改学习内容", "模块：<del>理论学习</del> → <ins>警示教育</ins>", "正文：<del>60 字</del> → <ins>81 字</ins>",
                  "已发布：<del>是</del> → <ins>否</ins>", "打开页面被拒绝：角色无此权限", "页面：管理后台", "学习内容 #5",
                  "任务完成情况 #3", "状态：<del>待审核</del> → <ins>已退回</ins>", "第11周（03-09～03-15）", "凌晨学习",
                  "作废学时：<ins>1 小时</ins>", "Excel，12 条"):
        assert words in body, words


def test_audit_page_in_english_reads_english(app, typical, auth):
    """The same rows in English: English labels, no Chinese audit words, no raw codes."""
    client = app.test_client()
    auth.login(client, "admin")
    body = _table(client, "en")
    for raw in RAW:
        assert raw not in body, raw
    assert "Module" in body and "Warning education" in body and "81 characters" in body and "Opening a page was denied" in body
    assert "Person #" in body and "People #" not in body  # the admin's own sign-in: one person, not the menu's 人员
    for chinese in ("修改学习内容", "模块", "正文", "警示教育", "被拒绝", "学习内容", "任务完成情况", "作废学时"):
        assert chinese not in body, chinese


def test_rows_the_app_writes_have_words(app, city, auth):
    """Rows written by real flows (a failed login, a refused page, a sign-in, a user change) read as words."""
    client = app.test_client()
    auth.login(client, "officer", "wrong-password-1")
    auth.login(client, "officer")
    client.get("/admin/")
    admin = app.test_client()
    auth.login(admin, "admin")
    with app.app_context():
        rows = db.session.scalars(select(AuditLog)).all()
        actions = {r.action for r in rows}
        assert {"auth.login_failed", "auth.login", "access.denied"} <= actions
        for r in rows:
            assert r.action in L.ACTIONS and (r.target_type is None or r.target_type in L.TARGET_TYPES)
            for values in (r.before, r.after):
                assert all(k in L.FIELDS for k in (values or {})), values
    body = _table(admin)
    assert "密码错误" in body and "打开页面被拒绝" in body and "auth.login" not in body


def test_admin_overview_recent_events_read_as_words(app, typical, auth):
    """The admin overview's recent events show the action and detail in words, not codes."""
    client = app.test_client()
    auth.login(client, "admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert "修改学习内容" in page and "打开页面被拒绝：角色无此权限" in page and "Excel，12 条" in page
    for raw in ("content.update", "access.denied", "GET role", "xlsx 12"):
        assert raw not in page, raw


def test_same_line_is_shown_once(app):
    """An announcement's target_unit_id and target_unit both read 面向单位：小店分局, shown once."""
    from app.admin.audit_queries import AuditRow

    row = AuditRow(id=1, at=None, actor_name=None, actor_display=None, action="announcement.send", detail=None,
                   target_type="announcement", target_id="1", before=None,
                   after={"target_unit_id": 4, "target_unit": "小店分局"}, ip=None, request_id=None)
    with app.test_request_context():
        assert L.changes(row, {("unit", "4"): "小店分局"}) == [("面向单位", None, "小店分局")]
        assert L.snapshot_text(row.after, "announcement", {("unit", "4"): "小店分局"}) == "面向单位：小店分局"


def test_exports_read_as_words_in_the_exporters_language(app, typical, auth):
    """The CSV export carries the words (and keeps the action code in its own column); in English, English headers and words."""
    client = app.test_client()
    auth.login(client, "admin")
    text = client.get("/admin/audit/export.csv?action=content.update").get_data(as_text=True)
    assert "修改学习内容" in text and "content.update" in text and "学习内容" in text
    assert "模块：理论学习；正文：60 字；已发布：是" in text and "body_html" not in text
    client.set_cookie(LANG_COOKIE, "en")
    text = client.get("/admin/audit/export.csv?action=content.update").get_data(as_text=True)
    assert text.lstrip("\ufeff").startswith("Time (Beijing time),")
    assert "Edit study content" in text and "Module: Warning education; Text: 81 characters; Published: No" in text


def test_demo_rows_have_words(app):
    """Every audit row `seed demo` writes (exams built, announcements sent, attempts finished) has labels for its action, type and keys."""
    assert app.test_cli_runner().invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        rows = db.session.scalars(select(AuditLog)).all()
    assert len(rows) > 5
    for r in rows:
        assert r.action in L.ACTIONS and (r.target_type is None or r.target_type in L.TARGET_TYPES), r.action
        for values in (r.before, r.after):
            assert all(k in L.FIELDS for k in (values or {})), (r.action, values)
