"""Rules of events and registrations: plain functions, the view commits once.

Seats are counted under a lock on the event row (PostgreSQL ``SELECT … FOR UPDATE``; SQLite
``BEGIN IMMEDIATE`` through :func:`blagis.dbtuning.begin_write`), so the confirmed seats of an
event never exceed its capacity, whatever the concurrency.
"""

import calendar
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blagis import audit, dbtuning, keyset, privacy, sms
from blagis.calls.services import REASON_OF_TEMPLATE, add_call
from blagis.domain import DomainError, NotFoundError
from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.models import (
    ACTIVE_STATES,
    Event,
    EventSeries,
    ObjectiveNode,
    Partner,
    Registration,
    RegistrationState,
    SeriesFrequency,
    User,
    event_objectives,
    utcnow,
)
from blagis.objectives import services as objectives
from blagis.timeutils import PARIS
from blagis.urls import absolute_url, is_http_url
from blagis.volunteers import services as volunteering

MAX_SEATS_LIMIT = 10
MAX_SERIES_DATES = 60
EVENT_FIELDS = (
    "title",
    "description",
    "kind",
    "starts_at",
    "ends_at",
    "place",
    "commune_code",
    "partner_id",
    "capacity",
    "max_seats",
    "registration_opens_at",
    "registration_closes_at",
)


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    confirmed: int = 0
    waitlisted: int = 0  # people (registrations), not seats

    def places_left(self, event: Event) -> int | None:
        if event.capacity is None:
            return None
        return max(event.capacity - self.confirmed, 0)


class CountsMap(dict):
    """Counts by event id; an event without registrations has zero of each."""

    def __missing__(self, key) -> Counts:
        return Counts()


def counts_for(event_ids) -> CountsMap:
    """Confirmed seats and waitlist length of many events, in one query."""
    ids = list(event_ids)
    if not ids:
        return CountsMap()
    confirmed = func.coalesce(
        func.sum(Registration.seats).filter(Registration.state == RegistrationState.CONFIRMED), 0
    )
    waiting = func.count(Registration.id).filter(Registration.state == RegistrationState.WAITLISTED)
    rows = db.session.execute(
        select(Registration.event_id, confirmed, waiting)
        .where(Registration.event_id.in_(ids), Registration.state.in_(ACTIVE_STATES))
        .group_by(Registration.event_id)
    )
    return CountsMap({event_id: Counts(int(c), int(w)) for event_id, c, w in rows})


def confirmed_seats(event_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Registration.seats), 0)).where(
                Registration.event_id == event_id,
                Registration.state == RegistrationState.CONFIRMED,
            )
        )
    )


# Per process and database: (monotonic time read, seconds). Re-read every minute, and at once
# after this process creates or edits an event; a longer event created by another process while
# already running shows up in the listings within the minute.
_LONGEST: dict[str, tuple[float, float]] = {}
LONGEST_TTL = 60.0


def longest_event_seconds() -> float:
    """Duration in seconds of the longest event (one small query, cached a minute)."""
    bind = db.session.get_bind()
    key = str(bind.url)
    cached = _LONGEST.get(key)
    clock = time.monotonic()
    if cached and clock - cached[0] < LONGEST_TTL and not current_app.testing:
        return cached[1]
    if bind.dialect.name == "sqlite":
        span = (func.julianday(Event.ends_at) - func.julianday(Event.starts_at)) * 86400.0
    else:
        span = func.extract("epoch", Event.ends_at - Event.starts_at)
    seconds = float(db.session.scalar(select(func.max(span))) or 0) + 1.0
    _LONGEST[key] = (clock, seconds)
    return seconds


def forget_longest_event() -> None:
    _LONGEST.clear()


def listing_keys(past: bool) -> tuple[keyset.SortKey, ...]:
    """The order of the listings: soonest first, or for past events the most recent first."""
    return (
        keyset.SortKey(Event.starts_at, datetime, descending=past),
        keyset.SortKey(Event.id, int, descending=past),
    )


def page_after(query, past: bool, cursor: str) -> tuple[Select, int]:
    """``events_query`` resumed after an API cursor; the page number that cursor opens.

    Raises :class:`blagis.keyset.InvalidCursor` for a cursor this listing did not give.
    """
    keys = listing_keys(past)
    position = keyset.decode(cursor, _listing_tag(past), keys)
    return query.where(keyset.after(keys, position.values)), position.page


