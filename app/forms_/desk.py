"""Staff pages of forms: the 查纠整改 desk (status for everyone, answers for the inspector of the
subtree), the Excel export, and the campaign office's form builder. Same blueprint as routes.py."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth.access import access
from ..db import db
from ..models import Form, FormSubmission, Unit
from ..auth.scope import UnitRefused, requested_unit, scope_root
from ..tasks.queries import stages as campaign_stages, unit_choices_in_scope
from ..timeutils import to_local, to_utc
from . import access as rule, definition as defn, export, queries, services, survey, survey_xlsx
from .routes import bp, form_message
from .webforms import LEVEL_HELP, FieldEditForm, FieldForm, SettingsForm

desk_roles = access("supervisor", "leader", "admin", "inspector")
#: The desk's person filters (``?show=``; anything else is 400).
DESK_FILTERS = {"all": lambda p: True, "pending": lambda p: p.status != "submitted",
                "submitted": lambda p: p.status == "submitted"}
office = access("admin", mfa=True)


@bp.route("/desk")
@desk_roles
def desk():
    now = clock.now()
    rows = []
    for form in queries.desk_forms(db.session, current_user):
        rows.append((form, queries.status_counts(db.session, current_user, form, now)))
    return render_template("forms/desk.html", rows=rows, now=now)


@bp.route("/desk/<int:form_id>")
@desk_roles
def desk_form(form_id: int):
    now = clock.now()
    form = db.session.get(Form, form_id)
    if form is None or form not in queries.desk_forms(db.session, current_user):
        abort(404)
    # Names and status for the unit's own staff; only counts for the city-wide roles.
    show_people = current_user.role in ("supervisor", "inspector")
    show = request.args.get("show", "all")
    if show not in DESK_FILTERS:
        abort(400)
    everyone = queries.status_rows(db.session, current_user, form, now) if show_people else []
    people = [p for p in everyone if DESK_FILTERS[show](p)]
    readable = {p.submission_id for p in people if p.submission_id and p.status == "submitted"
                and rule.may_read(db.session, current_user, db.session.get(FormSubmission, p.submission_id))}
    return render_template("forms/desk_form.html", form=form, people=people, show=show,
                           shown_counts={key: sum(1 for p in everyone if keep(p)) for key, keep in DESK_FILTERS.items()},
                           counts=queries.status_counts(db.session, current_user, form, now), readable=readable, now=now,
                           can_export=rule.may_export(current_user, form),
                           can_see_results=rule.may_see_results(current_user, form))


def _survey_results(form_id: int) -> survey.SurveyResults:
    """The results of a survey the viewer's desk lists, for ``?unit=`` (default: the viewer's
    scope root; 400 malformed, 403 outside the scope, like the reports); 404 for any other form."""
    form = db.session.get(Form, form_id)
    if form is None or not rule.may_see_results(current_user, form) or form not in queries.desk_forms(db.session, current_user):
        abort(404)
    try:
        unit = requested_unit(db.session, current_user, request.args.get("unit"))
    except UnitRefused as refused:
        abort(refused.status)
    return survey.survey_results(db.session, current_user, form, unit, {"yes": _("是"), "no": _("否")}, clock.now())


@bp.route("/desk/<int:form_id>/results")
@desk_roles
def survey_results(form_id: int):
    """匿名测评 results: aggregates per unit, small groups suppressed (app/forms_/survey.py)."""
    results = _survey_results(form_id)
    root = scope_root(db.session, current_user)
    up = results.unit.parent_id if root is not None and results.unit.id != root.id else None
    return render_template("forms/results.html", form=results.form, results=results, up=up,
                           suppressed_text=survey.suppressed_text)


@bp.route("/desk/<int:form_id>/results.xlsx")
@desk_roles
def survey_results_xlsx(form_id: int):
    results = _survey_results(form_id)
    data = survey_xlsx.workbook(results)
    return send_file(io.BytesIO(data), as_attachment=True,
                     download_name=f"survey-{results.form.id}-unit-{results.unit.id}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)


@bp.route("/desk/<int:form_id>/export.xlsx")
@desk_roles
def export_xlsx(form_id: int):
    form = db.session.get(Form, form_id) or abort(404)
    rows = rule.export_rows(db.session, current_user, form)
    names = {u.id: u.name for u in db.session.query(Unit).filter(Unit.id.in_({r.owner.unit_id for r in rows}))}
    data = export.workbook(form.title, rows, names)
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"form-{form.id}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)


# --- the office's builder ---------------------------------------------------------------------

@bp.route("/manage/")
@office
def manage():
    return render_template("forms/manage.html", rows=queries.all_forms(db.session))


def _settings_form(form: Form | None) -> SettingsForm:
    sf = SettingsForm(obj=None)
    sf.stage_id.choices = [(0, _("（不限阶段）"))] + [(s.id, s.name) for s in campaign_stages(db.session)]
    sf.target_unit_id.choices = [(0, _("全市（所有单位）"))] + unit_choices_in_scope(db.session, current_user)
    if request.method == "GET" and form is not None:
        sf.title.data, sf.description.data = form.title, form.description
        sf.confidentiality.data, sf.stage_id.data = form.confidentiality, form.stage_id or 0
        sf.target_unit_id.data, sf.target_roles.data = form.target_unit_id or 0, list(form.target_roles or [])
        sf.due_at.data = to_local(form.due_at).replace(tzinfo=None)
    return sf


def _level_help() -> dict:
    """What each confidentiality level means, for the builder (the survey's minimum filled in)."""
    return {key: str(text) % {"n": survey.MIN_ANSWERS} if key == "survey" else str(text)
            for key, text in LEVEL_HELP.items()}


def _save_settings(form: Form | None, sf: SettingsForm) -> Form:
    return services.save_settings(db.session, form, current_user, title=sf.title.data,
                                  description=sf.description.data or "", confidentiality=sf.confidentiality.data,
                                  target_unit_id=sf.target_unit_id.data or None, target_roles=sf.target_roles.data or [],
                                  due_at=to_utc(sf.due_at.data), stage_id=sf.stage_id.data or None)


@bp.route("/manage/new", methods=["GET", "POST"])
@office
def new():
    sf = _settings_form(None)
    if sf.validate_on_submit():
        try:
            form = _save_settings(None, sf)
        except services.FormError as err:
            db.session.rollback()
            flash(form_message(err.code), "error")
        else:
            db.session.commit()
            flash(_("表单已创建，请添加题目。"), "success")
            return redirect(url_for("forms.edit", form_id=form.id))
    return render_template("forms/edit.html", form=None, sf=sf, ff=FieldForm(formdata=None), fields=[],
                           version=None, level_help=_level_help()), 422 if request.method == "POST" else 200


@bp.route("/manage/<int:form_id>", methods=["GET", "POST"])
@office
def edit(form_id: int):
    form = db.session.get(Form, form_id) or abort(404)
    sf = _settings_form(form)
    if request.method == "POST" and sf.validate_on_submit():
        try:
            _save_settings(form, sf)
        except services.FormError as err:
            db.session.rollback()
            flash(form_message(err.code), "error")
        else:
            db.session.commit()
            flash(_("设置已保存。"), "success")
            return redirect(url_for("forms.edit", form_id=form_id))
    version = queries.latest_version(db.session, form.id)
    return render_template("forms/edit.html", form=form, sf=sf, ff=FieldForm(formdata=None),
                           fields=(form.draft_definition or {}).get("fields", []), version=version,
                           differs=version is not None and defn.differs(form.draft_definition, version.definition),
                           level_help=_level_help()), 422 if request.method == "POST" else 200


def _builder_step(form_id: int, change, done: str | None = None) -> object:
    """Apply one builder change; back on the edit page at the field list, or — after ``done``
    (a success message) when the change returns the stored field — at that field."""
    form = db.session.get(Form, form_id) or abort(404)
    anchor = "#fields"
    try:
        result = change(form)
    except services.FormError as err:
        db.session.rollback()
        flash(form_message(err.code), "error")
    else:
        db.session.commit()
        if done:
            flash(done, "success")
        if isinstance(result, dict) and result.get("key"):
            anchor = f"#field-{result['key']}"
    return redirect(url_for("forms.edit", form_id=form_id) + anchor)


def _field_values(ff: FieldForm) -> dict:
    return dict(kind=ff.kind.data, label=ff.label.data, help_text=ff.help_text.data or "", required=ff.required.data,
                options=ff.options.data or "", columns=ff.columns.data or "", details_label=ff.details_label.data or "")


@bp.route("/manage/<int:form_id>/fields", methods=["POST"])
@office
def add_field(form_id: int):
    ff = FieldForm()
    if not ff.validate_on_submit():
        flash(_("请填写题目。"), "error")
        return redirect(url_for("forms.edit", form_id=form_id) + "#fields")
    return _builder_step(form_id, lambda form: services.add_field(db.session, form, current_user, **_field_values(ff)),
                         _("已添加到草稿末尾；发布新版本后填报人才能看到。"))


@bp.route("/manage/<int:form_id>/fields/<int:index>/edit", methods=["GET", "POST"])
@office
def edit_field(form_id: int, index: int):
    """One field of the draft, prefilled, saved in place (services.edit_field keeps its key)."""
    form = db.session.get(Form, form_id) or abort(404)
    fields = (form.draft_definition or {}).get("fields", [])
    if not 0 <= index < len(fields):
        abort(404)
    current = fields[index]
    if request.method == "GET":
        ff = FieldEditForm(formdata=None, data={
            "key": current["key"], "kind": current["type"], "label": current["label"], "help_text": current.get("help", ""),
            "required": current.get("required", False), "options": "\n".join(current.get("options") or []),
            "columns": "\n".join(c["label"] for c in current.get("columns") or []),
            "details_label": current.get("details_label", "")})
    else:
        ff = FieldEditForm()
        if ff.validate_on_submit():
            try:
                services.edit_field(db.session, form, current_user, index, ff.key.data or None, **_field_values(ff))
            except services.FormError as err:
                db.session.rollback()
                flash(form_message(err.code), "error")
                if err.code == "stale":
                    return redirect(url_for("forms.edit", form_id=form_id) + "#fields")
            else:
                db.session.commit()
                flash(_("已保存到草稿。点“发布新版本”后，新开始填写的人才会看到。"), "success")
                return redirect(url_for("forms.edit", form_id=form_id) + f"#field-{current['key']}")
        elif ff.kind.errors:  # not a type at all: the page shows no type control, so say it here
            flash(form_message("type_locked"), "error")
    latest = queries.latest_version(db.session, form.id)
    # Where the question may go in one step: every section but its own.
    here = next((f["key"] for f in reversed(fields[:index]) if f["type"] == "section"), "")
    targets = ([("", _("（第一个分节标题之前）"))] if fields and fields[0]["type"] != "section" else []) + [
        (f["key"], f["label"]) for f in fields if f["type"] == "section"]
    targets = [t for t in targets if t[0] != here] if current["type"] != "section" else []
    return render_template("forms/field.html", form=form, f=current, index=index, ff=ff, version=latest, sections=targets,
                           published=bool(latest and any(q["key"] == current["key"] for q in latest.definition["fields"]))
                           ), 422 if request.method == "POST" else 200


@bp.route("/manage/<int:form_id>/fields/<int:index>/move", methods=["POST"])
@office
def move_field(form_id: int, index: int):
    """One step up or down (``direction``), or straight into another section (``section``: the
    heading's key, "" for the part before the first heading)."""
    key = request.form.get("key") or None
    if "section" in request.form:
        section = request.form["section"]
        return _builder_step(form_id, lambda form: services.move_to_section(db.session, form, current_user, index, key,
                                                                            section))
    step = -1 if request.form.get("direction") == "up" else 1
    return _builder_step(form_id, lambda form: services.move_field(db.session, form, current_user, index, step, key))


@bp.route("/manage/<int:form_id>/fields/<int:index>/delete", methods=["POST"])
@office
def delete_field(form_id: int, index: int):
    key = request.form.get("key") or None
    return _builder_step(form_id, lambda form: services.delete_field(db.session, form, current_user, index, key))


@bp.route("/manage/<int:form_id>/publish", methods=["POST"])
@office
def publish(form_id: int):
    def run(form):
        version = services.publish(db.session, form, current_user, clock.now())
        flash(_("已发布第 %(n)d 版。已开始填写的人保留原来的版本。", n=version.number), "success")
    return _builder_step(form_id, run)
