"""/api/v1: JSON for the pages' scripts and for mobile clients. Routes call the same services
and queries as the pages; errors are ``{"error": {"code", "message"}}``."""
from flask import Blueprint

bp = Blueprint("api", __name__)

# Each module registers its views on bp (they import only bp from here).
from . import exams, reports, routes, study  # noqa: E402,F401