def cursor_after(event: Event, past: bool, next_page: int) -> str:
    """The API cursor of the page that follows the one ending with ``event``."""
    return keyset.encode(_listing_tag(past), next_page, listing_keys(past), event)


def _listing_tag(past: bool) -> str:
    return "past" if past else "upcoming"


def events_query(
    *,
    kind: str | None = None,
    commune: str | None = None,
    objective_codes: list[str] | None = None,
    past: bool = False,
    now: datetime | None = None,
):
    """A Select of events for the public listings (page, feed, API), soonest first."""
    now = now or utcnow()
    query = select(Event).options(selectinload(Event.partner))
    # The filters are on ends_at, the order on starts_at: each side also gets an exact bound
    # on starts_at so the database walks the starts_at index from the right place instead of
    # through every event of the other side (see docs/performance.md).
    if past:
        # ends_at > starts_at (a check constraint): a finished event started before now.
        query = query.where(Event.ends_at < now, Event.starts_at < now)
    else:
        # An event still running started at most the longest event's duration ago.
        floor = now - timedelta(seconds=longest_event_seconds())
        query = query.where(Event.ends_at >= now, Event.starts_at >= floor)
    query = query.order_by(*(key.order_by() for key in listing_keys(past)))
    if kind:
        query = query.where(Event.kind == kind)
    if commune:
        query = query.where(Event.commune_code == commune)
    if objective_codes is not None:
        linked = (
            select(event_objectives.c.event_id)
            .join(ObjectiveNode, ObjectiveNode.id == event_objectives.c.objective_id)
            .where(ObjectiveNode.code.in_(objective_codes))
        )
        query = query.where(Event.id.in_(linked))
    return query


def get_event(event_id: int, *, with_objectives: bool = True) -> Event | None:
    options = [selectinload(Event.partner)]
    if with_objectives:
        options.append(selectinload(Event.objectives))
    return db.session.scalar(select(Event).where(Event.id == event_id).options(*options))


def active_registration(event_id: int, user_id: int) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.user_id == user_id,
            Registration.state.in_(ACTIVE_STATES),
        )
    )


def waitlist(event_id: int) -> list[Registration]:
    """Waitlisted registrations in order of arrival."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.state == RegistrationState.WAITLISTED,
            )
            .options(selectinload(Registration.user))
            .order_by(Registration.created_at, Registration.id)
        )
    )


def waitlist_position(registration: Registration) -> int:
    """1 for the head of the queue."""
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.state == RegistrationState.WAITLISTED,
            or_(
                Registration.created_at < registration.created_at,
                (Registration.created_at == registration.created_at)
                & (Registration.id < registration.id),
            ),
        )
    )
    return int(ahead) + 1


def registrations_of(event_id: int) -> list[Registration]:
    """Every registration of an event for staff: active ones first, then in order of arrival."""
    rows = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id)
        .options(selectinload(Registration.user))
        .order_by(Registration.created_at, Registration.id)
    )
    order = {
        RegistrationState.CONFIRMED: 0,
        RegistrationState.WAITLISTED: 1,
        RegistrationState.CANCELLED: 2,
    }
    return sorted(rows, key=lambda r: order[r.state])


# The staff list of an event's registrations, by keyset pages (docs/events.md): in order of
# arrival, the id (each filter is served by the index (event_id, state, id)).
STAFF_LIST_KEYS = (keyset.SortKey(Registration.id, int),)
STAFF_LIST_TAG = "registrations"


@dataclass(frozen=True)
class StaffListing:
    """One page of an event's registrations for staff."""

    rows: list
    page: int
    total: int  # registrations matching the search and filter
    next_cursor: str | None


