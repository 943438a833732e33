"""The campaign report (总结提升 · 教育整顿成效报告, issue 17 point 5): a unit's whole campaign,
from the platform's own records, as a printable page and an Excel workbook.

A report is a list of sections (``SECTIONS``). Each ``Section`` has a key, a title and a
``build`` function that takes the report's context (``CampaignReport``: ``session``, ``unit``,
``start``, ``end``, ``now``, the campaign's ``weeks`` and ``stages``, the unit's subtree) and
returns a ``SectionResult``: headline figures for the overview (概况) and tables. The page
and the workbook render any section the same way, so adding the figures of another part of
the campaign (forms submitted, ledger items found/closed, talks) is one function appended to
``SECTIONS``; ``CampaignReport.tree_rows`` turns per-unit counts from one GROUP BY query into
the unit tree's rows (rolled up: a branch counts everything below it). For example::

    def ledger(r):
        counts = {uid: {"found": f, "closed": c} for uid, f, c in r.session.execute(
            select(Item.unit_id, func.count(), func.count(Item.closed_at))
            .where(Item.unit_id.in_(r.unit_ids)).group_by(Item.unit_id))}
        rows = r.tree_rows(counts, rates={"rate": ("closed", "found")})
        return SectionResult([(_("整改完成率"), rows[0]["rate"] if rows else None, "pct")],
                             [Table(_("各单位整改情况"), UNIT_COLS + (...), rows, tree=True)])

Figures: study and exams per ISO week are the dashboard's own (``queries.direct_sums_by_week``:
a closed week's snapshot, else the live aggregation; rates by ``figures.apply_sums``); over the
campaign they are the sums of the weeks, so 学习达标率 over the campaign is officer-weeks that met
the target / officer-weeks, never an average of weekly rates. Tasks count the officers (active
today) each task of a begun stage is aimed at, and their submissions' current status. Every
figure of a report costs a fixed number of queries, whatever the number of weeks or units.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Callable

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..auth.scope import aimed_at, ancestor_ids, subtree_unit_ids
from ..forms_ import survey
from ..ledger.queries import overdue_clause
from ..models import Campaign, Exam, Form, FormSubmission, FormVersion, LedgerItem, Task, TaskSubmission, Unit, User
from ..talks.queries import talked_between, talks_between
from ..tasks.queries import stages as campaign_stages
from ..timeutils import local_day, parse_week_key, week_key, week_progress
from .figures import UnitRow, WeeklySums, apply_sums
from .queries import direct_sums_by_week

#: The most weeks a report covers (the campaign's last ones): a campaign runs for months.
MAX_WEEKS = 52
#: How many levels below the report's unit the printed page lists (the workbook lists all).
PAGE_DEPTH = 2


@dataclass(frozen=True)
class Column:
    """A table column: ``kind`` says how a value is shown — text, unit (indented by depth), week
    (第N周), stage, int, pct (a fraction, shown as %), hours, score."""
    key: str
    label: object
    kind: str = "int"
    width: int = 10


@dataclass
class Table:
    title: object
    columns: tuple[Column, ...]
    rows: list[dict]
    note: object = ""
    #: rows are the unit tree (``depth`` in each row): the page shows PAGE_DEPTH levels of it
    tree: bool = False


@dataclass
class SectionResult:
    #: the overview's figures: (label, value, kind)
    headline: list[tuple]
    tables: list[Table]


@dataclass(frozen=True)
class Section:
    key: str
    title: object
    build: Callable[["CampaignReport"], SectionResult]


UNIT_COLUMN = Column("unit_name", _l("单位"), "unit", 22)


def first_campaign(session: Session) -> Campaign | None:
    """The platform's campaign: the first one, as the task services keep it (ensure_campaign)."""
    return session.scalar(select(Campaign).order_by(Campaign.id).limit(1))


