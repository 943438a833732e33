"""Ids from outside — route segments, query strings, form fields — checked by one rule: ASCII
digits, 1..MAX_URL_INT (A22, A36). A low module, so the web layer, the express lane and the
scope helper all import it without importing each other."""
from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter


#: The largest id a route accepts: INTEGER keys (PostgreSQL int4). A larger number in a URL
#: would reach the database and fail there (a 500 on SQLite and PostgreSQL, A22).
MAX_URL_INT = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in every route: no larger than MAX_URL_INT unless the route says otherwise,
    so an out-of-range number matches no route (404) instead of reaching a query."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_URL_INT if max is None else max,
                         signed=signed)


def parse_id_arg(raw: str | None) -> int:
    """An id given in a query string or form, by the converter's rule: ASCII digits, 1..MAX_URL_INT.
    ValueError otherwise ("²".isdigit() is true, and 10**20 overflows the column: 500s, A22/A36)."""
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,10}", raw, flags=re.ASCII):
        raise ValueError("an id must be a positive integer")
    value = int(raw)
    if not 1 <= value <= MAX_URL_INT:
        raise ValueError("id out of range")
    return value