def staff_listing(
    event_id: int,
    *,
    q: str = "",
    state: RegistrationState | None = None,
    cursor: str = "",
    per_page: int = 50,
) -> StaffListing:
    """A page of the event's registrations matching ``q`` (a part of the name, the e-mail or
    the phone, any case) and ``state``; a cursor this list did not give opens the first page."""
    query = select(Registration).where(Registration.event_id == event_id)
    if state is not None:
        query = query.where(Registration.state == state)
    q = (q or "").strip().lower()
    if q:
        query = query.outerjoin(User, User.id == Registration.user_id).where(
            or_(
                *(
                    func.lower(column).contains(q, autoescape=True)
                    for column in (
                        Registration.name,
                        Registration.email,
                        Registration.phone,
                        User.display_name,
                        User.email,
                    )
                )
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = 1
    if cursor:
        try:
            position = keyset.decode(cursor, STAFF_LIST_TAG, STAFF_LIST_KEYS)
        except keyset.InvalidCursor:
            pass
        else:
            query = query.where(keyset.after(STAFF_LIST_KEYS, position.values))
            page = position.page
    rows = db.session.scalars(
        query.options(joinedload(Registration.user))
        .order_by(*(key.order_by() for key in STAFF_LIST_KEYS))
        .limit(per_page + 1)
    ).all()
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_cursor = keyset.encode(STAFF_LIST_TAG, page + 1, STAFF_LIST_KEYS, rows[-1])
    return StaffListing(list(rows), page, int(total), next_cursor)


def state_counts(event_id: int) -> dict[RegistrationState, int]:
    """How many registrations of the event are in each state (one grouped query)."""
    counts = dict.fromkeys(RegistrationState, 0)
    rows = db.session.execute(
        select(Registration.state, func.count(Registration.id))
        .where(Registration.event_id == event_id)
        .group_by(Registration.state)
    )
    for state, n in rows:
        counts[RegistrationState(state)] = int(n)
    return counts


def registrant_name(registration: Registration) -> str:
    if registration.user is not None:
        return registration.user.display_name
    # No account and no name: a deleted account, or contacts erased after the retention period.
    return registration.name or _("(name erased)")


# --- the lock --------------------------------------------------------------------------------


def lock_event(event_id: int) -> Event:
    """Load the event for a transaction that counts its seats, holding the lock until commit."""
    # The partner joined, not loaded after: one round trip fewer (FOR UPDATE locks only events).
    event = dbtuning.lock_row(db.session, Event, event_id, joinedload(Event.partner))
    if event is None:
        raise NotFoundError(_("This event does not exist."))
    return event


# --- mail --------------------------------------------------------------------------------------


def _recipient(registration: Registration) -> tuple[str | None, str, User | None]:
    """(address, locale, user): accounts in their language, people without one in French."""
    if registration.user is not None:
        return registration.user.email, registration.user.locale or "fr", registration.user
    return registration.email, "fr", None


def _sms_number(registration: Registration) -> str | None:
    """The number to text about ``registration``: only with consent, and SMS configured."""
    if not sms.configured():
        return None
    person = registration.user if registration.user is not None else registration
    return sms.consented_number(person.phone, person.sms_ok)


def _event_url(event: Event) -> str:
    return absolute_url("events.detail", event_id=event.id)


def _ics_attachment(event: Event) -> list | None:
    """The event's .ics as a mail attachment, or None (logged) when it cannot be built.

    The calendar file is a convenience: a failure to build it must never roll back the
    registration or the change that the mail is about, so the mail goes without it.
    """
    from blagis.events.ics import event_calendar

    try:
        return [(f"evenement-{event.id}.ics", "text/calendar", event_calendar(event))]
    except Exception:  # any fault of the calendar builder; the mail still goes
        current_app.logger.exception("event %s: the .ics attachment could not be built", event.id)
        return None


def _message_context(registration: Registration, event: Event) -> dict:
    return {
        "event": event,
        "registration": registration,
        "name": registrant_name(registration),
        "event_url": _event_url(event),
        "url": _event_url(event),
    }


def notify(registration: Registration, event: Event, template: str, *, with_ics=False, key=None):
    """Tell the person about ``registration``, once, by one channel: SMS when they agreed to
    it, otherwise e-mail when they have an address; with neither, a change (promotion, event
    cancelled or moved) puts them on the staff's call list (docs/notifications.md)."""
    address, locale, user = _recipient(registration)
    reason = REASON_OF_TEMPLATE.get(template)
    number = _sms_number(registration)
    if number:
        return sms.queue_sms(
            number,
            template,
            locale=locale,
            context=_message_context(registration, event),
            dedup_key=key,
            registration_id=registration.id,
            call_reason=reason,
        )
    if not address:
        if reason is not None:
            add_call(registration, event, reason)
        return None
    attachments = _ics_attachment(event) if with_ics else None
    return queue_mail(
        address,
        template,
        locale=locale,
        context=_message_context(registration, event),
        attachments=attachments,
        dedup_key=key,
        user=user,
    )


# --- registering -----------------------------------------------------------------------------


def _state_for(event: Event, seats: int) -> RegistrationState:
    """Confirmed if the seats fit and nobody waits before; otherwise waitlisted."""
    if event.capacity is None:
        return RegistrationState.CONFIRMED
    queue_length = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event.id,
            Registration.state == RegistrationState.WAITLISTED,
        )
    )
    if queue_length:
        return RegistrationState.WAITLISTED
    if confirmed_seats(event.id) + seats <= event.capacity:
        return RegistrationState.CONFIRMED
    return RegistrationState.WAITLISTED


