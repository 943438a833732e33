"""Small ``make_*`` factories for test data. They flush; tests commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import count

from app.auth.passwords import hash_password
from app.models import UNIT_LEVELS, Unit, User

PASSWORD = "correct horse battery staple"
_seq = count(1)


def make_unit(session, name: str, parent: Unit | None = None, code: str | None = None) -> Unit:
    depth = parent.depth + 1 if parent else 0
    unit = Unit(code=code or f"U{next(_seq):05d}", name=name, parent_id=parent.id if parent else None,
                level=UNIT_LEVELS[depth], depth=depth, path="")
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def make_user(session, username: str, unit: Unit, role: str = "officer", password: str = PASSWORD, **fields) -> User:
    fields.setdefault("name", username)
    user = User(username=username, unit_id=unit.id, role=role,
                password_hash=hash_password(password, "pbkdf2:sha256:1000"), **fields)
    session.add(user)
    session.flush()
    return user


@dataclass
class City:
    root: int
    branch_a: int
    branch_b: int
    station_a1: int
    station_a2: int
    station_b1: int
    users: dict  # username -> id


def build_city(session, now: datetime) -> City:
    """city → 公安局 → branch A (stations A1, A2) and branch B (station B1); 法院 → branch C (station C1).

    Accounts: admin and leader at the city; supervisor of A, supervisor_b of B; officer and
    officer2 in A1, officer_a2 in A2, officer_b in B1, officer_c in C1.
    """
    root = make_unit(session, "测试市政法系统")
    police = make_unit(session, "测试市公安局", root)
    court = make_unit(session, "测试市法院", root)
    a = make_unit(session, "甲分局", police)
    b = make_unit(session, "乙分局", police)
    c = make_unit(session, "丙法院", court)
    a1, a2 = make_unit(session, "甲一所", a), make_unit(session, "甲二所", a)
    b1, c1 = make_unit(session, "乙一所", b), make_unit(session, "丙一庭", c)
    users = {}
    for username, unit, role in (
        ("admin", root, "admin"), ("leader", root, "leader"), ("supervisor", a, "supervisor"),
        ("supervisor_b", b, "supervisor"), ("officer", a1, "officer"), ("officer2", a1, "officer"),
        ("officer_a2", a2, "officer"), ("officer_b", b1, "officer"), ("officer_c", c1, "officer"),
    ):
        users[username] = make_user(session, username, unit, role, badge_no=f"B{len(users) + 1000}").id
    return City(root.id, a.id, b.id, a1.id, a2.id, b1.id, users)


def make_question(session, bank_id: str, qtype: str, module: str = "theory", difficulty: int = 1,
                  answer: list | None = None, explanation: str | None = None):
    """A bank question with one version; options A–D (A:正确/B:错误 for truefalse, none for fill)."""
    from app.models import Question, QuestionVersion

    options = {
        "single": [["A", "甲"], ["B", "乙"], ["C", "丙"], ["D", "丁"]],
        "multiple": [["A", "甲"], ["B", "乙"], ["C", "丙"], ["D", "丁"]],
        "truefalse": [["A", "正确"], ["B", "错误"]],
        "fill": [],
    }[qtype]
    default_answer = {"single": ["B"], "multiple": ["A", "C"], "truefalse": ["A"], "fill": ["忠诚"]}[qtype]
    q = Question(bank_id=bank_id, module=module, qtype=qtype, difficulty=difficulty, tags=[], source="test")
    session.add(q)
    session.flush()
    v = QuestionVersion(question_id=q.id, version=1, stem=f"题目 {bank_id} ____" if qtype == "fill" else f"题目 {bank_id}",
                        options=options, answer=answer or default_answer,
                        explanation=explanation or f"解析-{bank_id}-SECRET")
    session.add(v)
    session.flush()
    q.current_version_id = v.id
    session.flush()
    return q


def make_bank(session, per_type: dict | None = None):
    """Enough questions for the default blueprint (10 single, 5 multiple, 5 truefalse, 3 fill)."""
    from app.models import MODULES

    per_type = per_type or {"single": 14, "multiple": 8, "truefalse": 8, "fill": 5}
    made = []
    for qtype, n in per_type.items():
        for i in range(n):
            made.append(make_question(session, f"{qtype}-{i:03d}", qtype, MODULES[i % 5], 1 + i % 3))
    return made


def make_weekly_exam(app, week: str, now) -> int:
    """A question bank and ``week``'s exam, created as the scheduler would; returns its id."""
    from app.db import db
    from app.exams import services

    with app.app_context():
        make_bank(db.session)
        exam, created = services.create_weekly_exam(db.session, week, now)
        db.session.commit()
        assert created
        return exam.id


#: A small confidential form: a yes/no, a repeating group of relatives and an attachment.
PERSONAL_FORM = {"fields": [
    {"key": "s1", "type": "section", "label": "一、基本情况"},
    {"key": "marital", "type": "single", "label": "婚姻状况", "required": True, "options": ["未婚", "已婚"]},
    {"key": "lawyer", "type": "yesno", "label": "亲属是否从事律师职业", "required": True},
    {"key": "relatives", "type": "group", "label": "亲属从业情况",
     "columns": [{"label": "姓名"}, {"label": "关系"}, {"label": "职业"}, {"label": "单位"}]},
    {"key": "proof", "type": "file", "label": "证明材料"},
    {"key": "other", "type": "textarea", "label": "其他事项"},
]}


def make_form(session, creator_id: int, definition: dict | None = None, *, confidential: bool = True,
              due_at: datetime | None = None, target_unit_id: int | None = None, roles=("officer",),
              title: str = "个人有关事项报告", confidentiality: str | None = None):
    """A published form (version 1); needs an app context (the services audit and encrypt).
    ``confidentiality`` (open, confidential, survey) wins over ``confidential``."""
    from app.forms_ import services

    creator = session.get(User, creator_id)
    form = services.save_settings(session, None, creator, title=title, description="", target_unit_id=target_unit_id,
                                  confidentiality=confidentiality or ("confidential" if confidential else "open"),
                                  target_roles=list(roles), due_at=due_at or datetime(2026, 3, 20, 10, 0),
                                  stage_id=None)
    form.draft_definition = definition or PERSONAL_FORM
    services.publish(session, form, creator, datetime(2026, 3, 1, 2, 0))
    return form


def png_bytes(color=(200, 30, 30)) -> bytes:
    """A small real PNG made with Pillow."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), color).save(out, format="PNG")
    return out.getvalue()


def signed_in(app, username: str, password: str = PASSWORD):
    """A test client signed in as ``username`` through the login form (no assertion: a refused
    sign-in simply leaves the client anonymous, which some tests rely on)."""
    client = app.test_client()
    client.post("/login", data={"username": username, "password": password})
    return client


def bare_form(session, unit_name: str = "测试市"):
    """(user, form, version 1) built from the models, for migration tests that then insert a
    submission row by SQL as an older revision had it."""
    from app.models import Form, FormVersion

    user = make_user(session, "u", make_unit(session, unit_name))
    form = Form(title="t", description="", confidentiality="confidential", target_roles=["officer"],
                due_at=datetime(2026, 3, 20), draft_definition={})
    session.add(form)
    session.flush()
    version = FormVersion(form_id=form.id, number=1, definition={"fields": []})
    session.add(version)
    session.flush()
    return user, form, version