class CampaignReport:
    """The context every section builds from. ``unit``: the report's unit (checked against the
    caller's scope by the route); ``start``/``end``: the campaign's first and last day (local),
    ``weeks``: its ISO weeks up to this one; ``units``: the unit's subtree, tree order."""

    def __init__(self, session: Session, unit: Unit, now, viewer: User | None = None):
        #: who reads the report (the survey section's results are the viewer's, app/forms_/access.py)
        self.session, self.unit, self.now, self.viewer = session, unit, now, viewer
        self.today: date = local_day(now)
        self.campaign = first_campaign(session)
        self.stages = [s for s in campaign_stages(session)
                       if self.campaign is not None and s.campaign_id == self.campaign.id]
        self.start = min((s.starts_on for s in self.stages), default=None)
        self.end = max((s.ends_on for s in self.stages), default=None)

    @property
    def started(self) -> bool:
        return self.start is not None and self.start <= self.today

    @cached_property
    def weeks(self) -> list[str]:
        """The campaign's ISO weeks from its first day to its last or to this week, oldest first."""
        if not self.started:
            return []
        last = week_key(min(self.end, self.today))
        weeks, monday = [], parse_week_key(week_key(self.start))
        while week_key(monday) <= last:
            weeks.append(week_key(monday))
            monday = date.fromordinal(monday.toordinal() + 7)
        return weeks[-MAX_WEEKS:]

    def week_open(self, week: str) -> bool:
        return week_progress(week, self.now).in_progress

    @cached_property
    def units(self) -> list:
        """The unit's subtree (inactive units too, so their officers still roll up), tree order."""
        rows = self.session.execute(
            select(Unit.id, Unit.name, Unit.code, Unit.parent_id, Unit.depth, Unit.level, Unit.path, Unit.is_active)
            .where(Unit.id.in_(subtree_unit_ids(self.unit))).order_by(Unit.sort_order, Unit.id)).all()
        children: dict = {}
        for u in rows:
            children.setdefault(u.parent_id, []).append(u)
        ordered: list = []

        def walk(u):
            ordered.append(u)
            for child in children.get(u.id, []):
                walk(child)

        for top in (u for u in rows if u.id == self.unit.id):
            walk(top)
        return ordered

    @cached_property
    def unit_ids(self) -> list[int]:
        return [u.id for u in self.units]

    def _ancestors(self) -> dict[int, list[int]]:
        inside = set(self.unit_ids)
        return {u.id: [a for a in ancestor_ids(u.path) if a in inside] for u in self.units}

    def rollup(self, direct: dict[int, dict]) -> dict[int, dict]:
        """Per-unit counts of each unit's own people → each unit's subtree totals (additive
        values only); units outside the report's subtree are ignored."""
        up = self._ancestors()
        totals: dict[int, dict] = {}
        for unit_id, values in direct.items():
            for ancestor in up.get(unit_id, ()):
                into = totals.setdefault(ancestor, {})
                for key, value in values.items():
                    into[key] = into.get(key, 0) + (value or 0)
        return totals

    def tree_rows(self, direct: dict[int, dict], rates: dict[str, tuple[str, str]] | None = None) -> list[dict]:
        """The active units of the subtree in tree order, each with ``rollup(direct)``'s totals
        (0 when none) and ``rates``: name → (numerator key, denominator key), None over 0."""
        totals = self.rollup(direct)
        keys = {key for values in direct.values() for key in values}
        rows = []
        for u in self.units:
            if not u.is_active:
                continue
            values = {key: 0 for key in keys} | totals.get(u.id, {})
            for name, (num, den) in (rates or {}).items():
                values[name] = values.get(num, 0) / values[den] if values.get(den) else None
            rows.append({"unit_id": u.id, "unit_name": u.name, "depth": u.depth - self.unit.depth, **values})
        return rows

    # --- the weekly figures, shared by the study and exam sections ---------------------------

    @cached_property
    def direct_sums(self) -> dict[str, dict[int, WeeklySums]]:
        return direct_sums_by_week(self.session, self.weeks, self.now)

    @cached_property
    def exam_weeks(self) -> set[str]:
        if not self.weeks:
            return set()
        return set(self.session.scalars(select(Exam.week).where(Exam.week.in_(self.weeks), Exam.scope == "city")))

    @cached_property
    def unit_week_sums(self) -> dict[str, dict[int, WeeklySums]]:
        """Per week: each unit's subtree sums (the dashboard's figures of that unit and week)."""
        up = self._ancestors()
        out: dict[str, dict[int, WeeklySums]] = {}
        for week, direct in self.direct_sums.items():
            totals: dict[int, WeeklySums] = {}
            for unit_id, sums in direct.items():
                for ancestor in up.get(unit_id, ()):
                    totals.setdefault(ancestor, WeeklySums()).add(sums)
            out[week] = totals
        return out

    def figures(self, sums: WeeklySums, unit=None) -> UnitRow:
        """The rates of ``sums`` by the dashboard's rules (``figures.apply_sums``)."""
        u = unit or self.unit
        row = UnitRow(u.id, u.name, u.code, u.parent_id, u.depth, u.level, u.path)
        apply_sums(row, sums)
        return row

    def campaign_sums(self, unit_id: int, weeks) -> WeeklySums:
        """A unit's subtree sums added over ``weeks`` (officer-weeks, seconds, attempts…)."""
        total = WeeklySums()
        for week in weeks:
            total.add(self.unit_week_sums[week].get(unit_id, WeeklySums()))
        return total

    @cached_property
    def sections(self) -> list[tuple[Section, SectionResult]]:
        return [(section, section.build(self)) for section in SECTIONS] if self.weeks else []


