"""Home pages per role and the officer's own pages."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from .. import clock, metrics as platform_metrics
from ..auth.access import access, own_account, public, signed_in
from ..db import db
from ..exams.home import home_context as exam_home
from ..ledger.home import home_context as ledger_home
from ..study.home import home_context as study_home
from ..forms_.home import home_context as forms_home
from ..notices.queries import password_resets
from ..tasks.home import home_context as tasks_home

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {"officer": "main.home", "supervisor": "reports.dashboard", "leader": "reports.dashboard",
                "admin": "admin.index", "inspector": "forms.desk"}


@bp.route("/")
@signed_in
def index():
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "auth.login")))


@bp.route("/home")
@access("officer")
def home():
    now = clock.now()
    context = {}
    for feature_home in (study_home, exam_home, tasks_home, forms_home, ledger_home):
        context.update(feature_home(db.session, current_user, now))
    return render_template("main/home.html", **context)


#: How far back the account page lists admin password resets.
RESETS_SHOWN = timedelta(days=180)


@bp.route("/me")
@own_account
def me():
    resets = password_resets(db.session, current_user.id, since=clock.now() - RESETS_SHOWN)
    return render_template("main/me.html", password_resets=resets)


@bp.route("/desk")
@access("supervisor", "leader", "admin")
def desk():
    """The staff home: the reports dashboard of the caller's own scope."""
    return redirect(url_for("reports.dashboard"))


@bp.route("/healthz")
@public
def healthz():
    """Liveness for load balancers, and this worker's express-lane counts (no database, no session)."""
    return {"status": "ok", "express": current_app.extensions["express_lane"].counts()}


@bp.route("/metrics")
@public
def metrics():
    """Prometheus text for all workers; 404 unless the client is loopback or in METRICS_NETWORKS."""
    if not platform_metrics.address_allowed(request.remote_addr, current_app.config.get("METRICS_NETWORKS") or ()):
        abort(404)
    body, content_type = platform_metrics.exposition()
    return current_app.response_class(body, content_type=content_type)
