"""Public pages of events: listing, one event, registering, calendars, JSON API."""

import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blagis import sections
from blagis.api import cached_json
from blagis.domain import DomainError, NotFoundError, apply_to_form
from blagis.errors import render_error
from blagis.events import services
from blagis.events.forms import RegisterForm, kind_labels
from blagis.events.ics import event_calendar, feed_calendar
from blagis.extensions import db
from blagis.keyset import InvalidCursor, bad_cursor_message
from blagis.models import ACTIVE_STATES, Event, EventKind, Registration, RegistrationState, utcnow
from blagis.objectives.services import subtree_codes
from blagis.pagecache import cached_page
from blagis.permissions import login_required
from blagis.ratelimits import limit
from blagis.templating import communes
from blagis.timeutils import PARIS
from blagis.urls import absolute_url

bp = Blueprint("events", __name__)
api_bp = Blueprint("events_api", __name__)

PER_PAGE = 20
FEED_LIMIT = 500


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """A bounded integer query parameter; garbage falls back to the default."""
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, lo), hi)


def listing_filters() -> dict:
    """The filters of ``/events``: unknown values are ignored, never an error."""
    kind = request.args.get("kind", "")
    commune = request.args.get("commune", "")
    objective = request.args.get("objective", "")[:32]
    filters = {
        "kind": kind if kind in {k.value for k in EventKind} else None,
        "commune": commune if commune in {c.code for c in communes()} else None,
        "objective": None,
        "past": request.args.get("past") == "1",
    }
    valid = objective and all(part.isdigit() for part in objective.split("."))
    codes = subtree_codes(objective) if valid else []
    if codes:
        filters["objective"] = objective
        filters["objective_codes"] = codes
    return filters


def _query(filters: dict):
    return services.events_query(
        kind=filters["kind"],
        commune=filters["commune"],
        objective_codes=filters.get("objective_codes"),
        past=filters["past"],
    )


def _filter_args(filters: dict) -> dict:
    args = {k: filters[k] for k in ("kind", "commune", "objective") if filters[k]}
    if filters["past"]:
        args["past"] = "1"
    return args


@bp.route("")
@cached_page("events", "contract")
def index():
    filters = listing_filters()
    page = _int_arg("page", 1, 1, 10000)
    pagination = db.paginate(_query(filters), page=page, per_page=PER_PAGE, error_out=False)
    counts = services.counts_for(e.id for e in pagination.items)
    return render_template(
        "events/index.html",
        events=pagination.items,
        pagination=pagination,
        counts=counts,
        filters=filters,
        filter_args=_filter_args(filters),
        without_objective={k: v for k, v in _filter_args(filters).items() if k != "objective"},
        kinds=kind_labels(),
    )


# Rendered feeds per process, by filters and language: building 500 VEVENTs costs a few
# hundred milliseconds and calendar applications poll the same few URLs over and over. A
# minute's delay before a change reaches a subscribed calendar is invisible (they poll hourly).
FEED_TTL = 60.0
_FEEDS: dict[tuple, tuple[float, bytes]] = {}


def feed():
    filters = listing_filters()
    key = (tuple(sorted(_filter_args(filters).items())), str(get_locale()))
    clock = time.monotonic()
    cached = _FEEDS.get(key)
    if cached and clock - cached[0] < FEED_TTL and not current_app.testing:
        return _ics_response(cached[1], "blagis.ics")
    events = db.session.scalars(_query(filters).limit(FEED_LIMIT)).all()
    body = feed_calendar(events, "Blagis")
    if len(_FEEDS) > 500:  # filters are bounded; this only guards memory
        _FEEDS.clear()
    _FEEDS[key] = (clock, body)
    return _ics_response(body, "blagis.ics")


# "/events.ics" sits beside the blueprint's prefix ("/events"), so it is added to the app.
bp.record(lambda state: state.app.add_url_rule("/events.ics", "events.feed", feed))


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.charset = "utf-8"
    return response


