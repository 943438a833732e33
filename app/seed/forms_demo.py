"""Demo forms of the 查纠整改 stage (issue 17): the office's 个人有关事项报告 (with the relatives
who practise law, one of the six 顽瘴痼疾) and a 自查自纠报告, both confidential. The demo officer
has the 个人事项 form still to fill; a few colleagues of 小店分局 and one of 迎泽分局 have submitted
(the inspector of 小店分局 reads the first, not the second).

And two surveys (匿名测评): the 学习教育 stage's 学习教育环节满意度测评, closed at the stage's end —
officers of 小店分局's first stations answered (8, 6, 3 and 2 of them: the last two stations'
results are suppressed) and a few dozen more across the city, so the supervisor's and the
leader's results pages show figures and suppressed units; and the 总结提升 stage's 满意度测评,
still open (the demo officer can fill it; its results wait for its deadline)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..forms_ import services
from ..models import CampaignStage, Form, Unit, User
from ..timeutils import local_at, local_day
from .units import SUPERVISOR_BRANCH

PERSONAL = {"fields": [
    {"key": "s1", "type": "section", "label": "一、基本情况"},
    {"key": "marital", "type": "single", "label": "婚姻状况", "required": True,
     "options": ["未婚", "已婚", "离异", "丧偶"]},
    {"key": "s2", "type": "section", "label": "二、配偶、子女及其配偶从业情况",
     "help": "对照防止干预司法“三个规定”和从业禁止规定，如实填报。"},
    {"key": "lawyer", "type": "yesno", "required": True,
     "label": "配偶、子女及其配偶是否从事律师职业，或在律师事务所、法律服务机构任职",
     "help": "包括担任律师事务所合伙人、律师助理、行政人员，以及以律师身份担任诉讼代理人、辩护人。"},
    {"key": "relatives", "type": "group", "label": "亲属从业情况",
     "help": "逐人填写从事律师职业或在法律服务机构任职的亲属；没有的不填。",
     "columns": [{"label": "姓名"}, {"label": "关系"}, {"label": "职业"}, {"label": "单位"}]},
    {"key": "business", "type": "yesno", "required": True,
     "label": "本人及配偶、子女是否存在违规经商办企业、违规参股借贷"},
    {"key": "s3", "type": "section", "label": "三、其他事项"},
    {"key": "interfere", "type": "yesno", "required": True,
     "label": "是否存在过问、干预、插手案件或为案件当事人说情打招呼的情况"},
    {"key": "proof", "type": "file", "label": "证明材料（照片或 PDF，选填）",
     "help": "如亲属的执业证、任职证明，或已辞去相关职务的证明。"},
    {"key": "other", "type": "textarea", "label": "其他需要向组织说明的事项"},
]}

SELF_CHECK = {"fields": [
    {"key": "kind", "type": "single", "label": "自查发现的问题属于", "required": True,
     "options": ["违反防止干预司法“三个规定”", "违规经商办企业", "违规参股借贷", "有案不立、压案不查、有罪不究",
                 "违规违法减刑、假释、暂予监外执行", "配偶子女违规从事律师职业", "其他问题", "未发现问题"]},
    {"key": "found", "type": "textarea", "label": "问题的具体情况", "help": "“自查从宽、被查从严”：主动说清问题的，依规从宽处理。"},
    {"key": "measures", "type": "textarea", "label": "整改措施"},
    {"key": "done_by", "type": "date", "label": "计划整改完成日期"},
    {"key": "cases", "type": "number", "label": "涉及案件数（没有填 0）"},
]}

SATISFACTION = {"fields": [
    {"key": "overall", "type": "single", "label": "对本次教育整顿的总体评价", "required": True,
     "options": ["非常满意", "满意", "基本满意", "不满意"]},
    # 是/否 as a single choice: a yes/no field would ask for details after "是".
    {"key": "practical", "type": "single", "label": "学习内容是否贴近实际", "required": True, "options": ["是", "否"]},
    {"key": "style", "type": "number", "label": "对队伍作风变化的评分（1–10 分）", "required": True,
     "help": "10 分为变化最大。"},
    {"key": "advice", "type": "textarea", "label": "意见建议", "help": "匿名填写，只按单位汇总显示，不显示姓名。"},
]}
#: The closed survey of the 学习教育 stage: the same questions about that stage.
STUDY_SURVEY_TITLE = "学习教育环节满意度测评"
STUDY_SATISFACTION = {"fields": [{**SATISFACTION["fields"][0], "label": "对学习教育环节的总体评价"},
                                 *SATISFACTION["fields"][1:]]}
#: 小店分局's stations, in order, and how many of their officers have answered the study survey.
SURVEY_PER_STATION = (8, 6, 3, 2)
#: Officers elsewhere in the city who have answered (at most 3 a unit, drawn at random).
SURVEY_ELSEWHERE = 70
SURVEY_SEED = 2021
SURVEY_ADVICE = ("希望多安排案例教学，少一些照本宣科。", "学习时间与值班冲突，建议视频课可以回看。",
                 "警示教育案例很有触动，建议常态化。", "建议减少重复填表，减轻基层负担。", "", "", "")

SAMPLE_ANSWERS = [
    {"marital": "已婚", "lawyer": {"value": "yes", "details": "儿子在本市一家律师事务所任专职律师，已按规定报告。"},
     "relatives": [{"c1": "王磊", "c2": "儿子", "c3": "律师", "c4": "山西某律师事务所"}],
     "business": {"value": "no", "details": ""}, "interfere": {"value": "no", "details": ""}, "other": ""},
    {"marital": "已婚", "lawyer": {"value": "no", "details": ""}, "relatives": [],
     "business": {"value": "no", "details": ""}, "interfere": {"value": "no", "details": ""}, "other": "无"},
    {"marital": "未婚", "lawyer": {"value": "yes", "details": "配偶在法律服务所任行政人员。"},
     "relatives": [{"c1": "赵敏", "c2": "配偶", "c3": "行政人员", "c4": "太原市某法律服务所"}],
     "business": {"value": "no", "details": ""}, "interfere": {"value": "no", "details": ""}, "other": ""},
]


def _form(session: Session, admin: User, stage_id: int | None, title: str, description: str, definition: dict,
          due_at: datetime, now: datetime, confidentiality: str = "confidential",
          published_at: datetime | None = None) -> Form:
    form = services.save_settings(session, None, admin, title=title, description=description,
                                  confidentiality=confidentiality, target_unit_id=None, target_roles=["officer"],
                                  due_at=due_at, stage_id=stage_id)
    form.draft_definition = definition
    services.publish(session, form, admin, published_at or now - timedelta(days=3))
    return form


def _due(now: datetime, days: int) -> datetime:
    """18:00 Asia/Shanghai ``days`` from today, as an office sets a deadline."""
    return local_at(local_day(now) + timedelta(days=days), 18)


def load_content(session: Session, now: datetime) -> None:
    admin = session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
    stage = session.scalar(select(CampaignStage).where(CampaignStage.code == "rectify").limit(1))
    if admin is None:
        return
    stage_id = stage.id if stage else None
    _form(session, admin, stage_id, "个人有关事项报告",
          "按照教育整顿要求，干警如实报告配偶、子女及其配偶从业等个人有关事项。本表保密：只有本人和本单位纪检督察可以查阅。",
          PERSONAL, _due(now, 7), now)
    _form(session, admin, stage_id, "自查自纠报告",
          "对照“六大顽瘴痼疾”逐项自查，如实填写问题和整改措施。", SELF_CHECK, _due(now, 10), now)
    study = session.scalar(select(CampaignStage).where(CampaignStage.code == "study").limit(1))
    closes = local_at(study.ends_on, 18) if study else _due(now, -6)
    _form(session, admin, study.id if study else None, STUDY_SURVEY_TITLE,
          "学习教育环节已经结束，请对本环节的学习安排和效果作出评价。匿名填写，只按单位汇总。",
          STUDY_SATISFACTION, closes, now, "survey", published_at=closes - timedelta(days=7))
    summary = session.scalar(select(CampaignStage).where(CampaignStage.code == "summary").limit(1))
    _form(session, admin, summary.id if summary else None, "满意度测评",
          "请对本次教育整顿作出评价，帮助总结经验、巩固成果。",
          SATISFACTION, _due(now, 45), now, "survey")


def seed_activity(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    """Three officers of the inspector's branch and one outside it have submitted 个人事项."""
    form = session.scalar(select(Form).where(Form.title == "个人有关事项报告").limit(1))
    if form is None or not officer_ids or not has_app_context() or not current_app.config.get("FORMS_KEYS"):
        return  # no key (a bench or script with its own instance folder): the forms, without answers
    branch = session.scalar(select(Unit).where(Unit.code == SUPERVISOR_BRANCH))
    demo_officer = session.scalar(select(User.id).where(User.username == "officer"))
    inside, outside = [], []
    for user in session.scalars(select(User).where(User.id.in_(officer_ids[:400])).order_by(User.id)):
        if user.id == demo_officer:
            continue
        unit = session.get(Unit, user.unit_id)
        mine = branch is not None and unit.parent_id == branch.id
        (inside if mine else outside).append(user)
    chosen = inside[:3] + outside[:1]
    for i, user in enumerate(chosen):
        sub = services.start(session, form, user)
        answers = SAMPLE_ANSWERS[i % len(SAMPLE_ANSWERS)]
        done = services.save(session, sub, answers, submit=True, now=now - timedelta(days=2, hours=i),
                             max_bytes=5 * 1024 * 1024)
        assert not done.problems, done.problems.by_key
    # Its own generator: the survey's demo figures stay the same whatever other features draw.
    _survey_answers(session, now, officer_ids, branch, demo_officer, random.Random(SURVEY_SEED))


