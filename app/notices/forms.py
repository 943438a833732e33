"""The compose form for announcements. Who may address which unit is decided by the service
(the unit-scope helper), never by the choices offered here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

FORMAT_LABELS = {"text": _l("纯文本"), "html": _l("图文（可用段落、加粗、列表、链接）")}
AUDIENCE_LABELS = {"officers": _l("仅干警"), "all": _l("全部人员（含单位管理员、领导）")}
BODY_MAX = 10000


class AnnouncementForm(FlaskForm):
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=120)])
    body = TextAreaField(_l("正文"), validators=[DataRequired(_l("请填写正文。")), Length(max=BODY_MAX)])
    body_format = SelectField(_l("正文格式"), choices=list(FORMAT_LABELS.items()), default="text")
    target_unit_id = SelectField(_l("发送范围（含下级单位）"), coerce=int, validate_choice=False)
    audience = SelectField(_l("接收人"), choices=list(AUDIENCE_LABELS.items()), default="officers")
