"""Staff pages of events: create and edit, registrations, attendance, partners."""

import io
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blagis import csvexport
from blagis.domain import DomainError, apply_to_form, commit_or_form_error
from blagis.events import services
from blagis.events.forms import (
    AttendanceForm,
    DropInForm,
    EditEventForm,
    EventForm,
    PartnerForm,
    StaffRegistrationForm,
    kind_labels,
)
from blagis.extensions import db
from blagis.i18n import current_locale
from blagis.models import (
    Event,
    Partner,
    Registration,
    RegistrationState,
    SeriesFrequency,
    utcnow,
)
from blagis.objectives.services import objective_choices
from blagis.permissions import require_commune_scope, staff_required
from blagis.templating import commune_choices

bp = Blueprint("events_staff", __name__)

PER_PAGE = 30


def _me():
    return current_user._get_current_object()


def get_event_in_scope(event_id: int) -> Event:
    """The event, or 404; 403 when it is outside the staff member's commune."""
    event = services.get_event(event_id)
    if event is None:
        abort(404)
    require_commune_scope(event.commune_code)
    return event


def _prepare(form: EventForm) -> None:
    me = _me()
    choices = commune_choices()
    if me.scope_commune_code and not me.is_admin:
        choices = [c for c in choices if c[0] == me.scope_commune_code]
    form.commune.choices = choices
    form.kind.choices = [(k.value, str(label)) for k, label in kind_labels().items()]
    form.partner_id.choices = [("", _("No organiser"))] + [
        (str(p.id), p.name) for p in services.partners()
    ]
    form.objectives.choices = objective_choices(current_locale())


@bp.route("/events")
@staff_required
def index():
    me = _me()
    past = request.args.get("past") == "1"
    try:
        page = min(max(int(request.args.get("page", 1)), 1), 10000)
    except ValueError:
        page = 1
    query = select(Event).options(joinedload(Event.partner))
    now = utcnow()
    # The same exact bounds on starts_at as the public listings (services.events_query), so
    # that the starts_at index is walked from now rather than from the first event ever.
    if past:
        query = query.where(Event.ends_at < now, Event.starts_at < now)
        query = query.order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        floor = now - timedelta(seconds=services.longest_event_seconds())
        query = query.where(Event.ends_at >= now, Event.starts_at >= floor)
        query = query.order_by(Event.starts_at, Event.id)
    if me.scope_commune_code and not me.is_admin:
        query = query.where(Event.commune_code == me.scope_commune_code)
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    counts = services.counts_for(e.id for e in pagination.items)
    return render_template(
        "events/staff/index.html",
        events=pagination.items,
        pagination=pagination,
        counts=counts,
        past=past,
        kinds=kind_labels(),
    )


def _series_args(form: EventForm):
    if not form.repeat.data:
        return {}
    return {"frequency": SeriesFrequency(form.repeat.data), "until": form.repeat_until.data}


