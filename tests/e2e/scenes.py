"""Data the browser tests need, made through the real services (so audit entries and mail
are there too), committed before the page is opened: the live server shares the database.

Each function takes the session's ``app`` and the ``make_user`` factory (and, for the
account pages, the logged-in user) and returns what the page needs (usually an id).
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blagis.extensions import db
from blagis.models import Event, EventKind, OutboxMessage, OutboxStatus, User, utcnow

SUMMARY = "Cultiver ensemble des légumes entre voisins, au pied des immeubles."
BODY = (
    "Nous proposons des bacs de culture dans la cour de la résidence.\n\n"
    "Plus d’informations : https://example.org/potager."
)


def _staff(make_user) -> User:
    return make_user(role="staff", scope="sceaux", name="Agente de Sceaux")


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def initiative(app, make_user, *, author=None, state="published", title=None, **answer) -> int:
    """An initiative through the services: proposed, then moderated by staff (``state``:
    pending, published, changes_requested, rejected); ``answer=(status, text)`` publishes an
    official answer, ``objectives=[codes]`` links objectives, ``supporters=n`` adds supports,
    ``reported=True`` adds a report."""
    from blagis.initiatives import services

    author = author or make_user(name="Awa Diallo")
    staff = _staff(make_user) if state != "pending" else None
    supporters = [make_user() for _ in range(answer.pop("supporters", 0))]
    reporter = make_user() if answer.pop("reported", False) else None
    with app.test_request_context():
        item = services.propose(
            _user(author.id),
            title=title or "Un potager partagé au pied des immeubles",
            summary=SUMMARY,
            body=BODY,
            commune="sceaux",
        )
        db.session.flush()
        if state == "published":
            services.moderate(_user(staff.id), item, "publish", None)
        elif state == "changes_requested":
            reason = "Précisez la cour concernée et le nombre de bacs."
            services.moderate(_user(staff.id), item, "request_changes", reason)
        elif state == "rejected":
            services.moderate(_user(staff.id), item, "reject", "Hors du périmètre du contrat.")
        if "status" in answer:
            services.set_status(_user(staff.id), item, answer["status"], answer["text"])
        if "objectives" in answer:
            services.set_objectives(_user(staff.id), item, answer["objectives"])
        for supporter in supporters:
            services.toggle_support(_user(supporter.id), item)
        if reporter:
            services.report(_user(reporter.id), item, "Le texte contient un numéro de téléphone.")
        db.session.commit()
        return item.id


def published_initiative(app, make_user) -> int:
    """A published initiative with everything on its page: an official answer, objectives,
    supports and a report."""
    return initiative(
        app,
        make_user,
        status="under_study",
        text="Le service des espaces verts étudie la faisabilité avec le bailleur.",
        objectives=["1", "1.1.1"],
        supporters=2,
        reported=True,
    )


def initiatives(app, make_user, user=None) -> None:
    """A list with several states and statuses (and one awaiting moderation)."""
    published_initiative(app, make_user)
    initiative(app, make_user, title="Une boîte à livres devant l’école")
    initiative(app, make_user, state="pending", title="Des bancs le long de l’allée")


def event(
    app,
    make_user=None,
    *,
    capacity=10,
    max_seats=2,
    title="Atelier cuisine du monde",
    kind=EventKind.ATELIER,
    days=3,
) -> int:
    start = utcnow().replace(microsecond=0) + timedelta(days=days)
    with app.app_context():
        item = Event(
            title=title,
            description="Chacun apporte une recette de chez lui.\n\nTablier fourni.",
            kind=kind,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place="Centre social des Blagis, 1 rue des Blagis",
            commune_code="sceaux",
            capacity=capacity,
            max_seats=max_seats,
        )
        db.session.add(item)
        db.session.commit()
        return item.id


def register(app, user, event_id: int, seats: int = 1):
    from blagis.events import services

    with app.test_request_context():
        result = services.register(_user(user.id), event_id, seats)
        db.session.commit()
        return result.registration.id


def full_event(app, make_user, user=None) -> int:
    """A workshop with no place left and a waiting list (``user`` on it, if given)."""
    event_id = event(app, capacity=2, max_seats=1, title="Atelier réparation de vélos")
    for _ in range(2):
        register(app, make_user(), event_id)
    register(app, make_user(), event_id)
    if user is not None:
        register(app, user, event_id)
    return event_id


def event_with_registrations(app, make_user) -> int:
    """An event whose attendance page shows every kind of row: present, absent, not yet
    marked, registered at the desk (no account), waitlisted, cancelled."""
    from blagis.events import services
    from blagis.models import Registration

    event_id = event(app, capacity=4, max_seats=2)
    staff = _staff(make_user)
    people = [make_user(name=n) for n in ("Fatou Sow", "Marc Leroy", "Inès Martin", "Jo Petit")]
    ids = [register(app, people[0], event_id, 2), register(app, people[1], event_id)]
    with app.test_request_context():
        actor = _user(staff.id)
        walk_in = services.staff_register(
            actor, event_id, name="Mme Nguyen", phone="06 12 34 56 78", email=None, seats=1
        )
        db.session.flush()
        for registration_id, present in zip(ids, (True, False), strict=True):
            registration = db.session.get(
                Registration, registration_id, options=[joinedload(Registration.event)]
            )
            services.set_attendance(actor, registration, present)
        db.session.commit()
        assert walk_in.id
    register(app, people[2], event_id)  # waitlisted: the event is full
    cancelled = register(app, people[3], event_id)
    with app.test_request_context():
        services.staff_cancel_registration(_user(staff.id), cancelled)
        db.session.commit()
    return event_id


def events(app, make_user, user=None) -> None:
    """The list: an open workshop, a full one with a waiting list, a cancelled one."""
    event(app, title="Café numérique : vos démarches en ligne", kind=EventKind.CAFE_NUMERIQUE)
    full_event(app, make_user)
    cancelled = event(app, title="Sortie au parc de Sceaux", kind=EventKind.SORTIE, days=5)
    with app.app_context():
        db.session.get(Event, cancelled).cancelled = True
        db.session.commit()


def partner(app, make_user, user=None) -> int:
    from blagis.events import services

    staff = _staff(make_user)
    with app.test_request_context():
        services.save_partner(_user(staff.id), None, "Centre social des Blagis", None)
        item = services.save_partner(
            _user(staff.id), None, "Association Vélo Solidaire", "https://velo.example.org"
        )
        db.session.commit()
        return item.id


def account(app, make_user, user) -> None:
    """« Mon compte » full: registrations (confirmed, waitlisted) and initiatives in every
    state, with the moderators' reason."""
    register(app, user, event(app), 2)
    full_event(app, make_user, user)
    past_event(app, make_user, user)
    initiative(app, make_user, author=user, state="pending", title="Des bancs le long de l’allée")
    initiative(app, make_user, author=user, state="changes_requested")
    initiative(app, make_user, author=user, title="Une boîte à livres devant l’école")