def _load_or_404(event_id: int) -> Event:
    event = services.get_event(event_id)
    if event is None:
        abort(404)
    return event


def _detail_context(event: Event, form: RegisterForm | None = None) -> dict:
    counts = services.counts_for([event.id])[event.id]
    mine = None
    if current_user.is_authenticated:
        mine = services.active_registration(event.id, current_user.id)
    # Only a logged-in visitor gets the form: building one puts a CSRF token in the session,
    # which would make the anonymous page personal (and impossible to keep in the page cache).
    if form is None and current_user.is_authenticated:
        form = RegisterForm()
    position = None
    if mine is not None and mine.state == RegistrationState.WAITLISTED:
        position = services.waitlist_position(mine)
    return {
        "position": position,
        "event": event,
        "counts": counts,
        "places_left": counts.places_left(event),
        "mine": mine,
        "form": form,
        "seat_choices": list(range(1, event.max_seats + 1)),
        "kinds": kind_labels(),
        "registration_open": event.registration_open(),
        "started": utcnow() >= event.starts_at,
        "over": event.is_over(),
    }


@bp.route("/<int:event_id>")
@cached_page("events", "contract")
def detail(event_id: int):
    event = _load_or_404(event_id)
    return render_template("events/detail.html", **_detail_context(event))


@bp.route("/<int:event_id>.ics")
def detail_ics(event_id: int):
    event = _load_or_404(event_id)
    return _ics_response(event_calendar(event), f"evenement-{event.id}.ics")


@bp.route("/<int:event_id>/register", methods=["POST"])
@limit("RATELIMIT_REGISTRATION")
@login_required
def register(event_id: int):
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            # The service loads and locks the event: no query of its own here (the hot path).
            result = services.register(
                current_user._get_current_object(), event_id, form.seats.data
            )
            # Worded before the commit, which expires what was loaded (no reload after it).
            if not result.created:
                message = _("You are already registered for this event: nothing was changed.")
                category = "info"
            elif result.registration.state == RegistrationState.CONFIRMED:
                message = _("You are registered. A confirmation e-mail is on its way.")
                category = "success"
            else:
                message = _(
                    "The event is full: you are on the waiting list. We will write to you "
                    "if a place frees up."
                )
                category = "info"
            db.session.commit()
        except NotFoundError:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            apply_to_form(form, error)
        else:
            flash(message, category)
            return redirect(url_for("events.detail", event_id=event_id))
    event = _load_or_404(event_id)
    return render_template("events/detail.html", **_detail_context(event, form)), 422