# --- the sections -----------------------------------------------------------------------------

def _hours(seconds) -> float:
    return round(seconds / 3600, 1)


def study_section(r: CampaignReport) -> SectionResult:
    weekly = []
    for week in r.weeks:
        sums = r.unit_week_sums[week].get(r.unit.id, WeeklySums())
        row = r.figures(sums)
        weekly.append({"week": week, "officers": row.officers, "target_met": row.study_target_met,
                       "rate": row.study_completion_rate, "hours": _hours(sums.study_seconds),
                       "avg_hours": row.avg_study_hours, "status": _l("进行中") if r.week_open(week) else ""})
    last = r.weeks[-1]
    units = []
    for u in r.units:
        if not u.is_active:
            continue
        sums = r.campaign_sums(u.id, r.weeks)
        total = r.figures(sums, u)
        now_officers = r.unit_week_sums[last].get(u.id, WeeklySums()).officers
        units.append({"unit_id": u.id, "unit_name": u.name, "depth": u.depth - r.unit.depth,
                      "officers": now_officers, "rate": total.study_completion_rate,
                      "hours": _hours(sums.study_seconds), "avg_hours": total.avg_study_hours})
    overall = r.campaign_sums(r.unit.id, r.weeks)
    top = r.figures(overall)
    week_cols = (Column("week", _l("周次"), "week", 24), Column("officers", _l("干警人数")),
                 Column("target_met", _l("达标人数")), Column("rate", _l("学习达标率"), "pct"),
                 Column("hours", _l("总学时"), "hours", 12), Column("avg_hours", _l("人均学时"), "hours"),
                 Column("status", _l("状态"), "text", 8))
    unit_cols = (UNIT_COLUMN, Column("officers", _l("干警人数")), Column("rate", _l("学习达标率"), "pct"),
                 Column("hours", _l("累计学时"), "hours", 12), Column("avg_hours", _l("周人均学时"), "hours"))
    return SectionResult(
        [(_l("累计学时"), _hours(overall.study_seconds), "hours"), (_l("学习达标率"), top.study_completion_rate, "pct"),
         (_l("周人均学时"), top.avg_study_hours, "hours")],
        [Table(_l("分周学习情况"), week_cols, weekly,
               _l("学习达标：一周学时达到周目标。达标率 = 达标人数 ÷ 干警人数；进行中的一周为截至生成时间的暂定数。")),
         Table(_l("各单位学习情况（全程）"), unit_cols, units,
               _l("全程学习达标率 = 各周达标人数之和 ÷ 各周干警人数之和；周人均学时 = 累计学时 ÷ 各周干警人数之和。"),
               tree=True)])


