"""Home pages per role and the officer's own pages."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from .. import clock
from ..auth.access import access, public, signed_in
from ..db import db
from ..exams.home import home_context as exam_home
from ..study.home import home_context as study_home
from ..tasks.home import home_context as tasks_home

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {"officer": "main.home", "supervisor": "reports.dashboard", "leader": "reports.dashboard",
                "admin": "admin.index"}


@bp.route("/")
@signed_in
def index():
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "auth.login")))


@bp.route("/home")
@access("officer")
def home():
    now = clock.now()
    context = {}
    for feature_home in (study_home, exam_home, tasks_home):
        context.update(feature_home(db.session, current_user, now))
    return render_template("main/home.html", **context)


@bp.route("/me")
@signed_in
def me():
    return render_template("main/me.html")


@bp.route("/desk")
@access("supervisor", "leader", "admin")
def desk():
    """The staff home: the reports dashboard of the caller's own scope."""
    return redirect(url_for("reports.dashboard"))


@bp.route("/healthz")
@public
def healthz():
    return {"status": "ok"}
