"""Officer exam pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import access

bp = Blueprint("exams", __name__)


@bp.route("/")
@access("officer")
def index():
    return render_template("exams/index.html")
