"""Staff pages of volunteering: missions of an event, standalone missions, attendance,
coverage of the next weeks, and writing to volunteers."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blagis.domain import DomainError, apply_to_form, commit_or_form_error
from blagis.events import services as events_services
from blagis.extensions import db
from blagis.models import Mission, SignupState
from blagis.permissions import require_commune_scope, staff_required
from blagis.templating import commune_choices
from blagis.volunteers import services
from blagis.volunteers.forms import AttendanceForm, ContactForm, MissionForm, skill_labels

bp = Blueprint("volunteers_staff", __name__)


def _me():
    return current_user._get_current_object()


def _event_in_scope(event_id: int):
    event = events_services.get_event(event_id, with_objectives=False)
    if event is None:
        abort(404)
    require_commune_scope(event.commune_code)
    return event


def _mission_in_scope(mission_id: int) -> Mission:
    mission = services.get_mission(mission_id)
    if mission is None:
        abort(404)
    require_commune_scope(mission.commune_code)
    return mission


def _commune_choices():
    me = _me()
    choices = commune_choices()
    if me.scope_commune_code and not me.is_admin:
        choices = [c for c in choices if c[0] == me.scope_commune_code]
    return choices


def _form(**kwargs) -> MissionForm:
    form = MissionForm(**kwargs)
    form.prepare(_commune_choices())
    return form


def _standalone_commune(form: MissionForm) -> bool:
    """A standalone mission's commune must be one the staff member acts in."""
    if form.commune.data not in {code for code, _name in form.commune.choices}:
        form.commune.errors = [*form.commune.errors, _("Choose a commune from the list.")]
        return False
    return True


@bp.route("/events/<int:event_id>/missions", methods=["GET", "POST"])
@staff_required
def event_missions(event_id: int):
    event = _event_in_scope(event_id)
    form = _form()
    status = 200
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form, lambda: services.create_mission(_me(), form.data_dict(), event)
        )
        if saved:
            flash(_("The mission is added."), "success")
            return redirect(url_for("volunteers_staff.event_missions", event_id=event_id))
    if request.method == "POST":
        status = 422
        event = _event_in_scope(event_id)
    missions = services.missions_of_events([event.id]).get(event.id, [])
    return render_template(
        "volunteers/staff/event_missions.html",
        event=event,
        missions=missions,
        filled=services.filled_for(m.id for m in missions),
        form=form,
        skills=skill_labels(),
    ), status


@bp.route("/missions/new", methods=["GET", "POST"])
@staff_required
def new_mission():
    form = _form()
    status = 200
    if form.validate_on_submit() and _standalone_commune(form):
        try:
            mission = services.create_mission(_me(), form.data_dict())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_to_form(form, error)
        else:
            flash(_("The mission is added."), "success")
            return redirect(url_for("volunteers_staff.mission", mission_id=mission.id))
    if request.method == "POST":
        status = 422
    return render_template("volunteers/staff/mission_form.html", form=form, mission=None), status


@bp.route("/missions/<int:mission_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_mission(mission_id: int):
    mission = _mission_in_scope(mission_id)
    form = _form(obj=mission)
    if request.method == "GET":
        form.commune.data = mission.commune_code
    status = 200
    if form.validate_on_submit() and (mission.event_id or _standalone_commune(form)):
        saved = commit_or_form_error(
            form, lambda: services.update_mission(_me(), mission_id, form.data_dict())
        )
        if saved:
            flash(_("The mission is saved."), "success")
            return redirect(url_for("volunteers_staff.mission", mission_id=mission_id))
    if request.method == "POST":
        status = 422
        mission = _mission_in_scope(mission_id)
    return render_template("volunteers/staff/mission_form.html", form=form, mission=mission), status


@bp.route("/missions/<int:mission_id>/cancel", methods=["POST"])
@staff_required
def cancel_mission(mission_id: int):
    _mission_in_scope(mission_id)
    try:
        services.cancel_mission(_me(), mission_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The mission is cancelled; its volunteers are told by e-mail."), "success")
    return redirect(url_for("volunteers_staff.mission", mission_id=mission_id))


@bp.route("/missions/<int:mission_id>")
@staff_required
def mission(mission_id: int):
    mission = _mission_in_scope(mission_id)
    return _mission_page(mission, ContactForm())


def _mission_page(mission: Mission, contact_form: ContactForm, status: int = 200):
    signups = services.signups_of(mission.id)
    return render_template(
        "volunteers/staff/mission.html",
        mission=mission,
        signups=signups,
        confirmed=[s for s in signups if s.state == SignupState.CONFIRMED],
        filled=services.filled_for([mission.id]),
        contact_form=contact_form,
        skills=skill_labels(),
        started=services.utcnow() >= mission.starts_at,
    ), status


@bp.route("/missions/<int:mission_id>/attendance", methods=["POST"])
@staff_required
def attendance(mission_id: int):
    mission = _mission_in_scope(mission_id)
    form = AttendanceForm()
    back = url_for("volunteers_staff.mission", mission_id=mission_id)
    if not form.validate_on_submit():
        flash(_("Choose present or absent."), "error")
        return redirect(back), 303
    try:
        services.set_attendance(_me(), mission, form.user_id.data, form.present.data == "1")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back), 303
    return redirect(back + f"#volunteer-{form.user_id.data}")


@bp.route("/missions/<int:mission_id>/contact", methods=["POST"])
@staff_required
def contact(mission_id: int):
    mission = _mission_in_scope(mission_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            sent = services.contact(
                _me(), mission, form.message.data, everyone=form.to.data == "all"
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_to_form(form, error)
        else:
            flash(
                _("Message queued for %(n)d volunteers who agreed to be contacted.", n=sent),
                "success",
            )
            return redirect(url_for("volunteers_staff.mission", mission_id=mission_id))
    return _mission_page(_mission_in_scope(mission_id), form, 422)


@bp.route("/volunteers/coverage")
@staff_required
def coverage():
    try:
        weeks = min(max(int(request.args.get("weeks", 4)), 1), 12)
    except (TypeError, ValueError):
        weeks = 4
    rows = services.coverage(_me(), weeks=weeks)
    return render_template(
        "volunteers/staff/coverage.html",
        rows=rows,
        weeks=weeks,
        uncovered=sum(1 for m, n in rows if n < m.needed),
        skills=skill_labels(),
    )
