from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import FullMatch

#: The one rule for a badge number and a phone number: the account forms and the Excel import
#: (app/admin/imports.py) both check these, whole value, ASCII digits only (FullMatch).
BADGE_RULE = FullMatch(r"[A-Za-z0-9]{4,20}", message=_l("警号应为 4–20 位字母或数字。"))
PHONE_RULE = FullMatch(r"1[0-9]{10}", message=_l("手机号应为 11 位数字。"))

ROLE_CHOICES = [("officer", _l("干警")), ("supervisor", _l("单位管理员")), ("leader", _l("领导")), ("admin", _l("教育整顿办")), ("inspector", _l("纪检督察"))]


class UserForm(FlaskForm):
    badge_no = StringField(_l("警号"), validators=[DataRequired(_l("请填写警号。")), BADGE_RULE])
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=32)])
    unit_id = SelectField(_l("单位"), coerce=int, validators=[DataRequired(_l("请选择单位。"))])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES)
    phone = StringField(_l("手机号"), validators=[Optional(), PHONE_RULE])
    is_active = BooleanField(_l("账号启用"), default=True)


class UnitForm(FlaskForm):
    code = StringField(_l("单位编码"), validators=[DataRequired(_l("请填写单位编码。")),
                                                   FullMatch(r"[A-Za-z0-9-]{2,32}", message=_l("编码为 2–32 位字母、数字或连字符。"))])
    name = StringField(_l("单位名称"), validators=[DataRequired(_l("请填写单位名称。")), Length(max=64)])
    parent_id = SelectField(_l("上级单位"), coerce=int)
    sort_order = IntegerField(_l("排序"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])
    is_active = BooleanField(_l("启用"), default=True)


class ImportForm(FlaskForm):
    file = FileField(_l("Excel 文件"), validators=[FileRequired(_l("请选择文件。")),
                                                  FileAllowed(["xlsx"], _l("只能上传 .xlsx 文件。"))])
    skip_invalid = BooleanField(_l("跳过有错误的行，只导入正确的行"))
