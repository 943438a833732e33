"""Officer study pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import access

bp = Blueprint("study", __name__)


@bp.route("/")
@access("officer")
def index():
    return render_template("study/index.html")
