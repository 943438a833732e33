"""Forms of the question bank's admin pages. The question's own rules are checked by
``bank_format.check_entry`` (one rule set for files, Excel and this form), not duplicated here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..models import Question, QuestionVersion
from ..models.modules import REGISTRY
from .bank_format import LIMITS, OPTION_COUNTS, OPTION_KEYS

DIFFICULTY_CHOICES = [(1, _l("1 易")), (2, _l("2 中")), (3, _l("3 难"))]


class QuestionForm(FlaskForm):
    #: The version the editor started from: saving over a newer one is refused (two editors).
    base_version = IntegerField(validators=[Optional()])
    module = SelectField(_l("学习模块"), choices=[(m.code, m.label) for m in REGISTRY])
    difficulty = SelectField(_l("难度"), coerce=int, choices=DIFFICULTY_CHOICES)
    stem = TextAreaField(_l("题干"), validators=[DataRequired(_l("请填写题干。")), Length(max=LIMITS["stem"])])
    # One field per option key (bank_format.OPTION_KEYS, A–H); the page shows as many as the
    # question's type may have (option_fields).
    A = StringField("A", validators=[Length(max=LIMITS["option"])])
    B = StringField("B", validators=[Length(max=LIMITS["option"])])
    C = StringField("C", validators=[Length(max=LIMITS["option"])])
    D = StringField("D", validators=[Length(max=LIMITS["option"])])
    E = StringField("E", validators=[Length(max=LIMITS["option"])])
    F = StringField("F", validators=[Length(max=LIMITS["option"])])
    G = StringField("G", validators=[Length(max=LIMITS["option"])])
    H = StringField("H", validators=[Length(max=LIMITS["option"])])
    answer = StringField(_l("答案"), validators=[DataRequired(_l("请填写答案。")), Length(max=500)])
    explanation = TextAreaField(_l("解析"), validators=[DataRequired(_l("请填写解析。")),
                                                        Length(max=LIMITS["explanation"])])
    tags = StringField(_l("标签（用逗号分隔，可不填）"), validators=[Optional(), Length(max=400)])
    source = StringField(_l("来源（可不填）"), validators=[Optional(), Length(max=LIMITS["source"])])

    @staticmethod
    def option_counts(qtype: str) -> tuple[int, int]:
        """(fewest, most) options a question of ``qtype`` may have, for the page's hint."""
        return OPTION_COUNTS.get(qtype, (0, 0))

    def option_fields(self, qtype: str) -> list:
        """The option fields the edit page offers for ``qtype``: as many as it may have (A–F for
        single choice, A–H for multiple choice); none for fill and true/false (fixed options)."""
        most = self.option_counts(qtype)[1] if qtype in ("single", "multiple") else 0
        return [self[key] for key in OPTION_KEYS[:most]]

    def load(self, question: Question, version: QuestionVersion) -> None:
        options = dict(version.options or ())
        self.base_version.data = version.id
        self.module.data, self.difficulty.data = question.module, question.difficulty
        self.stem.data, self.explanation.data = version.stem, version.explanation
        for key in OPTION_KEYS:
            getattr(self, key).data = options.get(key, "")
        joiner = "|" if question.qtype == "fill" else ","
        self.answer.data = joiner.join(version.answer)
        self.tags.data, self.source.data = ",".join(question.tags or ()), question.source

    def cells(self, question: Question) -> dict[str, str]:
        """The form as Excel-style cells for ``bank_format.raw_from_cells``; id and type never change here."""
        cells = {"id": question.bank_id, "type": question.qtype, "module": self.module.data,
                 "difficulty": str(self.difficulty.data or "")}
        for name in ("stem", "answer", "explanation", "tags", "source", *OPTION_KEYS):
            cells[name] = (getattr(self, name).data or "").strip()
        return cells


class RetireForm(FlaskForm):
    retired = HiddenField(default="1")


class UploadForm(FlaskForm):
    file = FileField(_l("题库文件（.yaml 或 .xlsx）"), validators=[
        FileRequired(_l("请选择文件。")),
        FileAllowed(["yaml", "yml", "xlsx"], _l("只能上传 .yaml、.yml 或 .xlsx 文件。"))])
    skip_invalid = BooleanField(_l("跳过有错误的题目，只导入正确的"))
    dry_run = BooleanField(_l("只检查，不导入"))
