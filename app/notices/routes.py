"""The notification centre and announcements with read receipts.

Everyone: their own notices, newest first. Opening one is a POST (a GET never changes state):
it records the reading time, which is the read receipt, then shows the notice or follows its
link. Campaign office and supervisors: compose an announcement to a unit's subtree (the office
anywhere, a supervisor only below their own unit), and see, per announcement, how many people in
their scope received and read it and who has not.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit, clock
from ..auth.access import access, signed_in
from ..auth.scope import scope_root
from ..db import db
from ..models import Announcement
from . import queries, services
from .forms import AUDIENCE_LABELS, FORMAT_LABELS, AnnouncementForm

bp = Blueprint("notices", __name__)
senders = access("supervisor", "admin", mfa=True)
PER_PAGE = 20
PEOPLE_PER_PAGE = 50
VIEWS = ("mine", "others")

unread_count = queries.unread_count


def _page() -> int:
    return max(1, min(request.args.get("page", 1, type=int), 10000))


def _safe_link(link: str | None) -> str | None:
    return link if link and link.startswith("/") and not link.startswith(("//", "/\\")) else None


@bp.context_processor
def _labels() -> dict:
    return {"audience_labels": AUDIENCE_LABELS, "format_labels": FORMAT_LABELS}


@bp.route("/")
@signed_in
def index():
    return render_template("notices/index.html", rows=queries.own_notices(db.session, current_user))


@bp.route("/<int:notice_id>")
@signed_in
def show(notice_id: int):
    notice = queries.own_notice(db.session, current_user, notice_id) or abort(404)
    ann = db.session.get(Announcement, notice.announcement_id) if notice.announcement_id else None
    return render_template("notices/show.html", notice=notice, ann=ann, link=_safe_link(notice.link))


@bp.route("/<int:notice_id>/open", methods=["POST"], endpoint="open")
@signed_in
def open_notice(notice_id: int):
    """Mark one notice read (the read receipt) and go to it."""
    notice = services.open_notice(db.session, current_user, notice_id, clock.now()) or abort(404)
    db.session.commit()
    return redirect(_safe_link(notice.link) or url_for("notices.show", notice_id=notice.id), code=303)


@bp.route("/read", methods=["POST"])
@signed_in
def mark_read():
    """Mark the caller's reminders read; announcements count as read only once opened."""
    services.mark_all_read(db.session, current_user, clock.now())
    db.session.commit()
    return redirect(url_for("notices.index"))


# --- announcements ----------------------------------------------------------------------------

def _compose_form() -> AnnouncementForm:
    form = AnnouncementForm()
    choices = queries.target_choices(db.session, current_user)
    root = scope_root(db.session, current_user)
    if current_user.role == "admin" and root is not None:
        choices = [(uid, _("全市（所有单位）") if uid == root.id else label) for uid, label in choices]
    form.target_unit_id.choices = choices
    return form


def _send_message(code: str) -> str:
    return {"scope": _("只能向本单位及下级单位发送通知。"), "empty": _("标题和正文不能为空（图文格式中不安全的内容已被去除）。"),
            "no_recipients": _("所选范围内没有可接收的人员，通知没有发送。"),
            "bad_format": _("无效的正文格式。"), "bad_audience": _("无效的接收人范围。")}.get(code, code)


@bp.route("/announcements/new", methods=["GET", "POST"])
@senders
def compose():
    form = _compose_form()
    if form.validate_on_submit():
        try:
            ann = services.send(db.session, current_user, title=form.title.data, body=form.body.data,
                                body_format=form.body_format.data, target_unit_id=form.target_unit_id.data,
                                audience=form.audience.data, now=clock.now())
        except services.AnnouncementError as err:
            db.session.rollback()
            if str(err) == "scope":  # a unit outside the sender's subtree: refused and audited (A31)
                audit.record(db.session, "access.denied", target_type="unit", target_id=form.target_unit_id.data,
                             detail="POST scope")
                db.session.commit()
                abort(403)
            flash(_send_message(str(err)), "error")
        else:
            db.session.commit()
            flash(_("通知已发送给 %(n)d 人。", n=ann.recipient_count), "success")
            return redirect(url_for("notices.receipts", announcement_id=ann.id))
    status = 422 if request.method == "POST" else 200
    return render_template("notices/compose.html", form=form), status


@bp.route("/announcements")
@senders
def sent():
    view = request.args.get("view", "mine")
    view = view if view in VIEWS else "mine"
    page = _page()
    rows, total = queries.announcements_page(db.session, current_user, view, page, PER_PAGE)
    stats = queries.receipts(db.session, current_user, [ann.id for ann, _unit, _sender in rows])
    return render_template("notices/sent.html", rows=rows, stats=stats, view=view, page=page,
                           pages=max(1, -(-total // PER_PAGE)), total=total)


@bp.route("/announcements/<int:announcement_id>")
@senders
def receipts(announcement_id: int):
    found = queries.viewable_announcement(db.session, current_user, announcement_id) or abort(404)
    ann = found[0]
    page = _page()
    people, unread_total = queries.unread_people(db.session, current_user, ann.id, page, PEOPLE_PER_PAGE)
    return render_template("notices/receipts.html", ann=ann, target=found[1], sender=found[2],
                           receipt=queries.receipts(db.session, current_user, [ann.id]).get(ann.id, queries.Receipt()),
                           people=people, page=page, pages=max(1, -(-unread_total // PEOPLE_PER_PAGE)),
                           units_behind=queries.units_behind(db.session, current_user, ann.id))


def init_app(app) -> None:
    @app.context_processor
    def _unread():
        """Unread count for the badges: one small indexed query per page, for every role
        (announcements may be addressed to supervisors and leaders too)."""
        if current_user.is_authenticated and not current_user.must_change_password:
            return {"unread_notices": queries.unread_count(db.session, current_user.id)}
        return {"unread_notices": 0}
