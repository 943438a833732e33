"""Forms: the officer's completion form, the review form, task and stage creation, and the date
fields they read through app/timeutils.py's strict parsers (A36)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..timeutils import parse_date_arg, parse_datetime_local_arg

KIND_LABELS = {"read": _l("学习/观看"), "reflection": _l("撰写心得"), "event": _l("参加活动"), "proof": _l("提交佐证")}
STATUS_LABELS = {"todo": _l("未完成"), "draft": _l("草稿"), "submitted": _l("待审核"), "accepted": _l("已通过"),
                 "returned": _l("已退回")}
STAGE_LABELS = {"study": _l("学习教育"), "rectify": _l("查纠整改"), "summary": _l("总结提升")}


class StrictDateField(DateField):
    """A date read by parse_date_arg, not strptime (A36): ``YYYY-MM-DD`` in ASCII digits of
    2000–2099, else a field error (full-width digits were taken as ASCII, year 0001 was stored)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_date_arg(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_("请填写 2000–2099 年之间的有效日期，格式为 年-月-日，例如 2026-03-09。")) from None


class StrictDateTimeLocalField(DateTimeLocalField):
    """A local (Beijing) time read by parse_datetime_local_arg, not strptime (A36): what
    ``<input type="datetime-local">`` sends, of 2000–2099, else a field error (year 0001
    overflowed to_utc into a 500; "2026-03-1９T10:00" was taken as the 19th)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_datetime_local_arg(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_("请填写 2000–2099 年之间的有效时间，例如 2026-03-20 18:00。")) from None


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
    due_at = StrictDateTimeLocalField(_l("截止时间（北京时间）"), format="%Y-%m-%dT%H:%M",
                                validators=[InputRequired(_l("请填写截止时间。"))])


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
    due_at = StrictDateTimeLocalField(_l("截止时间（北京时间）"), format="%Y-%m-%dT%H:%M",
                                validators=[InputRequired(_l("请填写截止时间。"))])
