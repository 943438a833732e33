"""/api/v1: JSON for the pages' scripts and for mobile clients. Routes call the same services
and queries as the pages; errors are ``{"error": {"code", "message"}}``."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp; routes imports nothing back from here but bp)