def exams_section(r: CampaignReport) -> SectionResult:
    weekly = []
    for week in r.weeks:
        has_exam = week in r.exam_weeks
        row = r.figures(r.unit_week_sums[week].get(r.unit.id, WeeklySums()))
        weekly.append({"week": week, "officers": row.officers,
                       "participants": row.exam_participants if has_exam else None,
                       "participation": row.exam_participation_rate if has_exam else None,
                       "avg_score": row.avg_score, "passed": row.pass_count if has_exam else None,
                       "pass_rate": row.pass_rate if has_exam else None,
                       "status": (_l("进行中") if r.week_open(week) else "") if has_exam else _l("无测试")})
    exam_weeks = [w for w in r.weeks if w in r.exam_weeks]
    units = []
    for u in r.units:
        if not u.is_active:
            continue
        total = r.figures(r.campaign_sums(u.id, exam_weeks), u)
        units.append({"unit_id": u.id, "unit_name": u.name, "depth": u.depth - r.unit.depth,
                      "participants": total.exam_participants, "participation": total.exam_participation_rate,
                      "avg_score": total.avg_score, "pass_rate": total.pass_rate})
    top = r.figures(r.campaign_sums(r.unit.id, exam_weeks))
    week_cols = (Column("week", _l("周次"), "week", 24), Column("officers", _l("应考人数")),
                 Column("participants", _l("参考人数")), Column("participation", _l("参考率"), "pct"),
                 Column("avg_score", _l("平均分"), "score"), Column("passed", _l("及格人数")),
                 Column("pass_rate", _l("及格率"), "pct"), Column("status", _l("状态"), "text", 8))
    unit_cols = (UNIT_COLUMN, Column("participants", _l("参考人次")), Column("participation", _l("参考率"), "pct"),
                 Column("avg_score", _l("平均分"), "score"), Column("pass_rate", _l("及格率"), "pct"))
    return SectionResult(
        [(_l("每周测试"), len(exam_weeks), "int"), (_l("参考率"), top.exam_participation_rate, "pct"),
         (_l("平均分"), top.avg_score, "score"), (_l("及格率"), top.pass_rate, "pct")],
        [Table(_l("分周测试情况"), week_cols, weekly, _l("参考率 = 完成测试人数 ÷ 应考人数；平均分、及格率按参考人数计算。")),
         Table(_l("各单位测试情况（全程）"), unit_cols, units,
               _l("全程参考率 = 各次测试参考人次之和 ÷ 应考人次之和；平均分为全部答卷的平均。"), tree=True)])


def task_counts(r: CampaignReport) -> list:
    """One row per (task, officer's unit) of the begun stages' tasks in the subtree: how many
    active officers it is aimed at and how many of them handed it in (submitted, accepted or
    returned) — one query. A withdrawn task counts nowhere, as on the dashboard."""
    begun = [s.id for s in r.stages if s.starts_on <= r.today]
    if not begun:
        return []
    officer_unit = Unit.__table__.alias("officer_unit")
    status = TaskSubmission.status

    def count(*statuses):
        return func.coalesce(func.sum(case((status.in_(statuses), 1), else_=0)), 0)

    return r.session.execute(
        select(Task.id, Task.stage_id, Task.required, User.unit_id, func.count(User.id).label("assigned"),
               count("submitted", "accepted", "returned").label("handed_in"), count("submitted").label("waiting"),
               count("accepted").label("accepted"), count("returned").label("returned"))
        .select_from(Task)
        .join(User, and_(User.role == "officer", User.is_active.is_(True), User.unit_id.in_(r.unit_ids)))
        .join(officer_unit, officer_unit.c.id == User.unit_id)
        .outerjoin(TaskSubmission, and_(TaskSubmission.task_id == Task.id, TaskSubmission.user_id == User.id))
        .where(Task.stage_id.in_(begun), Task.withdrawn_at.is_(None), aimed_at(Task.target_unit_id, officer_unit.c.path))
        .group_by(Task.id, Task.stage_id, Task.required, User.unit_id)).all()


TASK_FIGURES = ("assigned", "handed_in", "waiting", "accepted", "returned")


