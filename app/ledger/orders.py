"""督办令 pages: the office issues an order to units and follows each unit's answer; a unit's
supervisor answers (text and an optional photo or PDF). Staff see the targets inside their
scope; an order with none of them visible answers 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import clock
from ..auth.access import access
from ..db import db
from ..models import SupervisionOrder
from ..timeutils import local_day
from . import evidence, policy, queries, services
from .forms import OrderForm, RespondForm
from .labels import TARGET_LABELS
from .routes import FORM_SLACK, file_max, file_messages, ledger_message, refuse, size_message

bp = Blueprint("orders", __name__)
#: Reading orders: every reader of the ledger (policy.READERS, the 纪检督察 included); issuing
#: and answering admit only the office and the target unit's supervisor.
readers = access(*sorted(policy.READERS), mfa=True)


@bp.context_processor
def _labels() -> dict:
    return {"target_labels": TARGET_LABELS}


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    if endpoint == "orders.respond" and request.method == "POST" and current_user.is_authenticated:
        request.max_content_length = file_max() + FORM_SLACK


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    return render_template("errors/upload_refused.html", message=size_message(), back_url=url_for("orders.index"),
                           back_label=_("返回督办令")), 413


@bp.route("/")
@readers
def index():
    today = local_day(clock.now())
    return render_template("ledger/orders.html", rows=queries.order_rows(db.session, current_user, today),
                           today=today)


@bp.route("/new", methods=["GET", "POST"])
@access("admin", mfa=True)
def new():
    form = OrderForm()
    form.unit_ids.choices = queries.unit_choices(db.session, current_user)
    if form.validate_on_submit():
        try:
            order = services.create_order(db.session, current_user, title=form.title.data, body=form.body.data,
                                          deadline=form.deadline.data, unit_ids=form.unit_ids.data, now=clock.now())
        except services.LedgerError as err:
            db.session.rollback()
            flash(ledger_message(err), "error")
        else:
            db.session.commit()
            flash(_("督办令已发出，各单位管理员会收到通知。"), "success")
            return redirect(url_for("orders.show", order_id=order.id))
    return render_template("ledger/order_new.html", form=form), 422 if request.method == "POST" else 200


def _render_order(order, targets, form, status: int = 200):
    today = local_day(clock.now())
    mine = next((t for t, _name in targets if policy.may_answer(current_user, t.unit_id)), None)
    rows = [(t, name, queries.target_state(t, order, today)) for t, name in targets]
    return render_template("ledger/order.html", order=order, rows=rows, mine=mine, form=form, today=today), status


@bp.route("/<int:order_id>")
@readers
def show(order_id: int):
    """The order with each visible unit's state (404 when none is visible)."""
    order = db.session.get(SupervisionOrder, order_id) or abort(404)
    targets = queries.visible_targets(db.session, current_user, order_id) or abort(404)
    return _render_order(order, targets, RespondForm())


@bp.route("/<int:order_id>/respond", methods=["POST"])
@access("supervisor")
def respond(order_id: int):
    """The target unit's supervisor answers: text and an optional photo or PDF, once."""
    order = db.session.get(SupervisionOrder, order_id) or abort(404)
    targets = queries.visible_targets(db.session, current_user, order_id) or abort(404)
    mine = next((t for t, _name in targets if policy.may_answer(current_user, t.unit_id)), None)
    if mine is None:
        refuse("supervisionorder", order_id, "not a target unit's supervisor")
    form = RespondForm()
    if not form.validate_on_submit():
        return _render_order(order, targets, form, 422)
    upload = request.files.get("file")
    stored = None
    try:
        if upload and upload.filename:
            stored = evidence.store(upload.stream, file_max(), file_messages())
        services.respond(db.session, current_user, mine, text=form.text.data, attachment=stored, now=clock.now())
    except (services.LedgerError, evidence.EvidenceError) as err:
        db.session.rollback()
        evidence.remove([stored.name] if stored else [])
        flash(ledger_message(err) if isinstance(err, services.LedgerError) else str(err), "error")
        return _render_order(order, queries.visible_targets(db.session, current_user, order_id), form, 422)
    db.session.commit()
    flash(_("已回复督办令。"), "success")
    return redirect(url_for("orders.show", order_id=order_id))


@bp.route("/<int:order_id>/units/<int:unit_id>/file")
@readers
def file(order_id: int, unit_id: int):
    target = next((t for t, _name in queries.visible_targets(db.session, current_user, order_id)
                   if t.unit_id == unit_id), None)
    if target is None or not target.attachment:
        abort(404)
    return evidence.send(target.attachment, target.attachment_kind)