@bp.route("/events/new", methods=["GET", "POST"])
@staff_required
def new():
    form = EventForm()
    _prepare(form)
    status = 200
    if form.validate_on_submit():
        require_commune_scope(form.commune.data)
        try:
            created = services.create_event(
                _me(), form.to_data(), form.objectives.data, **_series_args(form)
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_to_form(form, error)
            status = 422
        else:
            if len(created) > 1:
                flash(_("%(n)d dates created.", n=len(created)), "success")
            else:
                flash(_("The event is published."), "success")
            return redirect(url_for("events_staff.registrations", event_id=created[0].id))
    elif request.method == "POST":
        status = 422
    return render_template("events/staff/form.html", form=form, event=None), status


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(event_id: int):
    event = get_event_in_scope(event_id)
    form = EditEventForm(obj=None)
    if request.method == "GET":
        form.title.data = event.title
        form.description.data = event.description
        form.kind.data = event.kind.value
        form.starts_at.data = event.starts_at
        form.ends_at.data = event.ends_at
        form.place.data = event.place
        form.commune.data = event.commune_code
        form.partner_id.data = str(event.partner_id or "")
        form.capacity.data = event.capacity
        form.max_seats.data = event.max_seats
        form.registration_opens_at.data = event.registration_opens_at
        form.registration_closes_at.data = event.registration_closes_at
        form.objectives.data = [n.code for n in event.objectives]
        form.cancelled.data = event.cancelled
    _prepare(form)
    status = 200
    if form.validate_on_submit():
        require_commune_scope(form.commune.data)
        saved = commit_or_form_error(
            form,
            lambda: services.update_event(
                _me(),
                event.id,
                form.to_data(),
                form.objectives.data,
                cancelled=bool(form.cancelled.data),
                whole_series=form.apply_to.data == "series",
            ),
        )
        if saved:
            flash(_("The event is saved."), "success")
            return redirect(url_for("events_staff.registrations", event_id=event_id))
        status = 422
    elif request.method == "POST":
        status = 422
    if status != 200:
        event = get_event_in_scope(event_id)
    return render_template("events/staff/form.html", form=form, event=event), status


REGISTRATIONS_PER_PAGE = 50


def _listing_args(source) -> dict:
    """The search, state filter and cursor of the registrations list, from the query string (or
    from a form that posts them back); anything unknown is dropped."""
    q = (source.get("q") or "").strip()[:100]
    state = source.get("state") or ""
    cursor = (source.get("cursor") or "")[:400]
    return {
        "q": q or None,
        "state": state if state in {s.value for s in RegistrationState} else None,
        "cursor": cursor or None,
    }


def _registrations_url(event_id: int, args: dict, anchor: str = "") -> str:
    return url_for("events_staff.registrations", event_id=event_id, **args) + anchor


def _registrations_page(event: Event, form: StaffRegistrationForm, status: int = 200):
    args = _listing_args(request.args)
    listing = services.staff_listing(
        event.id,
        q=args["q"] or "",
        state=RegistrationState(args["state"]) if args["state"] else None,
        cursor=args["cursor"] or "",
        per_page=REGISTRATIONS_PER_PAGE,
    )
    counts = services.counts_for([event.id])[event.id]
    drop_in = DropInForm(drop_in_count=event.drop_in_count)
    return (
        render_template(
            "events/staff/registrations.html",
            event=event,
            listing=listing,
            rows=listing.rows,
            args=args,
            filters={k: v for k, v in args.items() if k != "cursor" and v},
            state_counts=services.state_counts(event.id),
            counts=counts,
            places_left=counts.places_left(event),
            form=form,
            drop_in_form=drop_in,
            name_of=services.registrant_name,
            kinds=kind_labels(),
        ),
        status,
    )


@bp.route("/events/<int:event_id>/registrations/sheet")
@staff_required
def registrations_sheet(event_id: int):
    """The whole signing sheet, to print: every active registration, no forms."""
    event = get_event_in_scope(event_id)
    rows = [r for r in services.registrations_of(event.id) if r.is_active]
    return render_template(
        "events/staff/sheet.html",
        event=event,
        rows=rows,
        name_of=services.registrant_name,
        kinds=kind_labels(),
    )


@bp.route("/events/<int:event_id>/registrations", methods=["GET", "POST"])
@staff_required
def registrations(event_id: int):
    event = get_event_in_scope(event_id)
    form = StaffRegistrationForm()
    if request.method == "GET":
        return _registrations_page(event, form)
    if form.validate_on_submit():
        try:
            registration = services.staff_register(
                _me(),
                event.id,
                name=form.name.data,
                phone=form.phone.data,
                email=form.email.data,
                seats=form.seats.data,
                sms_ok=form.sms_ok.data,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_to_form(form, error)
        else:
            if registration.state.value == "confirmed":
                flash(_("%(name)s is registered.", name=registration.name), "success")
            else:
                flash(
                    _(
                        "The event is full: %(name)s is on the waiting list.",
                        name=registration.name,
                    ),
                    "info",
                )
            return redirect(url_for("events_staff.registrations", event_id=event_id))
    return _registrations_page(get_event_in_scope(event_id), form, 422)


@bp.route("/events/<int:event_id>/registrations.csv")
@staff_required
def registrations_csv(event_id: int):
    event = get_event_in_scope(event_id)
    out = io.StringIO()
    writer = csvexport.writer(out)
    writer.writerow(
        [_("Name"), _("Phone"), _("E-mail"), _("Seats"), _("State"), _("Present"), _("Signature")]
    )
    for row in services.registrations_of(event.id):
        if row.user is not None:
            phone, email = "", row.user.email
        else:
            phone, email = row.phone or "", row.email or ""
        present = {True: _("yes"), False: _("no"), None: ""}[row.attended]
        writer.writerow(
            [
                services.registrant_name(row),
                csvexport.phone_cell(phone),
                email,
                row.seats,
                _state_label(row.state.value),
                present,
                "",
            ]
        )
    body = "\ufeff" + out.getvalue()
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="emargement-evenement-{event.id}.csv"'
    )
    return response


def _state_label(state: str) -> str:
    return {
        "confirmed": _("confirmed"),
        "waitlisted": _("waiting list"),
        "cancelled": _("cancelled"),
    }[state]


def _registration_in_scope(registration_id: int) -> Registration:
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id)
        .options(joinedload(Registration.event))
    )
    if registration is None:
        abort(404)
    require_commune_scope(registration.event.commune_code)
    return registration