def tasks_section(r: CampaignReport) -> SectionResult:
    rows = task_counts(r)
    by_stage: dict[int, dict] = {}
    by_unit: dict[int, dict] = {}
    for row in rows:
        stage = by_stage.setdefault(row.stage_id, {"required": set(), "optional": set()})
        stage["required" if row.required else "optional"].add(row.id)
        for target in (stage, by_unit.setdefault(row.unit_id, {})):
            for key in TASK_FIGURES:
                target[key] = target.get(key, 0) + int(getattr(row, key))
    stages = []
    for s in r.stages:
        counts = by_stage.get(s.id, {})
        assigned = counts.get("assigned", 0)
        stages.append({"stage": s.name, "dates": f"{s.starts_on:%Y-%m-%d}～{s.ends_on:%Y-%m-%d}",
                       "required": len(counts.get("required", ())), "optional": len(counts.get("optional", ())),
                       **{key: counts.get(key, 0) for key in TASK_FIGURES},
                       "rate": counts.get("accepted", 0) / assigned if assigned else None,
                       "status": _l("未开始") if s.starts_on > r.today else ""})
    rates = {"rate": ("accepted", "assigned")}
    units = r.tree_rows({uid: {key: v.get(key, 0) for key in TASK_FIGURES} for uid, v in by_unit.items()}, rates)
    for unit_row in units:
        for key in TASK_FIGURES:
            unit_row.setdefault(key, 0)
    top = units[0] if units else {}
    figure_cols = (Column("assigned", _l("应完成人次")), Column("handed_in", _l("已提交")),
                   Column("accepted", _l("已通过")), Column("returned", _l("退回待改")),
                   Column("rate", _l("完成率"), "pct"))
    stage_cols = (Column("stage", _l("阶段"), "text", 10), Column("dates", _l("起止日期"), "text", 24),
                  Column("required", _l("规定动作")), Column("optional", _l("自选动作")), *figure_cols,
                  Column("status", _l("状态"), "text", 8))
    return SectionResult(
        [(_l("规定动作和自选动作"), sum(s["required"] + s["optional"] for s in stages), "int"),
         (_l("任务完成率"), top.get("rate"), "pct"), (_l("退回待改"), top.get("returned", 0), "int")],
        [Table(_l("分阶段任务情况"), stage_cols, stages,
               _l("应完成人次：每项任务面向的在岗干警人数之和；已提交含待审核、已通过和退回待改；完成率 = 已通过 ÷ 应完成人次。")),
         Table(_l("各单位任务情况（全程）"), (UNIT_COLUMN, *figure_cols), units, tree=True)])


def forms_section(r: CampaignReport) -> SectionResult:
    """查纠整改 forms handed in, per unit of the person who filled them: counts only (no answer
    is read here; who may read one is app/forms_/access.py's rule) — one query."""
    direct = {uid: {"submitted": n} for uid, n in r.session.execute(
        select(User.unit_id, func.count(FormSubmission.id)).join(User, User.id == FormSubmission.user_id)
        .where(FormSubmission.status == "submitted", User.unit_id.in_(r.unit_ids)).group_by(User.unit_id))}
    units = r.tree_rows(direct)
    for row in units:
        row.setdefault("submitted", 0)
    top = units[0] if units else {}
    return SectionResult([(_l("查纠整改表单已提交"), top.get("submitted", 0), "int")],
                         [Table(_l("各单位表单提交情况"), (UNIT_COLUMN, Column("submitted", _l("已提交份数"))), units,
                                _l("只统计份数；保密表单的内容仅本人和本单位纪检督察可见。"), tree=True)])


def ledger_section(r: CampaignReport) -> SectionResult:
    """整改台账 over the campaign: problems found, closed (已销号), overdue (the ledger's own
    rule, ledger.queries.overdue_clause) per unit, rolled up the tree — one query."""
    overdue = case((overdue_clause(r.today), 1), else_=0)
    direct = {uid: {"found": found, "closed": int(closed or 0), "overdue": int(late or 0)}
              for uid, found, closed, late in r.session.execute(
                  select(LedgerItem.unit_id, func.count(LedgerItem.id),
                         func.sum(case((LedgerItem.status == "closed", 1), else_=0)), func.sum(overdue))
                  .where(LedgerItem.unit_id.in_(r.unit_ids)).group_by(LedgerItem.unit_id))}
    units = r.tree_rows(direct, {"rate": ("closed", "found")})
    for row in units:
        for key in ("found", "closed", "overdue"):
            row.setdefault(key, 0)
    top = units[0] if units else {}
    return SectionResult(
        [(_l("查摆问题"), top.get("found", 0), "int"), (_l("整改完成率"), top.get("rate"), "pct"),
         (_l("逾期未整改"), top.get("overdue", 0), "int")],
        [Table(_l("各单位整改台账"), (UNIT_COLUMN, Column("found", _l("查摆问题")), Column("closed", _l("已销号")),
                                      Column("rate", _l("整改完成率"), "pct"), Column("overdue", _l("逾期未整改"))),
               units, _l("整改完成率 = 已销号 ÷ 查摆问题；逾期：过了整改期限仍未销号。"), tree=True)])