@bp.route("/<int:event_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(event_id: int):
    """GET asks for confirmation (a page with the POST form, no JavaScript); POST cancels."""
    event = _load_or_404(event_id)
    back = url_for("events.detail", event_id=event_id)
    if request.values.get("next") == "account":
        back = url_for("account.index")
    if request.method == "GET":
        mine = services.active_registration(event.id, current_user.id)
        if mine is None:
            flash(_("You are not registered for this event."), "info")
            return redirect(back)
        if utcnow() >= event.starts_at:
            flash(_("The event has started: the registration can no longer be cancelled."), "error")
            return redirect(back)
        return render_template(
            "events/cancel.html",
            event=event,
            mine=mine,
            next=request.args.get("next", ""),
            back=back,
        )
    try:
        services.cancel_registration(current_user._get_current_object(), event_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    flash(_("Your registration is cancelled."), "success")
    return redirect(back)


# --- JSON API ----------------------------------------------------------------------------------


def event_json(event: Event, counts: services.Counts) -> dict:
    """Public data of an event: no personal data."""
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "kind": event.kind.value,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "place": event.place,
        "commune": event.commune_code,
        "organiser": event.partner.name if event.partner is not None else None,
        "capacity": event.capacity,
        "places_left": counts.places_left(event),
        "waitlist_length": counts.waitlisted,
        "max_seats": event.max_seats,
        "cancelled": event.cancelled,
        "registration_open": event.registration_open(),
        "objectives": [n.code for n in event.objectives],
        "url": absolute_url("events.detail", event_id=event.id),
        "ics": absolute_url("events.detail_ics", event_id=event.id),
    }


@api_bp.route("/events")
@cached_page("events", "contract")
def api_events():
    """Pages by ``page`` (OFFSET) or, as the ``next`` links do, by ``cursor`` (keyset)."""
    filters = listing_filters()
    per_page = _int_arg("per_page", 20, 1, 100)
    query = _query(filters)
    cursor = request.args.get("cursor", "")
    if cursor:
        try:
            query, page = services.page_after(query, filters["past"], cursor)
        except InvalidCursor:
            return render_error(400, bad_cursor_message())
    else:
        page = _int_arg("page", 1, 1, 100000)
        query = query.offset((page - 1) * per_page)
    rows = db.session.scalars(
        query.limit(per_page + 1).options(selectinload(Event.objectives))
    ).all()
    events = rows[:per_page]
    total = db.session.scalar(
        select(func.count()).select_from(_query(filters).order_by(None).subquery())
    )
    counts = services.counts_for(e.id for e in events)
    next_url = None
    if len(rows) > per_page:
        next_url = absolute_url(
            "events_api.api_events",
            cursor=services.cursor_after(events[-1], filters["past"], page + 1),
            per_page=per_page,
            **_filter_args(filters),
        )
    return cached_json(
        {
            "events": [event_json(e, counts[e.id]) for e in events],
            "page": page,
            "per_page": per_page,
            "total": total,
            "next": next_url,
        }
    )


# --- blocks on other pages ---------------------------------------------------------------------


def home_block() -> dict:
    events = db.session.scalars(services.events_query().limit(6)).all()
    return {
        "events": events,
        "counts": services.counts_for(e.id for e in events),
        "kinds": kind_labels(),
    }


PAST_ON_ACCOUNT = 20


def account_block(user) -> dict:
    """Upcoming registrations (to cancel), then the last past ones (what I took part in)."""
    now = utcnow()
    rows = db.session.scalars(
        select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.user_id == user.id,
            Registration.state.in_(ACTIVE_STATES),
            Event.ends_at >= now,
        )
        .options(selectinload(Registration.event))
        .order_by(Event.starts_at)
    ).all()
    # Only seats that were held: a waiting-list place that never turned into a seat, or a
    # cancelled registration, is not something one took part in.
    past = db.session.scalars(
        select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.user_id == user.id,
            Registration.state == RegistrationState.CONFIRMED,
            Event.ends_at < now,
        )
        .options(selectinload(Registration.event))
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(PAST_ON_ACCOUNT)
    ).all()
    return {"registrations": rows, "past": past, "now": now}


def node_block(node) -> dict:
    codes = subtree_codes(node.code)
    events = db.session.scalars(services.events_query(objective_codes=codes).limit(10)).all()
    past = db.session.scalars(
        services.events_query(objective_codes=codes, past=True).limit(10)
    ).all()
    from blagis.timeutils import year_bounds

    year = utcnow().astimezone(PARIS).year
    return {
        "events": events,
        "past": past,
        "year": year,
        "indicators": services.indicators(codes, *year_bounds(year)),
        "counts": services.counts_for(e.id for e in events),
        "kinds": kind_labels(),
        "code": node.code,
    }


sections.register(sections.HOME, 10, "events/_home_block.html", home_block)
sections.register(sections.ACCOUNT, 20, "events/_account_block.html", account_block)


def _register_node_section() -> None:
    from blagis.objectives.views import NODE_SECTIONS

    if not any(s.template == "events/_node_block.html" for s in NODE_SECTIONS):
        NODE_SECTIONS.append(sections.Section(20, "events/_node_block.html", node_block))
        NODE_SECTIONS.sort(key=lambda s: s.order)


_register_node_section()
