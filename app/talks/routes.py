"""谈心谈话 pages: coverage by unit and the lists (/talks/), recording a talk, one talk. Every
unit id from the client goes through app/auth/scope.py; every talk page through
app/forms_/access.py (404 for anyone who may not see it)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access
from ..auth.scope import UnitRefused, requested_unit, scope_root
from ..db import db
from ..forms_ import access as rule
from ..ledger.queries import unit_choices
from ..models import Unit, User
from ..timeutils import local_day
from . import queries, services
from .forms import TalkForm
from .labels import KIND_LABELS, RECORDER_LABELS, TOPIC_LABELS

bp = Blueprint("talks", __name__)
#: The office's admins pass their second factor here too (A20).
everyone = access("officer", "supervisor", "leader", "inspector", "admin", mfa=True)
recorders = access("supervisor", "inspector")
COVERAGE_ROLES = frozenset({"supervisor", "leader", "inspector", "admin"})


@bp.context_processor
def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "topic_labels": TOPIC_LABELS, "recorder_labels": RECORDER_LABELS}


@bp.app_context_processor
def _globals() -> dict:
    """``talks_card(unit)`` for the reports dashboard (computed only when the card renders)."""
    return {"talks_card": _card}


def _card(unit):
    if current_user.role not in COVERAGE_ROLES:
        return None
    return queries.coverage(db.session, unit, local_day(clock.now()))


def _asked_unit(root, raw):
    try:
        return requested_unit(db.session, current_user, raw, root)
    except UnitRefused as refused:
        abort(refused.status)


def talk_message(err: services.TalkError) -> str:
    return {"not_in_scope": _("谈话对象必须是您管辖范围内在岗的干警，没有保存。"),
            "bad_choice": _("请从列表中选择谈话类型和谈话内容。"),
            "future": _("谈话日期不能晚于今天。"),
            "note_long": _("谈话记录不能超过 %(n)d 字。", n=services.NOTE_MAX)}.get(err.code, err.code)


@bp.route("/")
@everyone
def index():
    """Officers: 我的谈心谈话, the talks recorded with them (day, kind, the recorder's role and
    unit; never the note). Staff: 谈心谈话覆盖率 by unit; the talks they recorded; an inspector
    also the talks of their subtree."""
    if current_user.role == "officer":
        return render_template("talks/mine.html", talks=queries.with_officer(db.session, current_user))
    unit = _asked_unit(scope_root(db.session, current_user), request.args.get("unit"))
    cov = queries.coverage(db.session, unit, local_day(clock.now()))
    subtree = queries.readable_in_subtree(db.session, current_user) if current_user.role == "inspector" else []
    return render_template("talks/index.html", unit=unit, cov=cov, recorded=queries.recorded_by(db.session, current_user),
                           subtree=subtree, may_record=current_user.role in services.RECORDERS)


@bp.route("/new", methods=["GET", "POST"])
@recorders
def new():
    """Pick a unit of the subtree, then record a talk with one of its officers."""
    root = scope_root(db.session, current_user)
    unit = _asked_unit(root, request.values.get("unit"))
    form = TalkForm()
    today = local_day(clock.now())
    # The whole subtree at once, grouped by unit (no second round trip to pick a station), those
    # already talked with this stage marked so the recorder sees who is left.
    choices: dict[str, list] = {}
    for officer, unit_name, talked in queries.officers_of(db.session, unit, today):
        label = f"{officer.name}（{officer.badge_no or officer.username}）"
        choices.setdefault(unit_name, []).append((officer.id, _("%(who)s · 本阶段已谈", who=label) if talked else label))
    form.officer_id.choices = choices
    if request.method == "GET":
        form.talked_on.data = today
    if form.validate_on_submit():
        officer = db.session.get(User, form.officer_id.data)
        try:
            talk = services.record_talk(db.session, current_user, officer, form.talked_on.data, form.kind.data,
                                        form.topics.data, form.note.data or "", today)
        except services.TalkError as err:
            db.session.rollback()
            flash(talk_message(err), "error")
        else:
            db.session.commit()
            flash(_("谈话已记录。"), "success")
            return redirect(url_for("talks.show", talk_id=talk.id))
    status = 422 if request.method == "POST" else 200
    return render_template("talks/new.html", form=form, unit=unit,
                           units=unit_choices(db.session, current_user)), status


@bp.route("/<int:talk_id>")
@everyone
def show(talk_id: int):
    """One talk: the note for its author and the subtree's inspector (audited), the day and kind
    for the officer talked with — with who has read the note (查阅记录) — 404 for everyone else."""
    opened = rule.open_talk(db.session, current_user, talk_id)
    mine = opened.talk.officer_id == current_user.id
    recorder_unit = db.session.get(Unit, opened.recorder.unit_id) if opened.recorder else None
    return render_template("talks/show.html", t=opened, mine=mine, recorder_unit=recorder_unit,
                           reads=rule.reads_of(db.session, "talk", opened.talk.id) if mine else [])