def _check_seats(seats, maximum: int) -> int:
    if not isinstance(seats, int) or seats < 1 or seats > maximum:
        raise DomainError(
            _("Choose between 1 and %(max)d seats.", max=maximum),
            field="seats",
        )
    return seats


@dataclass
class RegisterResult:
    registration: Registration
    created: bool


def register(user: User, event_id: int, seats: int) -> RegisterResult:
    """A resident registers; a second request for the same event changes nothing."""
    event = lock_event(event_id)
    existing = active_registration(event.id, user.id)
    if existing is not None:
        return RegisterResult(existing, created=False)
    if event.cancelled:
        raise DomainError(_("This event is cancelled."))
    now = utcnow()
    if now >= event.starts_at:
        raise DomainError(_("This event has already started: registration is closed."))
    if event.registration_opens_at and now < event.registration_opens_at:
        raise DomainError(_("Registration is not open yet."))
    if event.registration_closes_at and now >= event.registration_closes_at:
        raise DomainError(_("Registration is closed."))
    _check_seats(seats, event.max_seats)
    registration = Registration(
        event_id=event.id,
        user_id=user.id,
        seats=seats,
        state=_state_for(event, seats),
        created_at=now,
    )
    db.session.add(registration)
    db.session.flush()
    registration.user = user
    _notify_new(registration, event)
    return RegisterResult(registration, created=True)


def _notify_new(registration: Registration, event: Event) -> None:
    if registration.state == RegistrationState.CONFIRMED:
        notify(registration, event, "registration_confirmed", with_ics=True)
    else:
        notify(registration, event, "registration_waitlisted")