def talks_section(r: CampaignReport) -> SectionResult:
    """谈心谈话 over the campaign, per unit of the officer (counts only; who may read a note is
    app/forms_/access.py's rule): active officers, those talked with at least once from the
    campaign's first day to today (or its last), talks recorded, coverage — one query."""
    first, last = r.start, min(r.end, r.today)
    direct = {uid: {"officers": n, "talked": int(t or 0), "talks": int(k or 0)}
              for uid, n, t, k in r.session.execute(
                  select(User.unit_id, func.count(User.id), func.count(User.id).filter(talked_between(first, last)),
                         func.sum(talks_between(first, last)))
                  .where(User.role == "officer", User.is_active.is_(True), User.unit_id.in_(r.unit_ids))
                  .group_by(User.unit_id))}
    units = r.tree_rows(direct, {"rate": ("talked", "officers")})
    for row in units:
        for key in ("officers", "talked", "talks"):
            row.setdefault(key, 0)
    top = units[0] if units else {}
    return SectionResult(
        [(_l("谈心谈话次数"), top.get("talks", 0), "int"), (_l("整顿期间谈心谈话覆盖率"), top.get("rate"), "pct")],
        [Table(_l("各单位谈心谈话"), (UNIT_COLUMN, Column("officers", _l("在岗干警")), Column("talked", _l("已谈话")),
                                     Column("talks", _l("谈心谈话次数")), Column("rate", _l("整顿期间覆盖率"), "pct")),
               units, _l("覆盖率 = 整顿期间至少谈话一次的在岗干警 ÷ 在岗干警；只统计人数和次数，不含谈话记录。"), tree=True)])


def survey_section(r: CampaignReport) -> SectionResult:
    """满意度测评 (匿名测评 forms): per published survey and question, the report's unit and its
    child units with the small groups suppressed — app/forms_/survey.py's figures as they are
    (``results_of``: three queries for all surveys together; free texts stay on its results
    page). Without a viewer to scope the answers to, nothing is shown."""
    published = select(FormVersion.form_id).distinct()
    forms = [] if r.viewer is None else list(r.session.scalars(
        select(Form).where(Form.confidentiality == "survey", Form.id.in_(published)).order_by(Form.due_at, Form.id)))
    headline, tables, yes_no = [], [], {"yes": _("是"), "no": _("否")}
    note = _l("匿名测评只按单位汇总（含下级单位），百分比为作答人数中的占比；答卷不足%(n)d份的单位不显示结果，必要时另隐去"
              "一个单位，以免相减推算出小单位的结果。意见建议见测评结果页。", n=survey.MIN_ANSWERS)
    for res in survey.results_of(r.session, r.viewer, forms, r.unit, yes_no, r.now):
        if not res.published:
            headline.append((_l("%(t)s答卷", t=res.form.title), None, "int"))
            tables.append(Table(_l("满意度测评"), (Column("text", _l("说明"), "text", 40),),
                                [{"text": _l("《%(t)s》截止后公布结果。", t=res.form.title)}]))
            continue
        headline.append((_l("%(t)s答卷", t=res.form.title), res.groups[0].count if res.groups[0].shown else None, "int"))
        for q in (q for q in res.questions if q["type"] not in survey.TEXT_KINDS):
            figures = ((Column("mean", _l("平均值"), "score"),) if q["type"] == "number" else
                       tuple(Column(f"o{i}", label, "pct") for i, label in enumerate(survey.option_labels(q, yes_no))))
            columns = (UNIT_COLUMN, Column("count", _l("答卷份数")), *figures, Column("note", _l("说明"), "text", 30))
            tables.append(Table(f"{res.form.title} · {q['label']}", columns, survey.question_rows(res, q["key"]), note,
                                tree=True))
    if not tables:
        tables.append(Table(_l("满意度测评"), (Column("text", _l("说明"), "text", 40),),
                            [{"text": _l("还没有发布的满意度测评。")}]))
    return SectionResult(headline, tables)


