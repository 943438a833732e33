"""Results of a survey (匿名测评, e.g. 满意度测评; issue 17 point 5): aggregates only, never an
answer sheet, and never a group of fewer than ``MIN_ANSWERS`` sheets.

Groups are a unit (the viewer's scope root, or a unit in it) and each of its child units, every
group counting its whole subtree. A group is shown only with at least ``MIN_ANSWERS`` sheets
(primary suppression). So that subtraction cannot reveal a small group, a shown parent must
also leave a residual — its sheets minus those of its shown children — of 0 or at least
``MIN_ANSWERS``; otherwise the smallest shown child is suppressed too, and the next, until it
holds (complementary suppression, ``suppress``). What is shown is decided once for the whole
city (``visibility``), so a unit's own page never shows what its parent's page hides, and
nothing below a hidden unit is shown. A shown group gives, per question: choices and
yes/no → count and share per option; number → mean; free text → the texts, sorted (never in the
order they came), without names, only when the group has at least ``MIN_ANSWERS`` of them.

Results exist only once the survey is closed (app/forms_/queries.py ``is_closed``: at its
deadline, when it stops taking answers); before, a survey's results say so and hold no figure,
and none of its sheets is decrypted. Were they shown while sheets still arrive, whoever looked
before and after a colleague submitted would learn that colleague's answers.

The answer sheets come decrypted from app/forms_/access.py (``survey_answers``, one query, which
also decides who may see results); this module costs three more queries (the city's sheet
counts per unit, the units, the forms' versions) whatever the number of forms, units or sheets. The campaign report
(app/reports/campaign.py) and the results page and workbook all call ``results_of``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..auth.scope import ancestor_ids
from ..models import Form, FormSubmission, FormVersion, Unit, User
from . import access
from . import definition as defn
from .queries import is_closed

#: The fewest answer sheets a group's results are shown for (and free texts of a question).
MIN_ANSWERS = 5
#: Question types with per-option counts, means, or texts.
CHOICE_KINDS = ("single", "multi", "yesno")
TEXT_KINDS = ("text", "textarea")


def suppress(parent: int, children: list[int], minimum: int = MIN_ANSWERS) -> tuple[bool, list[bool]]:
    """Which of a parent group (``parent`` sheets) and its children (their sheet counts, each a
    part of the parent's) may be shown: (parent shown, [child shown, ...]).

    A group with fewer than ``minimum`` sheets is never shown; for a shown parent, parent minus
    the shown children is 0 or at least ``minimum`` (suppressing the smallest shown child, ties
    by position, until it is). Suppressing one child of at least ``minimum`` always suffices,
    but the loop does not rely on it."""
    parent_shown = parent >= minimum
    shown = [parent_shown and c >= minimum for c in children]
    while parent_shown:
        residual = parent - sum(c for c, s in zip(children, shown) if s)
        candidates = [i for i, s in enumerate(shown) if s]
        if residual == 0 or residual >= minimum or not candidates:
            break
        shown[min(candidates, key=lambda i: (children[i], i))] = False
    return parent_shown, shown


def suppressed_text(reason: str, minimum: int = MIN_ANSWERS) -> str:
    """Why a group's results are not shown, as the page, the workbook and the campaign report say it."""
    if reason == "few":
        return _("答卷不足%(n)d份，结果不予显示", n=minimum)
    return _("为防止推算出答卷不足%(n)d份的单位，结果不予显示", n=minimum)


@dataclass
class OptionCount:
    label: str
    count: int
    #: of the sheets that answered the question (multiple choice: may add up to more than 1)
    share: float | None


@dataclass
class QuestionResult:
    key: str
    label: str
    #: ``choice`` (single, multiple, yes/no), ``number`` or ``text``
    kind: str
    answered: int = 0
    options: list[OptionCount] = field(default_factory=list)
    mean: float | None = None
    #: sorted; None when fewer than MIN_ANSWERS were written (not shown)
    texts: list[str] | None = None

    @property
    def text_counts(self) -> list[tuple[str, int]]:
        """The texts with identical ones told once, with how many wrote them (sorted)."""
        out: list[tuple[str, int]] = []
        for text in self.texts or []:
            if out and out[-1][0] == text:
                out[-1] = (text, out[-1][1] + 1)
            else:
                out.append((text, 1))
        return out


@dataclass
class Group:
    unit_id: int
    name: str
    #: 0: the results' unit; 1: a child unit
    depth: int
    count: int
    shown: bool = False
    #: why not shown: ``few`` (fewer than MIN_ANSWERS) or ``complement`` (would reveal a small group)
    reason: str = ""
    questions: list[QuestionResult] = field(default_factory=list)


@dataclass
class SurveyResults:
    form: Form
    unit: Unit
    groups: list[Group]
    minimum: int = MIN_ANSWERS
    #: the questions results are given for (``survey_questions``), in the form's order
    questions: list[dict] = field(default_factory=list)
    #: False while the survey still takes answers (no group, no figure)
    published: bool = True

    @property
    def total(self) -> int:
        return self.groups[0].count if self.groups else 0


def survey_questions(definitions: list[dict]) -> list[dict]:
    """The questions results are given for, by key across the form's versions (oldest first):
    the latest version's label, the union of options in order. Files, dates and repeating
    groups have no aggregate and are left out."""
    merged: dict[str, dict] = {}
    for definition in definitions:
        for f in defn.questions(definition):
            if f["type"] not in CHOICE_KINDS + TEXT_KINDS + ("number",):
                continue
            known = merged.get(f["key"])
            options = list(known["options"]) if known and "options" in known else []
            merged[f["key"]] = {**f, "options": options + [o for o in f.get("options", []) if o not in options]}
    return list(merged.values())


def option_labels(question: dict, yes_no: dict) -> list[str]:
    """The options a choice question's results list, in order (yes/no: the words for yes and no)."""
    if question["type"] == "yesno":
        return [str(yes_no["yes"]), str(yes_no["no"])]
    return list(question.get("options") or [])


def _number(value) -> float | None:
    text = str(value or "").strip()
    return float(text) if text and defn.NUMBER.fullmatch(text) else None


def aggregate(question: dict, sheets: list[dict], yes_no: dict, minimum: int = MIN_ANSWERS) -> QuestionResult:
    """One question over a shown group's answer sheets (``yes_no``: the labels of yes and no)."""
    key, kind = question["key"], question["type"]
    values = [sheet.get(key) for sheet in sheets]
    if kind in CHOICE_KINDS:
        options = option_labels(question, yes_no)
        if kind == "yesno":
            labels = {"yes": options[0], "no": options[1]}
            picked = [[labels[v["value"]]] if isinstance(v, dict) and v.get("value") in labels else [] for v in values]
        else:
            picked = [[v] if isinstance(v, str) and v else list(v) if isinstance(v, list) else [] for v in values]
        answered = sum(1 for p in picked if p)
        counts = {o: 0 for o in options}
        for p in picked:
            for o in p:
                if o in counts:
                    counts[o] += 1
        return QuestionResult(key, question["label"], "choice", answered,
                              [OptionCount(o, n, n / answered if answered else None) for o, n in counts.items()])
    if kind == "number":
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        return QuestionResult(key, question["label"], "number", len(numbers),
                              mean=sum(numbers) / len(numbers) if numbers else None)
    texts = sorted(t for t in (str(v or "").strip() for v in values) if t)
    return QuestionResult(key, question["label"], "text", len(texts), texts=texts if len(texts) >= minimum else None)


def question_rows(results: SurveyResults, key: str) -> list[dict]:
    """One row per group for the question ``key`` (tables such as the campaign report's): unit
    and depth; for a shown group ``count`` and the figures (``o0``, ``o1``…: each option's share,
    or ``mean``); for a suppressed one no figure (None) and ``note``, why."""
    rows = []
    for g in results.groups:
        row = {"unit_id": g.unit_id, "unit_name": g.name, "depth": g.depth, "count": g.count if g.shown else None,
               "note": "" if g.shown else suppressed_text(g.reason, results.minimum)}
        result = next((q for q in g.questions if q.key == key), None)
        if result is not None and result.kind == "number":
            row["mean"] = result.mean
        elif result is not None:
            row.update({f"o{i}": o.share for i, o in enumerate(result.options)})
        rows.append(row)
    return rows


def visibility(units, direct: dict[int, int], minimum: int = MIN_ANSWERS) -> dict[int, tuple[int, bool, str]]:
    """Every unit of the city (rows with ``id`` and ``parent_id``) → (its subtree's sheets, shown,
    reason when not: ``few`` or ``complement``), from each unit's own people's sheets ``direct``.

    Decided once for the whole tree, top-down, whoever looks and from whichever unit: a root is
    shown with at least ``minimum`` sheets; the children of a shown unit by ``suppress``; below a
    hidden unit nothing is shown. So the shown groups are a tree from the top, the sheets of each
    shown unit less its shown children's (its residual) are 0 or at least ``minimum``, and every
    sum or difference of shown figures is a sum of residuals: no page, and no two pages side by
    side (a unit's own page beside its parent's), reveal a group of 1 to ``minimum`` - 1."""
    children: dict[int | None, list[int]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u.id)
    total: dict[int, int] = {}
    order: list[int] = []  # parents before children
    stack = list(children.get(None, []))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(children.get(node, []))
    for node in reversed(order):
        total[node] = direct.get(node, 0) + sum(total[c] for c in children.get(node, []))
    shown: dict[int, bool] = {root: total[root] >= minimum for root in children.get(None, [])}
    for node in order:
        kids = children.get(node, [])
        if shown[node]:
            _, visible = suppress(total[node], [total[c] for c in kids], minimum)
        else:
            visible = [False] * len(kids)
        shown.update(zip(kids, visible))
    return {node: (total[node], shown[node], "" if shown[node] else "few" if total[node] < minimum else "complement")
            for node in order}


def _child_of(unit: Unit, units) -> dict[int, int | None]:
    """Each unit of ``unit``'s subtree → the child of ``unit`` it lies under (None: ``unit``)."""
    out: dict[int, int | None] = {}
    for u in units:
        chain = ancestor_ids(u.path)
        if unit.id in chain:
            below = chain[chain.index(unit.id) + 1:]
            out[u.id] = below[0] if below else None
    return out


def _build(form: Form, unit: Unit, units, sheets, counts: dict[int, int], definitions: list[dict], yes_no: dict,
           minimum: int) -> SurveyResults:
    """The groups of one form from its sheets (``access.SurveyAnswer``, ``unit``'s subtree) and
    the city's sheet counts per unit (for ``visibility``)."""
    seen = visibility(units, counts, minimum)
    child_of = _child_of(unit, units)
    by_child: dict[int, list[dict]] = {}
    for sheet in sheets:
        child = child_of.get(sheet.unit_id)
        if child is not None:
            by_child.setdefault(child, []).append(sheet.answers)
    children = [u for u in units if u.parent_id == unit.id and (u.is_active or u.id in by_child)]
    questions = survey_questions(definitions)

    def group(unit_id, name, depth, answers):
        _total, visible, reason = seen.get(unit_id, (0, False, "few"))
        g = Group(unit_id, name, depth, len(answers), visible, reason)
        if visible:
            g.questions = [aggregate(q, answers, yes_no, minimum) for q in questions]
        return g

    groups = [group(unit.id, unit.name, 0, [s.answers for s in sheets])]
    groups += [group(c.id, c.name, 1, by_child.get(c.id, [])) for c in children]
    return SurveyResults(form, unit, groups, minimum, questions)


def results_of(session: Session, viewer: User, forms: list[Form], unit: Unit, yes_no: dict, now,
               minimum: int = MIN_ANSWERS) -> list[SurveyResults]:
    """The results of each survey in ``forms`` for ``unit`` (already checked to lie in the
    viewer's scope) and its children, with the suppression above; a survey not closed at ``now``
    (UTC) gives ``published=False`` and nothing else; 404 unless the viewer may see results of
    every form (access.may_see_results). ``yes_no``: the words for yes and no. Four queries (the
    subtree's sheets; the city's sheet counts per unit, which decide what is shown; the units;
    the versions), however many forms, units or sheets; none while no survey is closed."""
    if not all(access.may_see_results(viewer, form) for form in forms):
        abort(404)
    closed = [f for f in forms if is_closed(f, now)]
    if not closed:
        return [SurveyResults(form, unit, [], minimum, published=False) for form in forms]
    sheets = access.survey_answers(session, viewer, closed, unit)
    form_ids = [f.id for f in closed]
    counts: dict[int, dict[int, int]] = {}
    for form_id, unit_id, n in session.execute(
            select(FormSubmission.form_id, User.unit_id, func.count(FormSubmission.id))
            .join(User, User.id == FormSubmission.user_id)
            .where(FormSubmission.form_id.in_(form_ids), FormSubmission.status == "submitted")
            .group_by(FormSubmission.form_id, User.unit_id)):
        counts.setdefault(form_id, {})[unit_id] = n
    units = session.execute(select(Unit.id, Unit.name, Unit.path, Unit.parent_id, Unit.is_active)
                            .order_by(Unit.sort_order, Unit.id)).all()
    definitions: dict[int, list[dict]] = {}
    for form_id, definition in session.execute(select(FormVersion.form_id, FormVersion.definition)
                                               .where(FormVersion.form_id.in_(form_ids)).order_by(FormVersion.number)):
        definitions.setdefault(form_id, []).append(definition)
    return [_build(form, unit, units, [s for s in sheets if s.form_id == form.id], counts.get(form.id, {}),
                   definitions.get(form.id, []), yes_no, minimum) if form in closed
            else SurveyResults(form, unit, [], minimum, published=False) for form in forms]


def survey_results(session: Session, viewer: User, form: Form, unit: Unit, yes_no: dict, now,
                   minimum: int = MIN_ANSWERS) -> SurveyResults:
    """``results_of`` for one form (the results page and its workbook)."""
    return results_of(session, viewer, [form], unit, yes_no, now, minimum)[0]