def staff_register(
    actor: User,
    event_id: int,
    *,
    name: str,
    phone: str | None,
    email: str | None,
    seats: int,
    sms_ok: bool = False,
) -> Registration:
    """Staff register someone without an account (desk, phone); they count like anyone.

    ``sms_ok``: the person agreed to be sent SMS about it (then the number must be a mobile,
    and is kept in international form)."""
    event = lock_event(event_id)
    if event.cancelled:
        raise DomainError(_("This event is cancelled."))
    name = (name or "").strip()
    phone = (phone or "").strip() or None
    email = (email or "").strip().lower() or None
    if not name:
        raise DomainError(_("Enter the person's name."), field="name")
    if not phone and not email:
        raise DomainError(_("Enter a phone number or an e-mail address."), field="phone")
    if sms_ok:
        number = sms.consented_number(phone, True)
        if number is None:
            raise DomainError(_("SMS need a mobile phone number (06 or 07)."), field="phone")
        phone = number
    _check_seats(seats, MAX_SEATS_LIMIT)
    registration = Registration(
        event_id=event.id,
        name=name,
        phone=phone,
        email=email,
        sms_ok=bool(sms_ok),
        seats=seats,
        state=_state_for(event, seats),
        registered_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(registration)
    db.session.flush()
    audit.record(
        "registration.create_on_behalf",
        "registration",
        registration.id,
        actor=actor,
        after={
            "event_id": event.id,
            "seats": seats,
            "state": str(registration.state),
            "sms_ok": registration.sms_ok,
        },
        commune_code=event.commune_code,
    )
    _notify_new(registration, event)
    return registration


def promote_waitlist(event: Event) -> list[Registration]:
    """Confirm waitlisted people in order while their seats fit; the caller holds the lock.

    Strict order: a group that does not fit stops the promotion, nobody behind passes it
    (see docs/events.md).
    """
    promoted = []
    if event.cancelled:
        return promoted
    free = None if event.capacity is None else event.capacity - confirmed_seats(event.id)
    for registration in waitlist(event.id):
        if free is not None and registration.seats > free:
            break
        registration.state = RegistrationState.CONFIRMED
        registration.promoted_at = utcnow()
        if free is not None:
            free -= registration.seats
        promoted.append(registration)
    db.session.flush()
    for registration in promoted:
        notify(registration, event, "registration_promoted", with_ics=True)
    return promoted


def cancel_registration(user: User, event_id: int) -> Registration:
    """The registrant cancels (or leaves the waitlist) until the event starts."""
    event = lock_event(event_id)
    registration = active_registration(event.id, user.id)
    if registration is None:
        raise DomainError(_("You are not registered for this event."))
    if utcnow() >= event.starts_at:
        raise DomainError(_("The event has started: the registration can no longer be cancelled."))
    was_confirmed = registration.state == RegistrationState.CONFIRMED
    registration.state = RegistrationState.CANCELLED
    registration.cancelled_at = utcnow()
    registration.user = user
    db.session.flush()
    notify(registration, event, "registration_cancelled")
    if was_confirmed:
        promote_waitlist(event)
    return registration


def staff_cancel_registration(actor: User, registration_id: int) -> Registration:
    """Staff cancel a registration (someone phoned to say they cannot come)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise DomainError(_("This registration does not exist."))
    event = lock_event(registration.event_id)
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id)
        .options(selectinload(Registration.user))
        .execution_options(populate_existing=True)
    )
    if not registration.is_active:
        raise DomainError(_("This registration is already cancelled."))
    before = {"state": str(registration.state)}
    was_confirmed = registration.state == RegistrationState.CONFIRMED
    registration.state = RegistrationState.CANCELLED
    registration.cancelled_at = utcnow()
    db.session.flush()
    audit.record(
        "registration.cancel",
        "registration",
        registration.id,
        actor=actor,
        before=before,
        after={"state": "cancelled"},
        commune_code=event.commune_code,
    )
    notify(registration, event, "registration_cancelled")
    if was_confirmed:
        promote_waitlist(event)
    return registration


def set_attendance(actor: User, registration: Registration, present: bool) -> None:
    """Staff mark a person present or absent."""
    before = {"attended": registration.attended}
    registration.attended = present
    db.session.flush()
    audit.record(
        "registration.attendance",
        "registration",
        registration.id,
        actor=actor,
        before=before,
        after={"attended": present},
        commune_code=registration.event.commune_code,
    )


def set_drop_ins(actor: User, event: Event, count: int | None) -> None:
    """Staff record how many people walked in without registering."""
    if count is not None and (count < 0 or count > 100000):
        raise DomainError(_("Enter a number of people, 0 or more."), field="drop_in_count")
    before = {"drop_in_count": event.drop_in_count}
    event.drop_in_count = count
    db.session.flush()
    audit.record(
        "event.drop_ins",
        "event",
        event.id,
        actor=actor,
        before=before,
        after={"drop_in_count": count},
        commune_code=event.commune_code,
    )


# --- staff: events ---------------------------------------------------------------------------


def _check_event_data(data: dict) -> None:
    if data["ends_at"] <= data["starts_at"]:
        raise DomainError(_("The end must come after the start."), field="ends_at")
    capacity = data.get("capacity")
    if capacity is not None and capacity < 1:
        raise DomainError(_("At least 1 seat, or leave empty for no limit."), field="capacity")
    if not 1 <= data["max_seats"] <= MAX_SEATS_LIMIT:
        raise DomainError(_("Between 1 and %(max)d seats.", max=MAX_SEATS_LIMIT), field="max_seats")
    opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
    if opens and closes and closes <= opens:
        raise DomainError(
            _("Registration must close after it opens."), field="registration_closes_at"
        )
    if data.get("partner_id") is not None and db.session.get(Partner, data["partner_id"]) is None:
        raise DomainError(_("Choose an organiser from the list."), field="partner_id")


def _objective_nodes(codes, commune_code: str) -> list[ObjectiveNode]:
    """The nodes to link; those declined for another commune are refused (docs/events.md)."""
    codes = sorted(set(codes or []))
    if not codes:
        return []
    nodes = list(db.session.scalars(select(ObjectiveNode).where(ObjectiveNode.code.in_(codes))))
    if len(nodes) != len(codes):
        raise DomainError(_("Choose objectives from the list."), field="objectives")
    objectives.check_communes(nodes, commune_code)
    return nodes


def snapshot(event: Event) -> dict:
    """The audited state of an event (JSON-friendly)."""
    out = {}
    for name in EVENT_FIELDS + ("cancelled", "drop_in_count"):
        value = getattr(event, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
        if hasattr(value, "value"):
            out[name] = value.value
    return out


def series_dates(start: datetime, frequency: SeriesFrequency, until: date) -> list[datetime]:
    """Start times of a series in Paris wall-clock time (same hour across DST changes)."""
    local = start.astimezone(PARIS)
    dates = []
    n = 0
    while len(dates) < MAX_SERIES_DATES:
        try:
            candidate = _nth_date(local, frequency, n)
        except (OverflowError, ValueError):  # past year 9999
            break
        if candidate.date() > until:
            break
        dates.append(candidate.astimezone(start.tzinfo))
        n += 1
    return dates


def _nth_date(local: datetime, frequency: SeriesFrequency, n: int) -> datetime:
    """The n-th date after ``local`` (Paris time), the same wall-clock time."""
    naive = local.replace(tzinfo=None)
    if frequency == SeriesFrequency.WEEKLY:
        return (naive + timedelta(weeks=n)).replace(tzinfo=PARIS)
    month = local.month - 1 + n
    year, month = local.year + month // 12, month % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return naive.replace(year=year, month=month, day=day).replace(tzinfo=PARIS)


def create_event(
    actor: User,
    data: dict,
    objective_codes=None,
    *,
    frequency: SeriesFrequency | None = None,
    until: date | None = None,
) -> list[Event]:
    """Create an event, or one event per date of a weekly/monthly series."""
    _check_event_data(data)
    nodes = _objective_nodes(objective_codes, data["commune_code"])
    starts = [data["starts_at"]]
    series = None
    if frequency is not None:
        if until is None or until < data["starts_at"].astimezone(PARIS).date():
            raise DomainError(
                _("The last date must be on or after the first one."), field="repeat_until"
            )
        starts = series_dates(data["starts_at"], frequency, until)
        if len(starts) >= MAX_SERIES_DATES:
            raise DomainError(
                _("A series has at most %(n)d dates.", n=MAX_SERIES_DATES - 1),
                field="repeat_until",
            )
        series = EventSeries(frequency=frequency, until=until)
        db.session.add(series)
        db.session.flush()
    duration = data["ends_at"] - data["starts_at"]
    created = []
    for start in starts:
        shift = start - data["starts_at"]
        values = dict(data)
        values["starts_at"], values["ends_at"] = start, start + duration
        for key in ("registration_opens_at", "registration_closes_at"):
            if values.get(key):
                values[key] = values[key] + shift
        event = Event(**values, created_by_id=actor.id, series_id=series.id if series else None)
        event.objectives = list(nodes)
        db.session.add(event)
        created.append(event)
    db.session.flush()
    forget_longest_event()
    for event in created:
        audit.record(
            "event.create",
            "event",
            event.id,
            actor=actor,
            after={**snapshot(event), "objectives": [n.code for n in nodes]},
            commune_code=event.commune_code,
        )
    return created


def _apply(actor: User, event: Event, data: dict, nodes, cancelled: bool) -> None:
    """Change one locked event: bump SEQUENCE, tell registrants, promote if capacity rose."""
    before = {**snapshot(event), "objectives": [n.code for n in event.objectives]}
    old_capacity, was_cancelled, old_start = event.capacity, event.cancelled, event.starts_at
    for key, value in data.items():
        setattr(event, key, value)
    event.cancelled = cancelled
    event.objectives = list(nodes)
    after = {**snapshot(event), "objectives": [n.code for n in nodes]}
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return
    event.sequence += 1
    db.session.flush()
    forget_longest_event()
    audit.record(
        "event.cancel" if cancelled and not was_cancelled else "event.update",
        "event",
        event.id,
        actor=actor,
        before=before,
        after=after,
        commune_code=event.commune_code,
    )
    active = [r for r in registrations_of(event.id) if r.is_active]
    if cancelled and not was_cancelled:
        for registration in active:
            notify(registration, event, "event_cancelled")
        # Its volunteer missions go with it, their volunteers told (docs/volunteers.md).
        volunteering.cancel_event_missions(actor, event)
        return
    if event.starts_at != old_start and not event.cancelled:
        volunteering.move_event_missions(actor, event, event.starts_at - old_start)
    if changed & {"starts_at", "ends_at", "place"} and not event.cancelled:
        for registration in active:
            notify(
                registration,
                event,
                "event_changed",
                with_ics=registration.state == RegistrationState.CONFIRMED,
            )
    grew = old_capacity is not None and (event.capacity is None or event.capacity > old_capacity)
    if grew or (was_cancelled and not cancelled):
        promote_waitlist(event)


def update_event(
    actor: User,
    event_id: int,
    data: dict,
    objective_codes=None,
    *,
    cancelled: bool = False,
    whole_series: bool = False,
) -> list[Event]:
    """Edit one date, or every date of its series that has not started (each keeps its day)."""
    event = lock_event(event_id)
    _check_event_data(data)
    nodes = _objective_nodes(objective_codes, data["commune_code"])
    ids = [event.id]
    if whole_series and event.series_id is not None:
        ids += list(
            db.session.scalars(
                select(Event.id).where(
                    Event.series_id == event.series_id,
                    Event.id != event.id,
                    Event.starts_at > utcnow(),
                )
            )
        )
    targets = db.session.scalars(
        select(Event)
        .where(Event.id.in_(ids))
        .options(selectinload(Event.objectives), selectinload(Event.partner))
        .order_by(Event.starts_at, Event.id)
        .with_for_update(of=Event)
        .execution_options(populate_existing=True)
    ).all()
    # Time of day and duration of the edited date, applied to each date's own day.
    local_start = data["starts_at"].astimezone(PARIS)
    duration = data["ends_at"] - data["starts_at"]
    for target in targets:
        values = dict(data)
        if target.id != event.id:
            day = target.starts_at.astimezone(PARIS).date()
            start = datetime.combine(day, local_start.time(), tzinfo=PARIS).astimezone(
                data["starts_at"].tzinfo
            )
            shift = start - data["starts_at"]
            values["starts_at"], values["ends_at"] = start, start + duration
            for key in ("registration_opens_at", "registration_closes_at"):
                if values.get(key):
                    values[key] = values[key] + shift
        _apply(actor, target, values, nodes, cancelled)
    return list(targets)


# --- partners ------------------------------------------------------------------------------


def _duplicate_partner() -> DomainError:
    return DomainError(_("An organiser with this name already exists."), field="name")


def save_partner(actor: User, partner: Partner | None, name: str, website: str | None) -> Partner:
    """Create or rename an organiser; names are unique; the website is http(s) only."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter the organisation's name."), field="name")
    website = (website or "").strip() or None
    if website is not None and not is_http_url(website):
        raise DomainError(
            _("Enter a web address starting with https:// or http://."), field="website"
        )
    # Compared in Python: SQL lower() differs between databases (SQLite folds ASCII only), and
    # a name that SQL would not match yet the unique index refuses must not become a 500.
    # Organisers are a few dozen rows.
    folded = name.casefold()
    clash = next(
        (
            pid
            for pid, other in db.session.execute(select(Partner.id, Partner.name))
            if other.casefold() == folded
        ),
        None,
    )
    if clash is not None and (partner is None or clash != partner.id):
        raise _duplicate_partner()
    before = None
    try:
        with db.session.begin_nested():  # two staff members creating the same name at once
            if partner is None:
                partner = Partner(name=name, website=website or None)
                db.session.add(partner)
            else:
                before = {"name": partner.name, "website": partner.website}
                partner.name, partner.website = name, website or None
            db.session.flush()
    except IntegrityError:
        raise _duplicate_partner() from None
    audit.record(
        "partner.create" if before is None else "partner.update",
        "partner",
        partner.id,
        actor=actor,
        before=before,
        after={"name": partner.name, "website": partner.website},
    )
    return partner


