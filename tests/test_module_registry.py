"""The five study modules have one home, app/models/modules.py (ARCHITECTURE rule 13): every
other list of them is derived from it, so adding a sixth is one entry plus a migration."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from flask_babel import force_locale

from app.exams.bank_format import MODULE_ALIASES
from app.models import Question, StudyItem
from app.models.modules import MODULES, REGISTRY, check_sql
from app.study.labels import MODULE_ACCENTS, MODULE_BLURBS, MODULE_LABELS

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

#: Where a module code may be written out. Migrations (outside app/) record what each revision
#: created; the others hold content that belongs to one module, not a list of them, and are
#: checked against the registry when read (seed loading, ``bank_io.template_examples``).
ALLOWED = {
    "models/modules.py": "the registry",
    "seed_data/": "demo content: each item names its module",
    "exams/bank_template.yaml": "the Excel template's example questions, one per type",
}
#: Copies not yet converted, in files owned elsewhere. Each must still hold a copy (so the entry
#: is removed when it is converted); nothing may be added here.
PENDING: dict[str, str] = {}
SUFFIXES = {".py", ".html", ".yaml", ".yml", ".css", ".js", ".json"}


def _module_code_copies(root: Path, codes: tuple[str, ...]) -> dict[str, list[str]]:
    """Files under ``root`` that write a module code out, with the offending lines. A code counts
    when quoted ("theory", 'theory'), as a bare YAML scalar (comments ignored), or in a CSS class
    or selector (``st-module--theory``); slugs such as ``theory-001`` do not count."""
    alternatives = "|".join(map(re.escape, codes))
    quoted = re.compile(rf"""(['"])(?:{alternatives})\1""")
    bare = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")
    css_class = re.compile(rf"(?:--|[.-])(?:{alternatives})(?![\w-])")
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            hits = quoted.search(line)
            if path.suffix in (".yaml", ".yml"):
                hits = hits or bare.search(line.split("#", 1)[0])
            if path.suffix in (".css", ".html"):
                hits = hits or css_class.search(line)
            if path.suffix == ".css":
                hits = hits or bare.search(line)
            if hits:
                found.setdefault(path.relative_to(root).as_posix(), []).append(line.strip())
    return found


def test_module_codes_are_written_only_in_the_registry():
    """Rule 13: no module code appears in app/ outside the registry and module-specific content."""
    found = _module_code_copies(APP, MODULES)
    copies = {path: lines for path, lines in found.items()
              if not any(path == a or (a.endswith("/") and path.startswith(a)) for a in ALLOWED)}
    assert set(copies) - set(PENDING) == set(), copies
    assert set(PENDING) <= set(copies), "converted: remove it from PENDING"
    assert "models/modules.py" in found  # the scan sees the registry itself


def test_the_scan_catches_each_kind_of_copy(tmp_path):
    """The copy detector flags quoted codes, YAML scalars and CSS classes, and ignores slugs and comments."""
    files = {
        "labels.py": 'NAMES = {"theory": "理论学习"}',
        "page.html": "<option value='theory'>",
        "spec.yaml": "enum: [theory, political]",
        "style.css": ".st-module--theory { color: red; }",
        "slugs.py": 'SLUG = "theory-001"  # the theory module',
        "content.yaml": "slug: theory-four-tasks  # theory",
        "plain.css": ".theory-card { color: red; }",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text + "\n", encoding="utf-8")
    assert set(_module_code_copies(tmp_path, ("theory", "political"))) == {
        "labels.py", "page.html", "spec.yaml", "style.css"}


def test_every_list_of_modules_is_the_registry(app, client):
    """Labels, blurbs, colours, bank aliases, the CHECK constraints and the API enum all come from the registry."""
    assert MODULES == tuple(m.code for m in REGISTRY) and len(set(MODULES)) == len(MODULES)
    assert list(MODULE_LABELS) == list(MODULE_BLURBS) == list(MODULE_ACCENTS) == list(MODULES)
    for m in REGISTRY:
        assert MODULE_ALIASES[m.code] == MODULE_ALIASES[m.name] == m.code
    for table in (Question.__table__, StudyItem.__table__):
        [constraint] = [c for c in table.constraints if c.name == f"ck_{table.name}_module"]
        assert str(constraint.sqltext) == check_sql("module")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["schemas"]["ModuleCode"]["enum"] == list(MODULES)


def test_module_labels_are_chinese_first_and_translated_to_the_english_names(app):
    """Each module's label is its Chinese name, and the English catalogue translates it to ``name_en``."""
    with app.test_request_context():
        for m in REGISTRY:
            assert str(m.label) == m.name
            with force_locale("en"):
                assert str(m.label) == m.name_en
                assert str(m.blurb) != m.blurb_text  # the blurb is translated too


def test_every_accent_has_a_palette_colour():
    """Each module's accent names a card colour defined in static/css/study.css."""
    css = (APP / "static" / "css" / "study.css").read_text(encoding="utf-8")
    palette = set(re.findall(r"\.st-accent--([\w-]+)\s*\{[^}]*border-left-color", css))
    assert {m.accent for m in REGISTRY} <= palette


SIXTH_MODULE_APP = r'''
import importlib.util, json, sys
from pathlib import Path

root, tmp = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(root))
# The registry, loaded on its own and given a sixth entry before anything derives from it.
spec = importlib.util.spec_from_file_location("app.models.modules", root / "app" / "models" / "modules.py")
modules = importlib.util.module_from_spec(spec)
sys.modules["app.models.modules"] = modules
spec.loader.exec_module(modules)
modules.REGISTRY = (*modules.REGISTRY, modules.StudyModule("integrity", "廉政教育", "Integrity",
                                                           "廉洁自律，警钟长鸣", "green"))
modules.MODULES = tuple(m.code for m in modules.REGISTRY)

from sqlalchemy import create_engine, insert
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.exams.bank_format import check_entry, raw_from_cells
from app.exams.bank_forms import QuestionForm
from app.models import Base, Question, StudyItem
from app.study.labels import MODULE_LABELS

url = f"sqlite:///{tmp / 'sixth.db'}"
engine = create_engine(url)
Base.metadata.create_all(engine)
app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": str(tmp)})
out = {"labels": {code: str(label) for code, label in MODULE_LABELS.items()}}
question = {"id": "integrity-001", "module": "integrity", "type": "truefalse", "difficulty": 1,
            "stem": "廉洁自律是每名干警的底线。", "options": {"A": "正确", "B": "错误"}, "answer": ["A"],
            "explanation": "见公开资料。", "tags": ["廉洁"], "source": "公开资料"}
entry, problems = check_entry(question, "integrity.yaml", 1, file_module="integrity")
out["bank_entry"] = entry and entry.module
out["bank_problems"] = [str(p) for p in problems]
out["excel_alias"] = raw_from_cells({"module": "廉政教育"})["module"]
with app.test_request_context():
    out["form_choices"] = [code for code, _label in QuestionForm(meta={"csrf": False}).module.choices]
out["openapi_enum"] = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"][
    "ModuleCode"]["enum"]
out["check_sql"] = {t.name: str(c.sqltext) for t in (Question.__table__, StudyItem.__table__)
                    for c in t.constraints if c.name == f"ck_{t.name}_module"}
stored = {}
for module in ("integrity", "nonexistent"):
    try:
        with engine.begin() as conn:
            conn.execute(insert(Question.__table__).values(bank_id=f"{module}-1", module=module, qtype="fill",
                                                           difficulty=1, tags=[], source="", is_retired=False))
        stored[module] = True
    except IntegrityError:
        stored[module] = False
out["stored"] = stored
print(json.dumps(out, ensure_ascii=False))
'''


def test_a_sixth_module_is_one_registry_entry(tmp_path):
    """An app whose registry has a sixth module labels it, validates bank entries for it, lists it
    in the API enum and lets the CHECK constraints accept it (the migration is the only other step)."""
    done = subprocess.run([sys.executable, "-c", SIXTH_MODULE_APP, str(ROOT), str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    codes = [*MODULES, "integrity"]
    assert out["labels"] == {**{m.code: m.name for m in REGISTRY}, "integrity": "廉政教育"}
    assert out["bank_entry"] == "integrity" and out["bank_problems"] == []
    assert out["excel_alias"] == "integrity"
    assert out["form_choices"] == codes
    assert out["openapi_enum"] == codes
    assert set(out["check_sql"]) == {"questions", "study_items"}
    for text in out["check_sql"].values():
        assert text == "module IN (" + ", ".join(f"'{code}'" for code in codes) + ")"
    assert out["stored"] == {"integrity": True, "nonexistent": False}