def _survey_answers(session: Session, now: datetime, officer_ids: list[int], branch: Unit | None,
                    demo_officer: int | None, rng: random.Random) -> None:
    """The study survey's answers, given in its last days before it closed: SURVEY_PER_STATION
    officers of 小店分局's first stations (not the demo officer), and SURVEY_ELSEWHERE officers
    outside the branch."""
    form = session.scalar(select(Form).where(Form.title == STUDY_SURVEY_TITLE).limit(1))
    if form is None or branch is None:
        return
    stations = list(session.scalars(select(Unit.id).where(Unit.parent_id == branch.id).order_by(Unit.sort_order, Unit.id)))
    by_unit: dict[int, list[User]] = {}
    for user in session.scalars(select(User).where(User.id.in_(officer_ids), User.id != (demo_officer or 0))
                                .order_by(User.id)):
        by_unit.setdefault(user.unit_id, []).append(user)
    chosen = [u for station, n in zip(stations, SURVEY_PER_STATION) for u in by_unit.get(station, [])[:n]]
    inside = set(stations) | {branch.id}
    elsewhere = [u for unit_id, users in sorted(by_unit.items()) if unit_id not in inside for u in users[:3]]
    rng.shuffle(elsewhere)
    chosen += elsewhere[:SURVEY_ELSEWHERE]
    for i, user in enumerate(chosen):
        answers = {"overall": rng.choices(SATISFACTION["fields"][0]["options"], weights=(5, 4, 2, 1))[0],
                   "practical": rng.choices(["是", "否"], weights=(5, 1))[0], "style": str(rng.randint(5, 10)),
                   "advice": rng.choice(SURVEY_ADVICE)}
        sub = services.start(session, form, user)
        done = services.save(session, sub, answers, submit=True, now=form.due_at - timedelta(hours=2 + i % 40),
                             max_bytes=5 * 1024 * 1024)
        assert not done.problems, done.problems.by_key