def partners() -> list[Partner]:
    return list(db.session.scalars(select(Partner).order_by(func.lower(Partner.name))))


# --- reminders -------------------------------------------------------------------------------


def send_reminders(now: datetime | None = None, hours: int = 48) -> int:
    """Queue one reminder per active registration of events starting in the next ``hours``."""
    now = now or utcnow()
    events = db.session.scalars(
        select(Event).where(
            Event.starts_at > now,
            Event.starts_at <= now + timedelta(hours=hours),
            Event.cancelled.is_(False),
        )
    ).all()
    if not events:
        return 0
    by_id = {e.id: e for e in events}
    rows = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id.in_(list(by_id)),
            Registration.state.in_(ACTIVE_STATES),
            or_(
                Registration.user_id.is_not(None),
                and_(
                    or_(Registration.email.is_not(None), Registration.sms_ok.is_(True)),
                    Registration.reminders_ok.is_(True),
                ),
            ),
        )
        .options(selectinload(Registration.user))
        .order_by(Registration.id)
    )
    queued = 0
    for registration in rows:
        address, locale, user = _recipient(registration)
        event = by_id[registration.event_id]
        number = _sms_number(registration)
        if number:
            message = sms.queue_sms(
                number,
                "event_reminder",
                locale=locale,
                context=_message_context(registration, event),
                dedup_key=f"event-reminder:{registration.id}",
                category="reminder",
                user=user,
                registration=registration if user is None else None,
                registration_id=registration.id,
            )
        elif address:
            message = queue_mail(
                address,
                "event_reminder",
                locale=locale,
                context=_message_context(registration, event),
                dedup_key=f"event-reminder:{registration.id}",
                category="reminder",
                user=user,
                registration=registration if user is None else None,
            )
        else:
            continue
        queued += message is not None
    return queued


