"""Form fields and validators every feature's forms share: input from outside read strictly (A36).

Dates and local times go through app/timeutils.py's parsers, never WTForms' strptime (which
takes full-width digits, "2026-03-1９T10:00" being the 19th, and year 0001, which overflowed
to_utc into a 500). Patterns are matched whole in ASCII, never with ``re.match`` and ``\\d``/``$``
(which let "1３８…" and a trailing newline through). Features import this module; it imports
only timeutils, so it sits below every feature (ARCHITECTURE rule 14).
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from wtforms import DateField, DateTimeLocalField
from wtforms.validators import ValidationError

from .timeutils import parse_date_arg, parse_datetime_local_arg

#: How ``<input type="datetime-local">`` shows a minute (rendering only; reading is the parser's).
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


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
    overflowed to_utc into a 500; "2026-03-1９T10:00" was taken as the 19th). With
    ``Optional()`` a blank value is None and no error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", LOCAL_MINUTE)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_datetime_local_arg(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(_("请填写 2000–2099 年之间的有效时间，例如 2026-03-20 18:00。")) from None


class FullMatch:
    """Like WTForms' ``Regexp``, but the whole value must match and ``\\d``/``\\w`` mean ASCII
    only (``re.fullmatch`` with ``re.ASCII``): ``^1\\d{10}$`` with ``re.match`` took
    "1３８００１３８０００" and "13800138000\\n" and stored them (A36)."""

    def __init__(self, pattern: str, message):
        self.regex = re.compile(pattern, re.ASCII)
        self.message = message

    def __call__(self, form, field) -> None:
        if not isinstance(field.data, str) or not self.regex.fullmatch(field.data):
            raise ValidationError(self.message)
