"""Forms of the ledger and 督办令; days are read by app/forms.py's strict field (A36). Choices
of units and people are filled by the routes from the caller's scope."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import StrictDateField
from .labels import CATEGORY_LABELS, SOURCE_LABELS


class ItemForm(FlaskForm):
    unit_id = SelectField(_l("单位"), coerce=int, validators=[InputRequired()])
    source = SelectField(_l("问题来源"), choices=list(SOURCE_LABELS.items()), validators=[InputRequired()])
    category = SelectField(_l("问题类别"), choices=list(CATEGORY_LABELS.items()), validators=[InputRequired()])
    description = TextAreaField(_l("问题描述"), validators=[DataRequired(), Length(max=4000)])
    measures = TextAreaField(_l("整改措施"), validators=[DataRequired(), Length(max=4000)])
    responsible_id = SelectField(_l("责任人"), coerce=int, validators=[InputRequired()])
    deadline = StrictDateField(_l("整改期限"), validators=[InputRequired()])


class EvidenceForm(FlaskForm):
    """The unit's account; files come from ``request.files`` (checked in evidence.py)."""
    text = TextAreaField(_l("整改情况说明"), validators=[Optional(), Length(max=8000)])
    action = SelectField(choices=[("save", _l("保存")), ("submit", _l("申请销号"))], default="save")


class ReviewForm(FlaskForm):
    action = SelectField(choices=[("accept", _l("同意销号")), ("return", _l("退回"))])
    reason = TextAreaField(_l("退回理由（退回时必填）"), validators=[Optional(), Length(max=500)])


class OrderForm(FlaskForm):
    title = StringField(_l("督办事项"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("督办要求"), validators=[DataRequired(), Length(max=8000)])
    deadline = StrictDateField(_l("回复期限"), validators=[InputRequired()])
    unit_ids = SelectMultipleField(_l("督办单位"), coerce=int, validators=[DataRequired()])


class RespondForm(FlaskForm):
    text = TextAreaField(_l("回复内容"), validators=[DataRequired(), Length(max=8000)])