# --- indicators ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventIndicators:
    events: int = 0
    confirmed_seats: int = 0
    attended_seats: int = 0
    drop_ins: int = 0


def indicators(objective_codes: list[str], start: datetime, end: datetime) -> EventIndicators:
    """Activities linked to these objectives held in [start, end), not cancelled: how many,
    seats confirmed, seats of people marked present, and drop-in visitors (counted apart)."""
    if not objective_codes:
        return EventIndicators()
    linked = (
        select(event_objectives.c.event_id)
        .join(ObjectiveNode, ObjectiveNode.id == event_objectives.c.objective_id)
        .where(ObjectiveNode.code.in_(objective_codes))
    )
    held = (
        select(Event.id, Event.drop_in_count)
        .where(
            Event.id.in_(linked),
            Event.cancelled.is_(False),
            Event.starts_at >= start,
            Event.starts_at < end,
        )
        .subquery()
    )
    events, drop_ins = db.session.execute(
        select(func.count(held.c.id), func.coalesce(func.sum(held.c.drop_in_count), 0))
    ).one()
    confirmed, attended = db.session.execute(
        select(
            func.coalesce(func.sum(Registration.seats), 0),
            func.coalesce(func.sum(Registration.seats).filter(Registration.attended.is_(True)), 0),
        ).where(
            Registration.event_id.in_(select(held.c.id)),
            Registration.state == RegistrationState.CONFIRMED,
        )
    ).one()
    return EventIndicators(int(events), int(confirmed), int(attended), int(drop_ins))


