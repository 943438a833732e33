"""The English catalogue covers every string the code and templates use (issue 16 point 5):
extracted in-process the way `make messages` does (babel.cfg), compared with messages.po."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app/translations/en/LC_MESSAGES/messages.po"
#: The Makefile's -k _l -k lazy_gettext -k lazy_pgettext:1c,2 on top of babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}


def _only_app(path: str) -> bool:
    """Walk app/ only (babel's default filter also skips "_macros"; `make messages` passes --ignore-dirs ".*")."""
    rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
    return (rel == "app" or rel.startswith("app/")) and not os.path.basename(path).startswith(".")


@pytest.fixture(scope="module")
def used() -> dict[tuple[str, str | None], list[str]]:
    """(msgid, context) → where it is used, for every string the sources mark for translation."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_only_app):
        msgid = message[0] if isinstance(message, tuple) else message  # a plural is keyed by its singular
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    with open(PO, "rb") as f:
        return read_po(f, locale="en")


def _entry(msgid: str, context: str | None) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    head = f"msgctxt {quoted(context)}\n" if context else ""
    return f'{head}msgid {quoted(msgid)}\nmsgstr ""'


def test_extraction_sees_every_template(used):
    """The extraction reads macros under _macros/ and the dashboard's {% cache %} template (both were silently skipped)."""
    assert any("_macros/tabbar.html" in w for where in used.values() for w in where)
    assert any("reports/dashboard.html" in w for where in used.values() for w in where)
    assert ("考试", None) in used and ("上一页", None) in used and len(used) > 1000


def test_every_used_string_has_an_english_translation(used, catalogue):
    """Every msgid the code or templates use is in messages.po with a non-empty English msgstr."""
    missing = []
    for (msgid, context), where in sorted(used.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        entry = catalogue.get(msgid, context=context)
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or not all(strings):
            missing.append(f"# {', '.join(where[:3])}\n{_entry(msgid, context)}")
    assert not missing, (f"{len(missing)} string(s) have no English translation in {PO.relative_to(ROOT)} "
                         "(run `make messages`, then fill in msgstr):\n\n" + "\n\n".join(missing))


def test_no_obsolete_or_fuzzy_entry(used, catalogue):
    """messages.po has no obsolete (#~) entry, no fuzzy one, and none the sources no longer use."""
    obsolete = sorted(catalogue.obsolete)
    fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
    unused = sorted(repr(m.id) + (f" (context {m.context!r})" if m.context else "") for m in catalogue
                    if m.id and ((m.id[0] if isinstance(m.id, tuple) else m.id), m.context) not in used)
    problems = ([f"obsolete: {m!r}" for m in obsolete] + [f"fuzzy: {m!r}" for m in fuzzy]
                + [f"no longer used (run `make messages`): {m}" for m in unused])
    assert not problems, "catalogue entries to clean up:\n" + "\n".join(problems)


def test_placeholders_match(catalogue):
    """Each translation keeps its msgid's %(name)s placeholders (babel's own catalogue check)."""
    errors = [f"{m.id!r}: {'; '.join(map(str, errs))}" for m, errs in catalogue.check()]
    assert not errors, "translations with broken placeholders:\n" + "\n".join(errors)
