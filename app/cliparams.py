"""Command-line values from outside, checked by the same parsers as requests (A36): an ISO week
and a day. One home, so every command refuses a bad value with the same message and exit code 2."""
from __future__ import annotations

import click

from .timeutils import parse_date_arg, parse_week_arg


class IsoWeek(click.ParamType):
    """``--week YYYY-Www``: only the rebuilt key of a real week of 2000–2099 goes on."""

    name = "YYYY-Www"

    def convert(self, value, param, ctx):
        try:
            return parse_week_arg(value)
        except ValueError:
            self.fail("expected an ISO week YYYY-Www of 2000-2099 in ASCII digits, e.g. 2026-W11", param, ctx)


class IsoDay(click.ParamType):
    """``--day YYYY-MM-DD``: click's DateTime is strptime, which took full-width digits and year 0001."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        try:
            return parse_date_arg(value)
        except ValueError:
            self.fail("expected a day YYYY-MM-DD of 2000-2099 in ASCII digits, e.g. 2026-03-09", param, ctx)


WEEK, DAY = IsoWeek(), IsoDay()