#: The report's sections, in order; a part of the campaign is one function appended here (see
#: the module's docstring).
SECTIONS: list[Section] = [
    Section("study", _l("学习情况"), study_section),
    Section("exams", _l("每周测试"), exams_section),
    Section("tasks", _l("规定动作"), tasks_section),
    Section("forms", _l("查纠整改表单"), forms_section),
    Section("ledger", _l("整改台账"), ledger_section),
    Section("talks", _l("谈心谈话"), talks_section),
    Section("survey", _l("满意度测评"), survey_section),
]


def stage_rows(r: CampaignReport) -> list[dict]:
    """The campaign's stages with their dates and where they stand today."""
    def state(s):
        if s.starts_on > r.today:
            return _l("未开始")
        return _l("已结束") if s.ends_on < r.today else _l("进行中")
    return [{"stage": s.name, "dates": f"{s.starts_on:%Y-%m-%d}～{s.ends_on:%Y-%m-%d}", "status": state(s)}
            for s in r.stages]


STAGE_COLUMNS = (Column("stage", _l("阶段"), "text", 10), Column("dates", _l("起止日期"), "text", 24),
                 Column("status", _l("状态"), "text", 8))



# --- the overview's chart (server-rendered SVG: the printed page needs no script) ------------

CHART_W, CHART_H, CHART_PAD = 360, 170, (30, 20, 12, 26)  # width, height, (left, right, top, bottom)


def trend_chart(r: CampaignReport) -> dict:
    """The weekly 学习达标率 and 参考率 of the report's unit as SVG coordinates: per series its
    line segments (a week without a value, such as a week without an exam, breaks the line) and
    points (``open``: the week in progress, drawn hollow, its figures provisional); the x
    position and ISO key of the labelled weeks; the y of the 0/50/100% grid lines."""
    left, right, top, bottom = CHART_PAD
    inner_w, inner_h = CHART_W - left - right, CHART_H - top - bottom
    weeks = r.weeks
    step = inner_w / (len(weeks) - 1) if len(weeks) > 1 else 0
    xs = [round(left + (i * step if len(weeks) > 1 else inner_w / 2), 1) for i in range(len(weeks))]

    def y(rate):
        return round(top + (1 - rate) * inner_h, 1)

    study = {row["week"]: row["rate"] for row in section_rows(r, "study")}
    exams = {row["week"]: row["participation"] for row in section_rows(r, "exams")}
    series = []
    for key, label, values in (("study", _l("学习达标率"), study), ("exams", _l("参考率"), exams)):
        segments, current, points = [], [], []
        for x, week in zip(xs, weeks):
            value = values.get(week)
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(f"{x},{y(value)}")
            points.append({"x": x, "y": y(value), "week": week, "value": value, "open": r.week_open(week)})
        if current:
            segments.append(current)
        series.append({"key": key, "label": label, "segments": [" ".join(s) for s in segments], "points": points})
    # Label every week when they fit, else every other one (a 20-week campaign on a phone).
    every = 1 if len(weeks) <= 8 else 2 if len(weeks) <= 16 else 4
    open_week = next((w for w in weeks if r.week_open(w)), None)
    return {"open_week": open_week, "w": CHART_W, "h": CHART_H, "left": left, "right": CHART_W - right, "bottom": CHART_H - bottom,
            "grid": [(p, y(p / 100)) for p in (0, 50, 100)], "series": series,
            "weeks": [{"x": x, "week": w} for i, (x, w) in enumerate(zip(xs, weeks)) if i % every == 0]}


def section_rows(r: CampaignReport, key: str) -> list[dict]:
    """The first table's rows of the section ``key`` (its weekly table), [] without it."""
    result = next((result for section, result in r.sections if section.key == key), None)
    return result.tables[0].rows if result and result.tables else []
