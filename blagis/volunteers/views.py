"""Volunteers' pages: the missions that need hands, my profile, the café, my certificate."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from blagis import privacy, sections
from blagis.domain import DomainError, commit_or_form_error
from blagis.extensions import db
from blagis.models import Event, EventKind, Mission, MissionSignup, SignupState, utcnow
from blagis.permissions import login_required
from blagis.ratelimits import limit
from blagis.templating import communes
from blagis.volunteers import attestations, services
from blagis.volunteers.attestation_views import attestation_form, issue_from
from blagis.volunteers.forms import ProfileForm, daypart_labels, skill_labels, weekday_labels

bp = Blueprint("volunteers", __name__)
missions_bp = Blueprint("missions", __name__)

PER_PAGE = 30
CAFE_DATES = 4


def _me():
    return current_user._get_current_object()


def _page() -> int:
    try:
        return min(max(int(request.args.get("page", 1)), 1), 10000)
    except (TypeError, ValueError):
        return 1


def mission_context() -> dict:
    """What every mission list needs: labels, and the visitor's own sign-ups and profile."""
    return {"skills": skill_labels(), "now": utcnow()}


@bp.route("")
def index():
    skill = request.args.get("skill", "")
    commune = request.args.get("commune", "")
    filters = {
        "skill": skill if skill in skill_labels() else None,
        "commune": commune if commune in {c.code for c in communes()} else None,
    }
    query = services.open_missions_query(**filters)
    pagination = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False)
    missions = pagination.items
    filled = services.filled_for(m.id for m in missions)
    profile = mine = None
    if current_user.is_authenticated:
        profile = services.get_profile(current_user.id)
        mine = services.my_signups(current_user.id, [m.id for m in missions])
    suggestions = [m for m in missions if services.suggested(profile, m)]
    others = [m for m in missions if m not in suggestions]
    return render_template(
        "volunteers/index.html",
        suggestions=suggestions,
        others=others,
        filled=filled,
        mine=mine or {},
        profile=profile,
        pagination=pagination,
        filters=filters,
        filter_args={k: v for k, v in filters.items() if v},
        **mission_context(),
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    me = _me()
    existing = services.get_profile(me.id)
    form = ProfileForm(obj=existing)
    form.availability.choices = [SelectChoice(s) for s in services.SLOTS]
    if request.method == "POST" and request.form.get("action") == "remove":
        try:
            withdrawn = services.remove_profile(me)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            message = _("Your volunteer profile is removed. Thank you for your help!")
            if withdrawn:
                message += " " + _("Your upcoming missions were given back.")
            flash(message, "success")
        return redirect(url_for("volunteers.profile"))
    status = 200
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            lambda: services.save_profile(
                me,
                skills=form.skills.data,
                skills_other=form.skills_other.data,
                availability=form.availability.data,
                contact_ok=form.contact_ok.data,
            ),
        )
        if saved:
            flash(_("Your volunteer profile is saved."), "success")
            return redirect(url_for("volunteers.index"))
    if request.method == "POST":
        status = 422
    return render_template(
        "volunteers/profile.html",
        form=form,
        existing=existing,
        skills=skill_labels(),
        weekdays=weekday_labels(),
        dayparts=daypart_labels(),
        chosen_skills=set(form.skills.data or []),
        chosen_slots=set(form.availability.data or []),
    ), status


@bp.route("/cafe")
def cafe():
    events = db.session.scalars(
        select(Event)
        .where(
            Event.kind == EventKind.CAFE_BENEVOLES,
            Event.cancelled.is_(False),
            Event.ends_at >= utcnow(),
        )
        .order_by(Event.starts_at)
        .limit(CAFE_DATES)
    ).all()
    missions = services.missions_of_events(e.id for e in events)
    ids = [m.id for ms in missions.values() for m in ms]
    mine = services.my_signups(current_user.id, ids) if current_user.is_authenticated else {}
    return render_template(
        "volunteers/cafe.html",
        events=events,
        missions=missions,
        filled=services.filled_for(ids),
        mine=mine,
        **mission_context(),
    )


