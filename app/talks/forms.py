"""The form for recording a talk; the officer's choices come from the caller's scope (routes)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import StrictDateField
from .labels import KIND_LABELS, TOPIC_LABELS
from .services import NOTE_MAX


class TalkForm(FlaskForm):
    officer_id = SelectField(_l("谈话对象"), coerce=int, validators=[InputRequired()])
    talked_on = StrictDateField(_l("谈话日期"), validators=[InputRequired()])
    kind = SelectField(_l("谈话类型"), choices=list(KIND_LABELS.items()), validators=[InputRequired()])
    topics = SelectMultipleField(_l("谈话内容"), choices=list(TOPIC_LABELS.items()),
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validators=[DataRequired(message=_l("请至少选择一项谈话内容。"))])
    note = TextAreaField(_l("谈话记录（保密）"), validators=[Optional(), Length(max=NOTE_MAX)])
