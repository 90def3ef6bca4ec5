"""Demo: missions for the cafés des bénévoles, a standalone mission, a volunteer's hours."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from blagis.extensions import db
from blagis.models import Event, EventKind, utcnow
from blagis.timeutils import PARIS
from blagis.volunteers import services

CAFE_MISSIONS = [
    # (title, description, minutes from the café's start, duration in minutes, needed, skill)
    (
        "Préparation de la salle",
        "Installer les tables, lancer le café, disposer les viennoiseries.",
        -45,
        45,
        2,
        "logistique",
    ),
    (
        "Accueil des participants",
        "Accueillir chacun à l'entrée, présenter le café aux nouveaux venus.",
        0,
        120,
        2,
        "accueil",
    ),
    (
        "Animation du tour de table",
        "Lancer la discussion : nouvelles des projets, besoins de coups de main, idées.",
        15,
        90,
        1,
        "animation",
    ),
    ("Rangement", "Ranger la salle et faire la vaisselle.", 120, 30, 2, None),
]


def step(users: dict) -> dict:
    """Missions on the next cafés des bénévoles, one standalone mission, one past mission."""
    agent = users["agent.sceaux"]
    cafes = db.session.scalars(
        select(Event)
        .where(Event.kind == EventKind.CAFE_BENEVOLES, Event.starts_at > utcnow())
        .order_by(Event.starts_at)
        .limit(4)
    ).all()
    missions = []
    for cafe in cafes:
        for title, description, offset, minutes, needed, skill in CAFE_MISSIONS:
            start = cafe.starts_at + timedelta(minutes=offset)
            missions.append(
                services.create_mission(
                    agent,
                    {
                        "title": title,
                        "description": description,
                        "starts_at": start,
                        "ends_at": start + timedelta(minutes=minutes),
                        "needed": needed,
                        "required_skill": skill,
                        "place": cafe.place,
                        "commune_code": cafe.commune_code,
                    },
                    cafe,
                )
            )
    day = utcnow().astimezone(PARIS).date() + timedelta(days=9)
    start = datetime.combine(day, time(14), tzinfo=PARIS)
    missions.append(
        services.create_mission(
            users["agent"],
            {
                "title": "Distribution de l'épicerie solidaire",
                "description": (
                    "Aider à la distribution des colis : accueil des familles, préparation "
                    "des paniers, rangement."
                ),
                "starts_at": start,
                "ends_at": start + timedelta(hours=3),
                "needed": 4,
                "required_skill": None,
                "place": "Épicerie solidaire, 12 avenue Henri-Barbusse",
                "commune_code": "bagneux",
            },
        )
    )
    past_start = datetime.combine(day - timedelta(days=40), time(9), tzinfo=PARIS)
    past = services.create_mission(
        agent,
        {
            "title": "Accueil du forum des associations",
            "description": "Orienter les visiteurs vers les stands.",
            "starts_at": past_start,
            "ends_at": past_start + timedelta(hours=3),
            "needed": 3,
            "required_skill": "accueil",
            "place": "Gymnase des Blagis",
            "commune_code": "sceaux",
        },
    )
    benevole = users["benevole"]
    services.save_profile(
        benevole,
        skills=["accueil", "cuisine", "animation"],
        skills_other="Je parle arabe et anglais.",
        availability=["sat-morning", "wed-afternoon", "fri-morning", "thu-morning"],
        contact_ok=True,
    )
    services.save_profile(
        users["fatou"],
        skills=["cuisine", "logistique"],
        skills_other="",
        availability=["sat-morning", "sun-morning"],
        contact_ok=True,
    )
    db.session.flush()
    signups = 0
    # The past mission: Samira came (3 hours on her certificate).
    from blagis.models import MissionSignup, SignupState

    row = MissionSignup(
        mission_id=past.id,
        user_id=benevole.id,
        state=SignupState.CONFIRMED,
        created_at=past_start - timedelta(days=10),
    )
    db.session.add(row)
    db.session.flush()
    services.set_attendance(agent, past, benevole.id, True)
    accueil = [m for m in missions if m.title == "Accueil des participants"]
    if accueil:
        services.signup(benevole, accueil[0].id)
        signups += 1
    return {"missions": len(missions) + 1, "mission_signups": signups + 1}