def audit_and_outbox(app, make_user, user=None) -> None:
    """Staff actions (audit log) and mail in every state (outbox), one of them failed."""
    event_with_registrations(app, make_user)
    published_initiative(app, make_user)
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        messages[1].status, messages[1].sent_at = OutboxStatus.SENT, utcnow()
        message = messages[0]
        message.status = OutboxStatus.FAILED
        message.attempts = 5
        message.last_error = "550 5.1.1 mailbox unavailable"
        db.session.commit()


def my_initiative(app, make_user, user) -> int:
    """The logged-in person's initiative, sent back by the moderators with their request."""
    return initiative(app, make_user, author=user, state="changes_requested")


def targets(app, make_user, user=None) -> None:
    """This year's territory-wide targets on theme 1: one not reached yet, one reached."""
    from blagis.indicators import services
    from blagis.objectives.services import get_node

    staff = make_user(role="staff", scope=None, name="Agent du territoire")
    year = services.current_year()
    with app.test_request_context():
        node = get_node("1")
        services.set_target(_user(staff.id), node, year, "events", 12)
        services.set_target(_user(staff.id), node, year, "initiatives", 0)
        db.session.commit()


def desks(app, make_user, user=None) -> None:
    """The demo desks of the four communes (two in Sceaux), written as an agent would."""
    from blagis.contact.demo import DESKS, SERVICES
    from blagis.contact.services import save_desk

    admin = make_user(role="admin", commune=None, name="Administratrice")
    with app.test_request_context():
        for desk in DESKS:
            save_desk(_user(admin.id), None, {"services": SERVICES, "position": 0, **desk})
        db.session.commit()


def past_event(app, make_user=None, user=None) -> int:
    """A workshop that took place last week (``user`` was registered and came)."""
    from blagis.models import Registration, RegistrationState

    event_id = event(app, title="Atelier couture", days=-7)
    if user is not None:
        with app.app_context():
            db.session.add(
                Registration(
                    event_id=event_id,
                    user_id=user.id,
                    seats=1,
                    state=RegistrationState.CONFIRMED,
                    attended=True,
                )
            )
            db.session.commit()
    return event_id


def attestation(app, make_user, user=None) -> int:
    """A volunteer attestation of two served missions, the first issued by an agent."""
    from blagis.models import Mission, MissionSignup, SignupState
    from blagis.volunteers.attestations import issue

    desks(app, make_user)
    volunteer = user or make_user(role="volunteer", name="Samira Benali")
    staff = _staff(make_user)
    with app.test_request_context():
        for days, title in ((20, "Accueil du café des bénévoles"), (6, "Repair café : accueil")):
            start = utcnow().replace(microsecond=0) - timedelta(days=days)
            mission = Mission(
                title=title,
                starts_at=start,
                ends_at=start + timedelta(hours=2, minutes=30),
                needed=2,
                commune_code="sceaux",
                place="Centre social des Blagis",
            )
            db.session.add(mission)
            db.session.flush()
            db.session.add(
                MissionSignup(
                    mission_id=mission.id,
                    user_id=volunteer.id,
                    state=SignupState.CONFIRMED,
                    attended=True,
                )
            )
        db.session.flush()
        item = issue(_user(staff.id), _user(volunteer.id), full_name="Samira Benali")
        db.session.commit()
        return item.id


def attestation_code(app, make_user, user=None) -> str:
    from blagis.models import Attestation
    from blagis.volunteers.attestations import format_code

    attestation_id = attestation(app, make_user)
    with app.app_context():
        return format_code(db.session.get(Attestation, attestation_id).code)