@bp.route("/registrations/<int:registration_id>/attendance", methods=["POST"])
@staff_required
def attendance(registration_id: int):
    registration = _registration_in_scope(registration_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        flash(_("Choose present or absent."), "error")
        return redirect(url_for("events_staff.registrations", event_id=registration.event_id)), 303
    services.set_attendance(_me(), registration, form.present.data == "1")
    db.session.commit()
    return redirect(
        _registrations_url(
            registration.event_id,
            _listing_args(request.form),
            f"#registration-{registration.id}",
        )
    )


@bp.route("/registrations/<int:registration_id>/cancel", methods=["POST"])
@staff_required
def cancel_registration(registration_id: int):
    registration = _registration_in_scope(registration_id)
    event_id = registration.event_id
    try:
        services.staff_cancel_registration(_me(), registration_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The registration is cancelled."), "success")
    return redirect(_registrations_url(event_id, _listing_args(request.form)))


@bp.route("/events/<int:event_id>/drop-ins", methods=["POST"])
@staff_required
def drop_ins(event_id: int):
    event = get_event_in_scope(event_id)
    form = DropInForm()
    if not form.validate_on_submit():
        flash(_("Enter a number, 0 or more."), "error")
        return redirect(url_for("events_staff.registrations", event_id=event_id))
    services.set_drop_ins(_me(), event, form.drop_in_count.data)
    db.session.commit()
    flash(_("The head count is saved."), "success")
    return redirect(url_for("events_staff.registrations", event_id=event_id))


# --- partners --------------------------------------------------------------------------------


@bp.route("/partners", methods=["GET", "POST"])
@staff_required
def partners():
    form = PartnerForm()
    status = 200
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form, lambda: services.save_partner(_me(), None, form.name.data, form.website.data)
        )
        if saved:
            flash(_("The organiser is added."), "success")
            return redirect(url_for("events_staff.partners"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "events/staff/partners.html", form=form, partners=services.partners()
    ), status


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_partner(partner_id: int):
    partner = db.get_or_404(Partner, partner_id)
    form = PartnerForm(obj=partner)
    status = 200
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form, lambda: services.save_partner(_me(), partner, form.name.data, form.website.data)
        )
        if saved:
            flash(_("The organiser is saved."), "success")
            return redirect(url_for("events_staff.partners"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("events/staff/partner_edit.html", form=form, partner=partner), status