@bp.route("/certificate", methods=["GET", "POST"])
@login_required
def certificate():
    """My hours, my attestations, and the form to ask for a new one (POST issues it)."""
    me = _me()
    form = attestation_form(me)
    if request.method == "GET":
        form.full_name.data = me.display_name
    status = 200
    if form.validate_on_submit():
        made = issue_from(form, me, me)
        if made is not None:
            flash(_("Your attestation is ready: print it or save it as PDF."), "success")
            return redirect(url_for("attestations.document", attestation_id=made.id))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "volunteers/certificate.html",
        form=form,
        years=services.hours_by_year(me.id),
        issued=attestations.of_user(me.id),
    ), status


# --- missions -----------------------------------------------------------------------------------


def _mission_or_404(mission_id: int) -> Mission:
    mission = services.get_mission(mission_id)
    if mission is None:
        abort(404)
    return mission


@missions_bp.route("/<int:mission_id>")
def detail(mission_id: int):
    mission = _mission_or_404(mission_id)
    mine = profile = None
    if current_user.is_authenticated:
        mine = services.my_signups(current_user.id, [mission.id]).get(mission.id)
        profile = services.get_profile(current_user.id)
    return render_template(
        "volunteers/mission.html",
        mission=mission,
        filled=services.filled_for([mission.id]),
        mine=mine,
        profile=profile,
        **mission_context(),
    )


def _back(mission_id: int) -> str:
    where = request.form.get("next")
    if where == "account":
        return url_for("account.index")
    if where == "list":
        return url_for("volunteers.index")
    return url_for("missions.detail", mission_id=mission_id)


@missions_bp.route("/<int:mission_id>/signup", methods=["POST"])
@limit("RATELIMIT_REGISTRATION")
@login_required
def signup(mission_id: int):
    _mission_or_404(mission_id)
    try:
        result = services.signup(_me(), mission_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.field == "profile" and services.get_profile(current_user.id) is None:
            flash(error.message, "info")
            return redirect(url_for("volunteers.profile"))
        flash(error.message, "error")
        return redirect(_back(mission_id))
    if result.created:
        flash(_("You are signed up: thank you! A confirmation e-mail is on its way."), "success")
    else:
        flash(_("You are already signed up for this mission: nothing was changed."), "info")
    return redirect(_back(mission_id))


@missions_bp.route("/<int:mission_id>/withdraw", methods=["POST"])
@login_required
def withdraw(mission_id: int):
    _mission_or_404(mission_id)
    try:
        services.withdraw(_me(), mission_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("You have withdrawn from this mission."), "success")
    return redirect(_back(mission_id))


# --- blocks on other pages ---------------------------------------------------------------------


def home_block() -> dict:
    missions = db.session.scalars(services.open_missions_query().limit(4)).all()
    return {"missions": missions, "filled": services.filled_for(m.id for m in missions)}


def account_block(user) -> dict:
    rows = db.session.scalars(
        select(MissionSignup)
        .join(Mission, Mission.id == MissionSignup.mission_id)
        .where(
            MissionSignup.user_id == user.id,
            MissionSignup.state == SignupState.CONFIRMED,
        )
        .order_by(Mission.starts_at.desc())
        .limit(50)
        .options(selectinload(MissionSignup.mission))
    ).all()
    years = services.hours_by_year(user.id)
    return {
        "profile": services.get_profile(user.id),
        "signups": rows,
        "total": sum(years.values()),
        "years": years,
        "now": utcnow(),
    }


def event_missions(event_id: int) -> dict:
    """Missions of one event for its page (template global used by the events detail page)."""
    missions = services.missions_of_events([event_id]).get(event_id, [])
    ids = [m.id for m in missions]
    mine = {}
    if ids and current_user.is_authenticated:
        mine = services.my_signups(current_user.id, ids)
    return {
        "missions": missions,
        "filled": services.filled_for(ids),
        "mine": mine,
        **mission_context(),
    }


bp.add_app_template_global(event_missions, "event_missions")
sections.register(sections.HOME, 30, "volunteers/_home_block.html", home_block)
sections.register(sections.ACCOUNT, 30, "volunteers/_account_block.html", account_block)
privacy.register_exporter("volunteering", services.export_volunteering)
privacy.register_eraser(services.erase_volunteering)
