"""Officer study pages, and the review list of study flags for supervisors."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access
from ..db import db
from ..models import MODULES
from ..timeutils import local_day, parse_month_arg, parse_week_arg, parse_week_key, week_key
from ..web import week_label
from . import flags, media, queries
from .forms import ReviewForm
from .labels import labels

bp = Blueprint("study", __name__)
FLAG_STATUSES = ("open", "dismissed", "voided", "all")
#: Who may open the review list of study flags (the link on 我的 is shown to them only).
FLAG_ROLES = ("supervisor", "leader", "admin")


@bp.context_processor
def _labels() -> dict:
    return labels()


@bp.app_context_processor
def _flag_link() -> dict:
    """``open_study_flags()`` for any page (我的 shows the review link with it); a callable, so
    the count is queried only where a template asks for it."""
    def open_study_flags() -> int:
        if not current_user.is_authenticated or current_user.role not in FLAG_ROLES:
            return 0
        return queries.open_flag_count(db.session, current_user)
    return {"open_study_flags": open_study_flags, "study_flag_roles": FLAG_ROLES}


@bp.route("/")
@access("officer")
def index():
    now = clock.now()
    rows = queries.item_rows(db.session, current_user, now)
    return render_template("study/index.html", modules=queries.module_rows(db.session, current_user, now),
                           summary=queries.progress_summary(db.session, current_user, local_day(now), now),
                           cont=queries.continue_row(rows))


@bp.route("/m/<code>")
@access("officer")
def module(code: str):
    if code not in MODULES:
        abort(404)
    rows = queries.item_rows(db.session, current_user, clock.now(), module=code)
    return render_template("study/module.html", code=code, rows=rows)


@bp.route("/items/<int:item_id>")
@access("officer")
def item(item_id: int):
    now = clock.now()
    row = queries.item_row(db.session, current_user, item_id, now) or abort(404)
    siblings = queries.item_rows(db.session, current_user, now, module=row.item.module)
    return render_template("study/item.html", row=row, policy=queries.current_policy(db.session, now),
                           summary=queries.progress_summary(db.session, current_user, local_day(now), now),
                           next_row=queries.next_unfinished(siblings, item_id))


@bp.route("/items/<int:item_id>/media")
@access("officer")
def item_media(item_id: int):
    found = queries.visible_item(db.session, current_user, item_id, clock.now())
    if found is None or not found.media_file:
        abort(404)
    return media.send_media(found.media_file, found.media_type)


@bp.route("/history")
@access("officer")
def history():
    now = clock.now()
    today = local_day(now)
    try:  # A36: exactly YYYY-Www and YYYY-MM, of 2000–2099 (month=9999-12 overflowed into a 500)
        key = parse_week_arg(request.args.get("week") or week_key(today))
        month = parse_month_arg(request.args.get("month") or f"{today:%Y-%m}")
    except ValueError:
        abort(400)
    monday = parse_week_key(key)
    following_week, following_month = monday + timedelta(days=7), (month + timedelta(days=32)).replace(day=1)
    return render_template(
        "study/history.html", week=queries.week_view(db.session, current_user, key, today), today=today,
        summary=queries.progress_summary(db.session, current_user, today, now), month=month,
        calendar=queries.month_calendar(db.session, current_user, month.year, month.month, today),
        prev_week=week_key(monday - timedelta(days=7)),
        next_week=week_key(following_week) if following_week <= today else None,
        prev_month=(month - timedelta(days=1)).strftime("%Y-%m"),
        next_month=following_month.strftime("%Y-%m") if following_month <= today else None)


@bp.route("/flags")
@access("supervisor", "leader", "admin", mfa=True)
def flag_list():
    status = request.args.get("status", "open")
    status = status if status in FLAG_STATUSES else "open"
    rows = queries.flags_for(db.session, current_user, None if status == "all" else status)
    return render_template("study/flags.html", rows=rows, status=status, form=ReviewForm(),
                           can_review=current_user.role in ("supervisor", "admin"))


@bp.route("/flags/<int:flag_id>", methods=["POST"])
@access("supervisor", "admin", mfa=True)
def flag_review(flag_id: int):
    flag = queries.flag_in_scope(db.session, current_user, flag_id) or abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        seconds = flags.review_flag(db.session, flag, current_user, form.action.data, clock.now())
    except flags.ReviewError:
        flash(_("这条提示已经处理过了。"), "warn")
        return redirect(url_for("study.flag_list"))
    db.session.commit()
    if form.action.data == "void":
        # The flag's own week (often last week), as people read it: 第11周（03-09～03-15）.
        flash(_("已作废该干警%(w)s的 %(m)d 分钟学时，并记入操作日志。", w=week_label(flag.week), m=seconds // 60),
              "success")
    else:
        flash(_("已标记为学时有效。"), "success")
    return redirect(url_for("study.flag_list"))
