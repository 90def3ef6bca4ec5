"""Demo content spanning last year and this year, so that charts and the report have shapes.

Past activities (held, with registrations, attendance taken and drop-in counts), initiatives
answered in each year, and a few targets for this year. Deterministic: the same every run.
"""

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from blagis.extensions import db
from blagis.indicators import services
from blagis.initiatives.services import search_text_for
from blagis.models import (
    Event,
    EventKind,
    Initiative,
    InitiativeObjective,
    InitiativeStatusChange,
    ModerationState,
    ObjectiveNode,
    PublicStatus,
    Registration,
    RegistrationState,
    utcnow,
)
from blagis.objectives.services import linkable_codes
from blagis.timeutils import PARIS

# (title, kind, objective codes, commune, hour, place)
ACTIVITIES = [
    (
        "Café numérique",
        EventKind.CAFE_NUMERIQUE,
        ["4.7.2"],
        "sceaux",
        14,
        "Centre social et culturel des Blagis",
    ),
    (
        "Atelier informatique : mes démarches en ligne",
        EventKind.ATELIER,
        ["4.7.2", "2.2.1"],
        "bagneux",
        10,
        "Espace numérique de Bagneux",
    ),
    (
        "Café des bénévoles",
        EventKind.CAFE_BENEVOLES,
        ["4.4.1"],
        "sceaux",
        18,
        "Centre social et culturel des Blagis",
    ),
    (
        "Repair Café",
        EventKind.REPAIR_CAFE,
        ["4.6.1"],
        "bourg-la-reine",
        14,
        "Salle des fêtes de Bourg-la-Reine",
    ),
    (
        "Aide aux devoirs en petit groupe",
        EventKind.ATELIER,
        ["1.2.1", "1.1.1"],
        "sceaux",
        17,
        "Bibliothèque des Blagis",
    ),
    (
        "Groupe de parole des parents",
        EventKind.RENCONTRE,
        ["1.7.1"],
        "sceaux",
        19,
        "Centre social et culturel des Blagis",
    ),
    (
        "Marche bien-être au parc de Sceaux",
        EventKind.SORTIE,
        ["4.2.1", "4.5.1"],
        "sceaux",
        10,
        "Entrée du parc, grille d’honneur",
    ),
    (
        "Nocturne des Blagis",
        EventKind.RENCONTRE,
        ["3.3.2", "4.3.1"],
        "sceaux",
        19,
        "Place des Blagis",
    ),
    (
        "Atelier écogestes : réduire ses factures",
        EventKind.ATELIER,
        ["3.4.1"],
        "fontenay-aux-roses",
        14,
        "Maison de quartier des Paradis",
    ),
    (
        "Permanence Vallée Sud Emploi",
        EventKind.RENCONTRE,
        ["2.3.2"],
        "sceaux",
        9,
        "Centre social et culturel des Blagis",
    ),
]

WITHOUT_ACCOUNT = ["Mme Lemoine", "M. Diallo", "Mme Nguyen", "M. Moreau", "Mme Haddad"]

ANSWERED = [
    (
        "Des bancs le long de l’allée des Blagis",
        "sceaux",
        ["3.3.2"],
        PublicStatus.DONE,
        "Les bancs ont été installés au printemps.",
    ),
    (
        "Un atelier vélo pour les jeunes",
        "bagneux",
        ["2.1.3"],
        PublicStatus.ACCEPTED,
        "Le service Jeunesse lance l’atelier avec une association locale.",
    ),
    (
        "Ouvrir la salle informatique le samedi",
        "sceaux",
        ["4.7.2"],
        PublicStatus.IN_PROGRESS,
        "Une ouverture un samedi sur deux est à l’essai.",
    ),
    (
        "Un composteur au pied de la résidence",
        "fontenay-aux-roses",
        ["4.6.1"],
        PublicStatus.NOT_RETAINED,
        "Le bailleur installe un composteur collectif à 200 mètres.",
    ),
]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=PARIS)


def step(users: dict) -> dict:
    """Past activities of last year and this year, answered initiatives, targets."""
    rng = random.Random(2030)
    nodes = {n.code: n for n in db.session.scalars(select(ObjectiveNode))}
    now = utcnow()
    this_year = now.astimezone(PARIS).year
    people = [users[k] for k in ("habitant", "fatou", "marc", "resident.en", "benevole")]
    events = 0
    # Monthly dates from January last year until last week; more each month (a growing shape).
    for year in (this_year - 1, this_year):
        for month in range(1, 13):
            for index, (title, kind, codes, commune, hour, place) in enumerate(ACTIVITIES):
                if (index + month + year) % (3 if year < this_year else 2):
                    continue
                day = date(year, month, min(3 + index * 2, 28))
                start = _at(day, hour)
                if start > now - timedelta(days=7):
                    continue
                event = Event(
                    title=title,
                    description="",
                    kind=kind,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    place=place,
                    commune_code=commune,
                    capacity=20,
                    drop_in_count=rng.randint(0, 6),
                    created_by_id=users["agent.sceaux"].id,
                )
                event.objectives = [nodes[c] for c in linkable_codes(codes, commune, nodes)]
                db.session.add(event)
                db.session.flush()
                events += 1
                for person in rng.sample(people, rng.randint(1, len(people))):
                    db.session.add(
                        Registration(
                            event_id=event.id,
                            user_id=person.id,
                            seats=1,
                            state=RegistrationState.CONFIRMED,
                            attended=rng.random() < 0.8,
                            created_at=start - timedelta(days=5),
                        )
                    )
                for name in rng.sample(WITHOUT_ACCOUNT, rng.randint(0, 3)):
                    db.session.add(
                        Registration(
                            event_id=event.id,
                            name=name,
                            seats=rng.randint(1, 2),
                            state=RegistrationState.CONFIRMED,
                            attended=rng.random() < 0.7,
                            registered_by_id=users["agent.sceaux"].id,
                            created_at=start - timedelta(days=2),
                        )
                    )
    agent = users["agent.sceaux"]
    answered = 0
    for index, (title, commune, codes, status, answer) in enumerate(ANSWERED):
        year = this_year - 1 if index % 2 == 0 else this_year
        published = _at(date(year, 2 + index, 10), 9)
        if published > now:
            published = now - timedelta(days=30)
        initiative = Initiative(
            title=title,
            summary=title,
            body=title + ".",
            commune_code=commune,
            author_id=users["habitant"].id,
            state=ModerationState.PUBLISHED,
            status=status,
            search_text=search_text_for(title, title, title + "."),
            created_at=published - timedelta(days=1),
            published_at=published,
            answered_at=published + timedelta(days=20),
        )
        db.session.add(initiative)
        db.session.flush()
        for code in linkable_codes(codes, commune, nodes):
            db.session.add(
                InitiativeObjective(initiative_id=initiative.id, objective_id=nodes[code].id)
            )
        db.session.add(
            InitiativeStatusChange(
                initiative_id=initiative.id,
                status=status,
                answer=answer,
                actor_role=str(agent.role),
                actor_commune_code=agent.scope_commune_code,
                created_at=published + timedelta(days=20),
            )
        )
        answered += 1
    admin = users["admin"]
    for code, indicator, value in (
        ("4.7", "events", 12),
        ("4.7", "participants", 120),
        ("4.4", "events", 10),
        ("1", "participants", 60),
        ("3.4", "events", 4),
    ):
        services.set_target(admin, nodes[code], this_year, indicator, value)
    return {"past events": events, "answered initiatives": answered, "targets": 5}
