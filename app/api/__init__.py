"""/api/v1: JSON for the pages' scripts and for mobile clients. Routes call the same services
and queries as the pages; errors are ``{"error": {"code", "message"}}``."""
from flask import Blueprint
from ..ids import MAX_URL_INT, BoundedIntConverter

bp = Blueprint("api", __name__)

MAX_ID = MAX_URL_INT  # INTEGER primary keys (PostgreSQL int4)


class IdConverter(BoundedIntConverter):
    """``<id:name>``: a database id, 1..MAX_ID. Anything else matches no route (404 JSON) instead of
    reaching the database as an out-of-range integer (a 500 on SQLite and PostgreSQL; A22)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's signature)
        super().__init__(map, min=1, max=MAX_ID)


bp.record(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))

# Each module registers its views on bp (they import only bp from here).
from . import exams, forms, reports, routes, study  # noqa: E402,F401
