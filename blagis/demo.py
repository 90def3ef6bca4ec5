"""Demo content: what a visitor of the demo site should find, in every domain.

Each domain adds a step to ``steps()``; a step takes the accounts made here and returns a
mapping of what it created, for the command's summary.
"""

from sqlalchemy import select

from blagis.auth.services import count_users, create_user
from blagis.extensions import db
from blagis.models import Commune, Role
from blagis.objectives.services import load_contract

DEMO_PASSWORD = "demo-blagis-2030"  # noqa: S105 - documented demo accounts only

ACCOUNTS = [
    ("admin@blagis.example", "Admin Blagis", Role.ADMIN, None, None),
    ("agent.sceaux@blagis.example", "Agent Sceaux", Role.STAFF, "sceaux", "sceaux"),
    ("agent@blagis.example", "Agent territorial", Role.STAFF, "bagneux", None),
    ("benevole@blagis.example", "Samira", Role.VOLUNTEER, "sceaux", None),
    ("habitant@blagis.example", "Jean", Role.RESIDENT, "sceaux", None),
    ("resident.en@blagis.example", "Emma", Role.RESIDENT, "bourg-la-reine", None),
    ("fatou@blagis.example", "Fatou", Role.RESIDENT, "bagneux", None),
    ("marc@blagis.example", "Marc", Role.RESIDENT, "fontenay-aux-roses", None),
]


def steps() -> list:
    """Each domain's demo step, in the order they depend on each other."""
    from blagis.contact.demo import step as desks
    from blagis.events.demo import step as events
    from blagis.indicators.demo import step as indicators
    from blagis.initiatives.demo import step as initiatives
    from blagis.mail.demo import step as mail
    from blagis.volunteers.demo import step as volunteers

    return [desks, initiatives, events, mail, volunteers, indicators]


def create_demo(if_empty: bool = False) -> dict | None:
    """Create the demo accounts then run every domain's step; None when skipped."""
    if if_empty and count_users() > 0:
        return None
    if db.session.scalar(select(Commune.code).limit(1)) is None:
        load_contract()
    users = {}
    for email, name, role, commune, scope in ACCOUNTS:
        user = create_user(
            email,
            name,
            DEMO_PASSWORD,
            role=role,
            commune_code=commune,
            locale="en" if email.startswith("resident.en") else "fr",
        )
        user.scope_commune_code = scope
        users[email.split("@")[0]] = user
    db.session.flush()
    created = {"accounts": len(users)}
    for step in steps():
        created.update(step(users) or {})
        db.session.flush()
    return created
