"""Forms: the officer's completion form, the review form, task and stage creation. Dates and
times are read by app/forms.py's strict fields (A36)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import StrictDateField, StrictDateTimeLocalField

KIND_LABELS = {"read": _l("学习/观看"), "reflection": _l("撰写心得"), "event": _l("参加活动"), "proof": _l("提交佐证")}
STATUS_LABELS = {"todo": _l("未完成"), "draft": _l("草稿"), "submitted": _l("待审核"), "accepted": _l("已通过"),
                 "returned": _l("已退回")}
STAGE_LABELS = {"study": _l("学习教育"), "rectify": _l("查纠整改"), "summary": _l("总结提升")}


class CompleteForm(FlaskForm):
    """Text and photos; the photos come from ``request.files`` (checked in photos.py)."""
    text = TextAreaField(_l("内容"), validators=[Optional(), Length(max=20000)])
    action = SelectField(choices=[("draft", _l("保存草稿")), ("submit", _l("提交"))], default="draft")


class ReviewForm(FlaskForm):
    action = SelectField(choices=[("accept", _l("通过")), ("return", _l("退回"))])
    comment = TextAreaField(_l("意见（退回时必填）"), validators=[Optional(), Length(max=500)])


class TaskForm(FlaskForm):
    stage_id = SelectField(_l("所属阶段"), coerce=int)
    kind = SelectField(_l("类型"), choices=list(KIND_LABELS.items()))
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=120)])
    description = TextAreaField(_l("要求"), validators=[Optional(), Length(max=2000)])
    target_unit_id = SelectField(_l("面向单位（含下级单位）"), coerce=int, default=0)
    item_id = SelectField(_l("关联学习内容"), coerce=int, default=0)
    min_chars = IntegerField(_l("心得最少字数"), default=0, validators=[Optional(), NumberRange(0, 5000)])
    due_at = StrictDateTimeLocalField(_l("截止时间（北京时间）"), validators=[InputRequired(_l("请填写截止时间。"))])


class StageForm(FlaskForm):
    code = SelectField(_l("阶段"), choices=list(STAGE_LABELS.items()))
    starts_on = StrictDateField(_l("开始日期"), validators=[InputRequired(_l("请填写开始日期。"))])
    ends_on = StrictDateField(_l("结束日期"), validators=[InputRequired(_l("请填写结束日期。"))])
    description = TextAreaField(_l("本阶段要求"), validators=[Optional(), Length(max=2000)])


class TaskEditForm(FlaskForm):
    """What may change once a task is out: wording, due date, target, minimum length."""
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=120)])
    description = TextAreaField(_l("要求"), validators=[Optional(), Length(max=2000)])
    target_unit_id = SelectField(_l("面向单位（含下级单位）"), coerce=int, default=0)
    min_chars = IntegerField(_l("心得最少字数"), default=0, validators=[Optional(), NumberRange(0, 5000)])
    due_at = StrictDateTimeLocalField(_l("截止时间（北京时间）"), validators=[InputRequired(_l("请填写截止时间。"))])
