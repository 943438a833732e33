"""The study modules (理论学习, 政治教育, 党史教育, 警示教育, 英模教育): the one list the whole app
derives from (ARCHITECTURE rule 13) — the models' CHECK constraints, page labels and blurbs,
the bank's validation and Chinese aliases, the API document's enum, the demo films, the colour
of each module's card. Plain data, so the models can build their constraints from it.

Adding a module is one entry in ``REGISTRY`` plus a migration that rewrites the two
constraints named ``module`` (``questions``, ``study_items``) to the new ``check_sql()``.
``tests/test_module_registry.py`` builds an app with a sixth entry and fails when a module
code is written anywhere else in ``app/``.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext


def N_(text: str) -> str:
    """Marks a message for extraction (pybabel's default keywords) without translating it:
    the registry keeps the Chinese text, ``label``/``blurb`` translate it when shown."""
    return text


@dataclass(frozen=True)
class StudyModule:
    #: Stored in ``study_items.module`` and ``questions.module``; used in bank files, URLs, the API.
    code: str
    #: The Chinese name, untranslated: bank file headers, the Excel template's notes, the films.
    name: str
    #: The English name, as the English catalogue translates ``name`` (a test compares them).
    name_en: str
    #: One line under the name on the study page (Chinese; translated when shown).
    blurb_text: str
    #: A colour of the card palette in static/css/study.css (``.st-accent--<accent>``); a token,
    #: not a value, because the CSP allows no inline styles.
    accent: str

    @property
    def label(self):
        """The name in the reader's language (a lazy string, resolved when rendered)."""
        return lazy_gettext(self.name)

    @property
    def blurb(self):
        return lazy_gettext(self.blurb_text)


#: In display order: the study page, every select box, exports and the API enum list them so.
REGISTRY: tuple[StudyModule, ...] = (
    StudyModule("theory", N_("理论学习"), "Theory", N_("习近平法治思想与教育整顿的任务、环节"), "navy"),
    StudyModule("political", N_("政治教育"), "Political education", N_("筑牢政治忠诚，严守纪律规矩"), "red"),
    StudyModule("party_history", N_("党史教育"), "Party history", N_("学党史、悟思想，传承红色基因"), "brick"),
    StudyModule("warning", N_("警示教育"), "Warning education", N_("以案为鉴，守住底线"), "gold"),
    StudyModule("role_model", N_("英模教育"), "Role models", N_("学英模、见行动，弘扬英模精神"), "green"),
)

#: The codes, in display order.
MODULES: tuple[str, ...] = tuple(m.code for m in REGISTRY)


def check_sql(column: str = "module") -> str:
    """The CHECK constraint's text: ``module IN ('theory', 'political', …)``."""
    codes = ", ".join(f"'{m.code}'" for m in REGISTRY)
    return f"{column} IN ({codes})"
