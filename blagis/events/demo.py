"""Demo content of events: partners and a month of activities, with registrations."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from blagis.events import services
from blagis.extensions import db
from blagis.models import (
    Event,
    ObjectiveNode,
    Registration,
    RegistrationState,
    SeriesFrequency,
    utcnow,
)
from blagis.objectives.services import linkable_codes
from blagis.timeutils import PARIS

PARTNERS = [
    ("Centre social et culturel des Blagis", "https://www.sceaux.fr"),
    ("Espace numérique de Bagneux", None),
    ("Repair Café Sceaux – Bourg-la-Reine", None),
    ("CAF des Hauts-de-Seine", "https://www.caf.fr"),
    ("Vallée Sud Emploi", "https://www.valleesud.fr"),
    ("Hauts-de-Seine Habitat", None),
    ("Association Les Jardins partagés des Blagis", None),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _next(weekday: int, today: date) -> date:
    """The next given weekday (0 = Monday), tomorrow at the earliest."""
    delta = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=delta)


def step(users: dict) -> dict:
    """Partners, a month of events (cafés, ateliers, sortie…) and a few registrations."""
    admin, agent = users["admin"], users["agent.sceaux"]
    partners = {}
    for name, website in PARTNERS:
        partners[name] = services.save_partner(admin, None, name, website)
    codes = {n.code: n for n in db.session.scalars(select(ObjectiveNode))}
    today = utcnow().astimezone(PARIS).date()

    def make(actor, start, hours, **values):
        objectives = values.pop("objectives", [])
        frequency = values.pop("frequency", None)
        until = values.pop("until", None)
        data = {
            "description": "",
            "partner_id": None,
            "capacity": None,
            "max_seats": 1,
            "registration_opens_at": None,
            "registration_closes_at": None,
            **values,
            "starts_at": start,
            "ends_at": start + timedelta(hours=hours),
        }
        # Nodes declined for another commune cannot be linked: their axis instead.
        objectives = linkable_codes(objectives, values["commune_code"], codes)
        return services.create_event(actor, data, objectives, frequency=frequency, until=until)

    month_end = today + timedelta(days=31)
    cafe = make(
        agent,
        _at(_next(3, today), 9),
        2,
        title="Café des bénévoles",
        description=(
            "Un café, des viennoiseries et les nouvelles du quartier : venez rencontrer les "
            "bénévoles, proposer un coup de main ou simplement faire connaissance."
        ),
        kind="cafe_benevoles",
        place="Centre social et culturel des Blagis, 2 rue des Imbergères",
        commune_code="sceaux",
        partner_id=partners["Centre social et culturel des Blagis"].id,
        objectives=["4.4.1"],
        frequency=SeriesFrequency.WEEKLY,
        until=month_end,
    )
    numerique = make(
        users["agent"],
        _at(_next(1, today), 14),
        2,
        title="Café numérique : démarches en ligne",
        description=(
            "Créer son compte Ameli, déclarer ses ressources à la CAF, envoyer un document "
            "depuis son téléphone : un conseiller numérique vous accompagne pas à pas. Apportez "
            "votre téléphone ou votre ordinateur portable."
        ),
        kind="cafe_numerique",
        place="Espace numérique, 10 avenue Henri-Barbusse",
        commune_code="bagneux",
        partner_id=partners["Espace numérique de Bagneux"].id,
        capacity=8,
        objectives=["4.7.2", "2.2"],
        frequency=SeriesFrequency.WEEKLY,
        until=month_end,
    )
    repair = make(
        agent,
        _at(_next(5, today) + timedelta(days=7), 14),
        3,
        title="Repair café",
        description=(
            "Grille-pain en panne, ourlet décousu, vélo qui grince ? Des bénévoles bricoleurs "
            "vous aident à réparer vous-même vos objets plutôt que de les jeter."
        ),
        kind="repair_cafe",
        place="Salle des Blagis, 4 rue des Blagis",
        commune_code="sceaux",
        partner_id=partners["Repair Café Sceaux – Bourg-la-Reine"].id,
        capacity=15,
        objectives=["4.6.1"],
    )
    cuisine = make(
        agent,
        _at(_next(2, today), 14, 30),
        2.5,
        title="Atelier cuisine en famille : goûters de saison",
        description=(
            "Parents et enfants préparent ensemble des goûters simples et bon marché avec les "
            "fruits de saison. Jusqu’à 4 places par famille."
        ),
        kind="atelier",
        place="Cuisine pédagogique du centre social, 2 rue des Imbergères",
        commune_code="sceaux",
        partner_id=partners["CAF des Hauts-de-Seine"].id,
        capacity=6,
        max_seats=4,
        objectives=["1.7", "4.2"],
    )
    emploi = make(
        users["agent"],
        _at(_next(4, today) + timedelta(days=7), 10),
        2,
        title="Atelier CV et entretien d’embauche (16-25 ans)",
        description=(
            "Refaire son CV, préparer un entretien : avec une conseillère Vallée Sud Emploi."
        ),
        kind="atelier",
        place="Point information jeunesse, 5 place de la République",
        commune_code="fontenay-aux-roses",
        partner_id=partners["Vallée Sud Emploi"].id,
        capacity=10,
        objectives=["2.3.2"],
    )
    sortie = make(
        agent,
        _at(_next(5, today) + timedelta(days=14), 13, 30),
        4,
        title="Sortie au musée du quai Branly",
        description=(
            "Visite guidée en petit groupe, transport en RER compris. Rendez-vous devant le "
            "centre social. Sur inscription, places limitées."
        ),
        kind="sortie",
        place="Départ : centre social des Blagis",
        commune_code="sceaux",
        partner_id=partners["Centre social et culturel des Blagis"].id,
        capacity=3,
        max_seats=2,
        registration_closes_at=_at(_next(5, today) + timedelta(days=12), 18),
        objectives=["4.1.1"],
    )
    rencontre = make(
        users["agent"],
        _at(_next(1, today) + timedelta(days=14), 18, 30),
        2,
        title="Rencontre avec le bailleur : travaux de ravalement",
        description=(
            "Calendrier des travaux, questions des locataires, visite d’un logement témoin."
        ),
        kind="rencontre",
        place="Salle polyvalente, résidence des Blagis",
        commune_code="bourg-la-reine",
        partner_id=partners["Hauts-de-Seine Habitat"].id,
        objectives=["3.2.1"],
    )
    past = make(
        agent,
        _at(today - timedelta(days=6), 10),
        3,
        title="Atelier jardinage : semis d’automne",
        kind="atelier",
        place="Jardin partagé des Blagis",
        commune_code="sceaux",
        partner_id=partners["Association Les Jardins partagés des Blagis"].id,
        capacity=12,
        objectives=["3.5", "4.6"],
    )
    db.session.flush()

    def reg(event: Event, user=None, seats=1, state=RegistrationState.CONFIRMED, **person):
        row = Registration(
            event_id=event.id,
            user_id=user.id if user else None,
            seats=seats,
            state=state,
            registered_by_id=None if user else agent.id,
            **person,
        )
        db.session.add(row)
        return row

    count = 0
    for event, people in (
        (cafe[0], [users["benevole"], users["habitant"], users["marc"]]),
        (numerique[0], [users["fatou"], users["marc"], users["habitant"]]),
        (repair[0], [users["habitant"], users["resident.en"]]),
        (emploi[0], [users["fatou"]]),
    ):
        for person in people:
            reg(event, person)
            count += 1
    reg(cuisine[0], users["fatou"], seats=3)
    reg(cuisine[0], name="Mme Nadia Benali", phone="06 12 34 56 78", seats=3)
    reg(cuisine[0], users["habitant"], seats=2, state=RegistrationState.WAITLISTED)
    reg(sortie[0], users["marc"], seats=2)
    reg(sortie[0], name="M. Gérard Petit", phone="01 46 60 00 00")
    reg(sortie[0], users["resident.en"], state=RegistrationState.WAITLISTED)
    reg(rencontre[0], users["habitant"])
    for person, attended in ((users["habitant"], True), (users["benevole"], True)):
        reg(past[0], person).attended = attended
    reg(past[0], name="Mme Louise Garnier", phone="06 98 76 54 32").attended = False
    past[0].drop_in_count = 9
    count += 11
    created = [*cafe, *numerique, *repair, *cuisine, *emploi, *sortie, *rencontre, *past]
    return {"partners": len(partners), "events": len(created), "registrations": count}
