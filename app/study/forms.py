"""Forms of the content pages (admin) and the flag review (supervisors)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..forms import StrictDateTimeLocalField
from .labels import KIND_LABELS, MODULE_LABELS, STAGE_LABELS


class ContentForm(FlaskForm):
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=120)])
    summary = StringField(_l("摘要"), validators=[Optional(), Length(max=200)])
    module = SelectField(_l("学习模块"), choices=list(MODULE_LABELS.items()))
    kind = SelectField(_l("类型"), choices=list(KIND_LABELS.items()))
    stage = SelectField(_l("所属环节"), choices=list(STAGE_LABELS.items()))
    credited_minutes = IntegerField(_l("计学时（分钟）"), default=5, validators=[
        InputRequired(_l("请填写计学时分钟数。")), NumberRange(1, 600, _l("计学时应为 1–600 分钟。"))])
    required = BooleanField(_l("规定学习（不勾选为自选）"), default=True)
    target_unit_id = SelectField(_l("面向单位（含下级单位）"), coerce=int, default=0)
    #: Read by timeutils' strict parser (A36): publish_at=0001-01-01T00:00 overflowed to_utc into a
    #: 500, and WTForms' strptime took full-width digits. Blank stays blank (now / open-ended).
    publish_at = StrictDateTimeLocalField(_l("发布时间（北京时间，留空为立即）"), validators=[Optional()])
    unpublish_at = StrictDateTimeLocalField(_l("下线时间（留空为长期）"), validators=[Optional()])
    sort_order = IntegerField(_l("排序（小的在前）"), default=0, validators=[Optional(), NumberRange(0, 9999)])
    body = TextAreaField(_l("正文（可用段落、小标题、列表、加粗、引用、链接、本站图片）"),
                         validators=[Optional(), Length(max=200_000)])
    media = FileField(_l("上传视频（WebM/MP4）或文件（PDF）"))
    #: Another host plays only once the CSP's media-src lists it (app/security.py); a path on
    #: this site always plays.
    media_url = StringField(_l("或：内网视频地址"), validators=[
        Optional(), Length(max=255),
        Regexp(r"^(https?://[^\s\"'<>]+|/[^/\\\s\"'<>][^\s\"'<>]*)$",
               message=_l("地址应以 http://、https:// 或本站路径 / 开头。"))])

    def validate_media_url(self, field):
        """A video on another host plays only if that host is in STUDY_MEDIA_HOSTS (the CSP's
        media-src); refuse the address rather than publish a video no phone can play."""
        url = (field.data or "").strip()
        if not url.startswith(("http://", "https://")):
            return
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        allowed = {h.rstrip("/").lower() for h in current_app.config.get("STUDY_MEDIA_HOSTS") or ()}
        if origin not in allowed:
            raise ValidationError(_l("该视频服务器未列入允许的内网视频地址（STUDY_MEDIA_HOSTS），手机上无法播放；"
                                     "请联系系统管理员添加，或上传视频文件。"))

    def validate_unpublish_at(self, field):
        if field.data and self.publish_at.data and field.data <= self.publish_at.data:
            raise ValidationError(_l("下线时间应晚于发布时间。"))


class PolicyForm(FlaskForm):
    heartbeat_seconds = IntegerField(_l("心跳间隔（秒）"), validators=[InputRequired(), NumberRange(2, 600)])
    slack_seconds = IntegerField(_l("容差（秒）"), validators=[InputRequired(), NumberRange(0, 120)])
    min_gap_seconds = IntegerField(_l("最短心跳间隔（秒）"), validators=[InputRequired(), NumberRange(1, 60)])
    idle_seconds = IntegerField(_l("无操作多久停止计时（秒）"), validators=[InputRequired(), NumberRange(5, 3600)])
    item_cap_multiple = FloatField(_l("单篇学时上限（计学时的倍数）"), validators=[InputRequired(), NumberRange(1.0, 5.0)])
    daily_cap_minutes = IntegerField(_l("每日学时上限（分钟）"), validators=[InputRequired(), NumberRange(30, 1440)])
    daily_target_minutes = IntegerField(_l("每日学习目标（分钟）"), validators=[InputRequired(), NumberRange(10, 720)])
    weekly_target_minutes = IntegerField(_l("每周学习目标（分钟）"), validators=[InputRequired(), NumberRange(30, 5040)])

    def validate_min_gap_seconds(self, field):
        if self.heartbeat_seconds.data and field.data and field.data >= self.heartbeat_seconds.data:
            raise ValidationError(_l("最短心跳间隔应小于心跳间隔。"))

    def validate_daily_target_minutes(self, field):
        if self.daily_cap_minutes.data and field.data and field.data > self.daily_cap_minutes.data:
            raise ValidationError(_l("每日目标不能超过每日上限。"))

    def policy_values(self) -> dict:
        return {
            "heartbeat_seconds": self.heartbeat_seconds.data, "slack_seconds": self.slack_seconds.data,
            "min_gap_seconds": self.min_gap_seconds.data, "idle_seconds": self.idle_seconds.data,
            "item_cap_multiple": float(self.item_cap_multiple.data),
            "daily_cap_seconds": self.daily_cap_minutes.data * 60,
            "daily_target_seconds": self.daily_target_minutes.data * 60,
            "weekly_target_seconds": self.weekly_target_minutes.data * 60,
        }


class ReviewForm(FlaskForm):
    action = SelectField(choices=[("dismiss", _l("学时有效")), ("void", _l("作废该周学时"))])
