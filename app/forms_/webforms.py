"""WTForms of the office's form builder and the reviewer's reopen; labels shared by the pages.
(The person's answers are read by ``definition.parse_post``: their fields come from the version.)"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import StrictDateTimeLocalField

FIELD_LABELS = {"section": _l("分节标题"), "text": _l("单行文字"), "textarea": _l("多行文字"), "single": _l("单选"),
                "multi": _l("多选"), "yesno": _l("是/否（选“是”须说明）"), "date": _l("日期"), "number": _l("数字"),
                "group": _l("可重复的表格（如亲属从业情况）"), "file": _l("照片或PDF附件")}
LEVEL_LABELS = {"confidential": _l("保密：仅本人和纪检督察可阅"), "open": _l("一般：本人和所在单位管理员可阅"),
                "survey": _l("匿名测评：只看按单位汇总的结果")}
#: What each level means, under the builder's select (the survey's minimum is app/forms_/survey.py's).
LEVEL_HELP = {"confidential": _l("保密（如个人有关事项报告）：只有填报人本人和其所在单位的纪检督察可以查看答卷，每次查看都会记录并告诉本人。"),
              "open": _l("一般：填报人本人，以及所在单位的单位管理员、纪检督察和教育整顿办可以查看答卷。"),
              "survey": _l("匿名测评（如满意度测评）：除填报人本人外，任何人都不能查看或导出个人答卷；结果只按单位汇总显示，"
                           "一个单位不足 %(n)d 份答卷时不显示该单位的结果。")}
ROLE_LABELS = {"officer": _l("干警"), "supervisor": _l("单位管理员"), "inspector": _l("纪检督察")}
STATUS_LABELS = {"todo": _l("未填报"), "draft": _l("填写中"), "submitted": _l("已提交"), "closed": _l("已结束"),
                 "returned": _l("已退回修改")}


class SettingsForm(FlaskForm):
    title = StringField(_l("表单名称"), validators=[DataRequired(_l("请填写表单名称。")), Length(max=120)])
    description = TextAreaField(_l("填报说明"), validators=[Optional(), Length(max=2000)])
    confidentiality = SelectField(_l("保密级别"), choices=list(LEVEL_LABELS.items()), default="confidential")
    stage_id = SelectField(_l("所属阶段"), coerce=int, default=0)
    target_unit_id = SelectField(_l("面向单位（含下级单位）"), coerce=int, default=0)
    target_roles = SelectMultipleField(_l("填报人员"), choices=list(ROLE_LABELS.items()), default=["officer"])
    due_at = StrictDateTimeLocalField(_l("截止时间（北京时间）"), validators=[InputRequired(_l("请填写截止时间。"))])


class FieldForm(FlaskForm):
    kind = SelectField(_l("类型"), choices=list(FIELD_LABELS.items()), default="text")
    label = StringField(_l("题目"), validators=[DataRequired(_l("请填写题目。")), Length(max=200)])
    help_text = StringField(_l("填写提示"), validators=[Optional(), Length(max=500)])
    required = BooleanField(_l("必填"))
    options = TextAreaField(_l("选项（单选、多选：每行一个）"), validators=[Optional(), Length(max=3000)])
    columns = TextAreaField(_l("表格的列（每行一个，如 姓名、关系、职业、单位）"), validators=[Optional(), Length(max=1000)])
    details_label = StringField(_l("选“是”时的说明提示（是/否题，选填）"), validators=[Optional(), Length(max=200)])


class FieldEditForm(FieldForm):
    """The same fields as adding, prefilled; ``key`` is the field the page showed (a stale page
    is refused rather than changing whichever field now sits at that position)."""
    key = HiddenField()


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("退回修改的原因"), validators=[DataRequired(_l("请填写原因。")), Length(max=500)])