# --- retention ---------------------------------------------------------------------------------


def purge_people_without_account(before: datetime) -> int:
    """Erase the name, phone and e-mail of people without an account registered for events that
    ended before ``before`` (retention); counts and attendance stay for the indicators."""
    ended = select(Event.id).where(Event.ends_at < before)
    rows = db.session.scalars(
        select(Registration).where(
            Registration.user_id.is_(None),
            Registration.event_id.in_(ended),
            or_(
                Registration.name.is_not(None),
                Registration.phone.is_not(None),
                Registration.email.is_not(None),
            ),
        )
    ).all()
    for row in rows:
        row.name, row.phone, row.email = None, None, None
    db.session.flush()
    return len(rows)


# --- personal data (blagis.privacy registries) --------------------------------------------------


def export_registrations(user: User) -> list:
    """My registrations, past and future (events I registered others to are staff work, in the
    audit log, and hold other people's data: not exported)."""
    rows = db.session.execute(
        select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.user_id == user.id)
        .order_by(Event.starts_at, Registration.id)
    ).all()
    return [
        {
            "event_id": event.id,
            "event": event.title,
            "starts_at": event.starts_at.isoformat(),
            "place": event.place,
            "commune": event.commune_code,
            "seats": registration.seats,
            "state": str(registration.state),
            "attended": registration.attended,
            "registered_at": registration.created_at.isoformat(),
            "cancelled_at": (
                registration.cancelled_at.isoformat() if registration.cancelled_at else None
            ),
        }
        for registration, event in rows
    ]


def erase_registrations(user: User) -> None:
    """Account deletion: registrations to events not started yet are cancelled (the waitlist
    is promoted, those promoted are told; the deleted person gets no mail); the others are
    detached from the account but keep their seats, state and attendance for the figures."""
    now = utcnow()
    upcoming = db.session.scalars(
        select(Registration.event_id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.user_id == user.id,
            Registration.state.in_(ACTIVE_STATES),
            Event.starts_at > now,
        )
    ).all()
    for event_id in sorted(set(upcoming)):
        event = lock_event(event_id)
        registration = active_registration(event.id, user.id)
        if registration is None:
            continue
        was_confirmed = registration.state == RegistrationState.CONFIRMED
        registration.state = RegistrationState.CANCELLED
        registration.cancelled_at = now
        db.session.flush()
        if was_confirmed:
            promote_waitlist(event)
    db.session.execute(
        update(Registration)
        .where(Registration.user_id == user.id)
        .values(user_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Registration)
        .where(Registration.registered_by_id == user.id)
        .values(registered_by_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Event)
        .where(Event.created_by_id == user.id)
        .values(created_by_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


privacy.register_exporter("registrations", export_registrations)
privacy.register_eraser(erase_registrations)
privacy.register_purger("registrations", purge_people_without_account)
